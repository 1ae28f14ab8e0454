import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { OutputFormat } from '@atelier/contracts';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineRequest, ReferenceImage } from '#src/adapters/providers/engine.ts';
import { createOfflineEngine, offlineRequestId } from './offline-engine.ts';
import type { Rect } from './reference-layout.ts';
import { referenceLayout } from './reference-render.ts';

const engine = createOfflineEngine();

function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return { engineModel: 'offline', prompt: 'a calm collage', width: 512, height: 512, seed: 7, outputFormat: 'png', idempotencyKey: 'gen_1', references: [], parameters: {}, webhookUrl: null, ...overrides };
}

async function render(overrides: Partial<EngineRequest> = {}): Promise<Buffer> {
  const req = request(overrides);
  const status = await engine.poll(await engine.submit(req), req);
  if (status.state !== 'ready' || status.result.kind !== 'bytes') throw new Error(`expected a ready bytes result, got ${JSON.stringify(status)}`);
  return engine.fetchResult(status.result);
}

async function solid(hex: string, width = 320, height = 240, format: OutputFormat = 'png'): Promise<ReferenceImage> {
  const image = sharp({ create: { width, height, channels: 3, background: hex } });
  const bytes = await (format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 95 }) : image.webp({ lossless: true })).toBuffer();
  return { bytes, format, width, height };
}

/** A reference made of `bands` of colour, stacked top to bottom (or left to right). */
async function bands(width: number, height: number, colours: readonly [string, number][], direction: 'vertical' | 'horizontal'): Promise<ReferenceImage> {
  let at = 0;
  const rects = colours.map(([colour, share]) => {
    const start = at;
    at += share;
    return direction === 'vertical'
      ? `<rect x="0" y="${start * height}" width="${width}" height="${share * height}" fill="${colour}"/>`
      : `<rect x="${start * width}" y="0" width="${share * width}" height="${height}" fill="${colour}"/>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects.join('')}</svg>`;
  return { bytes: await sharp(Buffer.from(svg)).removeAlpha().png().toBuffer(), format: 'png', width, height };
}

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function raw(bytes: Buffer): Promise<Raw> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

type Region = { x0: number; y0: number; x1: number; y1: number }; // fractions of the image

/** Mean [r, g, b] over a region given in pixels. */
function meanRgbPx(img: Raw, r: Rect): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = (y * img.width + x) * 3;
      for (let c = 0; c < 3; c++) sum[c]! += img.data[i + c] ?? 0;
      n++;
    }
  }
  return sum.map((s) => s / n) as [number, number, number];
}

function minLuma(img: Raw, r: Rect): number {
  let min = 255;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = (y * img.width + x) * 3;
      min = Math.min(min, luma([img.data[i] ?? 0, img.data[i + 1] ?? 0, img.data[i + 2] ?? 0]));
    }
  }
  return min;
}

function meanRgb(img: Raw, r: Region): [number, number, number] {
  const x = Math.floor(r.x0 * img.width);
  const y = Math.floor(r.y0 * img.height);
  return meanRgbPx(img, { x, y, width: Math.floor(r.x1 * img.width) - x, height: Math.floor(r.y1 * img.height) - y });
}

function meanDiff(a: Raw, b: Raw, r: Region): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.floor(r.y0 * a.height); y < Math.floor(r.y1 * a.height); y++) {
    for (let x = Math.floor(r.x0 * a.width); x < Math.floor(r.x1 * a.width); x++) {
      const i = (y * a.width + x) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs((a.data[i + c] ?? 0) - (b.data[i + c] ?? 0));
      n += 3;
    }
  }
  return sum / n;
}

const luma = ([r, g, b]: readonly number[]): number => 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
const hexRgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const distance = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? 0))));

const WHOLE: Region = { x0: 0, y0: 0, x1: 1, y1: 1 };
const CENTRE: Region = { x0: 0.2, y0: 0.3, x1: 0.8, y1: 0.7 };
const TOP_BAND: Region = { x0: 0, y0: 0, x1: 1, y1: 0.12 };
const TOP_LEFT: Region = { x0: 0, y0: 0, x1: 0.06, y1: 0.06 };
const MARK: Region = { x0: 0.8, y0: 0.94, x1: 1, y1: 1 };

/** Ten well-separated colours (Sasha Trubetskoy's list). */
const COLOURS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#008080'] as const;

/** Asserts each panel's centre shows its own reference's colour, and no other. */
async function expectPanelsInOrder(bytes: Buffer, refs: readonly ReferenceImage[], colours: readonly string[], req: EngineRequest): Promise<void> {
  const img = await raw(bytes);
  const layout = referenceLayout(refs, { width: req.width, height: req.height, seed: req.seed ?? 0 });
  expect(layout.panels).toHaveLength(refs.length);
  layout.panels.forEach((panel, i) => {
    const size = Math.max(1, Math.min(4, Math.floor(Math.min(panel.width, panel.height) / 8)));
    const cx = Math.floor(panel.x + panel.width / 2);
    const cy = Math.floor(panel.y + panel.height / 2);
    const seen = meanRgbPx(img, { x: cx - size, y: cy - size, width: 2 * size, height: 2 * size });
    const where = `panel ${i + 1} of ${refs.length} (${layout.kind}, ${req.width}×${req.height}, seed ${req.seed})`;
    expect(distance(seen, hexRgb(colours[i]!)), where).toBeLessThanOrEqual(3);
    const nearest = colours.map((c) => distance(seen, hexRgb(c))).reduce((best, d, j, all) => (d < all[best]! ? j : best), 0);
    expect(nearest, where).toBe(i);
  });
}

describe('offline engine with one reference (image-to-image)', () => {
  it.each([
    ['#00AA00', 1],
    ['#AA0000', 0],
    ['#0000AA', 2],
  ] as const)('the reference %s dominates the picture, away from the text card', async (hex, channel) => {
    const ref = await solid(hex, 640, 480);
    for (const seed of [1, 2, 3, 4]) {
      const img = await raw(await render({ prompt: 'a poster reading "Sale"', seed, references: [ref] }));
      for (const region of [TOP_BAND, WHOLE]) {
        const means = meanRgb(img, region);
        for (const [i, other] of means.entries()) if (i !== channel) expect(means[channel]! - other, `seed ${seed}`).toBeGreaterThan(region === WHOLE ? 40 : 60);
      }
    }
  });

  it('still letters the quoted text on top, in the middle, and leaves the rest alone', async () => {
    const references = [await solid('#00AA00', 640, 480)];
    const without = await raw(await render({ prompt: 'a minimal poster', seed: 3, references }));
    const withText = await raw(await render({ prompt: 'a minimal poster reading "HELLO WORLD"', seed: 3, references }));
    expect(meanDiff(without, withText, CENTRE)).toBeGreaterThan(20);
    expect(meanDiff(without, withText, TOP_LEFT)).toBe(0);
  });

  it('tints with the seeded palette: the same reference with another seed is tinted differently', async () => {
    const references = [await solid('#808080')];
    const a = await raw(await render({ seed: 1, references }));
    const b = await raw(await render({ seed: 2, references }));
    expect(meanDiff(a, b, WHOLE)).toBeGreaterThan(3);
    // A tint, not a repaint: the grey stays recognisably grey-ish.
    for (const img of [a, b]) for (const v of meanRgb(img, CENTRE)) expect(Math.abs(v - 128)).toBeLessThan(60);
  });

  it.each([
    ['#FF0000', 0],
    ['#0000FF', 2],
  ] as const)('honours a prompt colour %s over the reference', async (hex, channel) => {
    const references = [await solid('#808080')];
    for (const seed of [1, 2, 3]) {
      const means = meanRgb(await raw(await render({ prompt: `a photo graded in ${hex}`, seed, references })), WHOLE);
      for (const [i, other] of means.entries()) if (i !== channel) expect(means[channel]! - other).toBeGreaterThan(40);
    }
  });

  it('cover-fits the reference around its centre: the middle fills the canvas, the ends are cropped', async () => {
    // Tall: black top and bottom quarters, white middle half. Wide: the same, left to right.
    const tall = await bands(200, 800, [['#000000', 0.25], ['#ffffff', 0.5], ['#000000', 0.25]], 'vertical');
    const wide = await bands(800, 200, [['#000000', 0.25], ['#ffffff', 0.5], ['#000000', 0.25]], 'horizontal');
    for (const ref of [tall, wide]) {
      const img = await raw(await render({ references: [ref], width: 512, height: 512 }));
      for (const strip of [0, 0.25, 0.5, 0.75]) {
        // Every row and column band is bright: nothing of the black ends survives, nothing is letterboxed.
        expect(luma(meanRgb(img, { x0: 0, y0: strip, x1: 1, y1: strip + 0.25 }))).toBeGreaterThan(150);
        expect(luma(meanRgb(img, { x0: strip, y0: 0, x1: strip + 0.25, y1: 1 }))).toBeGreaterThan(150);
      }
    }
    // A wide red-left, blue-right reference on a portrait canvas: the centre is where the halves meet.
    const halves = await bands(800, 400, [['#ff0000', 0.5], ['#0000ff', 0.5]], 'horizontal');
    const img = await raw(await render({ references: [halves], width: 512, height: 1024 }));
    const [lr, , lb] = meanRgb(img, { x0: 0.05, y0: 0.3, x1: 0.45, y1: 0.4 });
    const [rr, , rb] = meanRgb(img, { x0: 0.55, y0: 0.3, x1: 0.95, y1: 0.4 });
    expect(lr - lb).toBeGreaterThan(100);
    expect(rb - rr).toBeGreaterThan(100);
  });

  it('applies EXIF orientation: a landscape photo stored sideways is shown upright', async () => {
    // Stored 200×100, red left and blue right; orientation 6 means "rotate 90° clockwise to display",
    // so it displays 100×200 with red on top and blue below.
    const stored = await bands(200, 100, [['#ff0000', 0.5], ['#0000ff', 0.5]], 'horizontal');
    const bytes = await sharp(stored.bytes).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await raw(await render({ references: [{ bytes, format: 'jpeg', width: 100, height: 200 }], width: 512, height: 512 }));
    const [tr, , tb] = meanRgb(img, { x0: 0.1, y0: 0.1, x1: 0.9, y1: 0.4 });
    const [br, , bb] = meanRgb(img, { x0: 0.1, y0: 0.6, x1: 0.9, y1: 0.9 });
    expect(tr - tb).toBeGreaterThan(80);
    expect(bb - br).toBeGreaterThan(80);
  });

  it('keeps the "Atelier offline preview" mark', async () => {
    const references = [await solid('#ffffff')];
    const img = await raw(await render({ references }));
    // The mark's dark pill over a white reference.
    expect(luma(meanRgb(img, MARK))).toBeLessThan(luma(meanRgb(img, { x0: 0, y0: 0.94, x1: 0.2, y1: 1 })) - 15);
  });
});

describe('offline engine with several references (collage)', () => {
  it('lays out N references as N panels, in order, for every N from 2 to 10 and several seeds', async () => {
    const refs = await Promise.all(COLOURS.map((c, i) => solid(c, i % 2 === 0 ? 320 : 240, i % 3 === 0 ? 240 : 320)));
    for (let n = 2; n <= 10; n++) {
      for (const seed of [1, 2, 3]) {
        const req = request({ seed, references: refs.slice(0, n), width: 640, height: 480 });
        await expectPanelsInOrder(await render(req), refs.slice(0, n), COLOURS.slice(0, n), req);
      }
    }
  });

  it('covers every layout: grid, feature and inset', async () => {
    const refs = await Promise.all(COLOURS.slice(0, 3).map((c) => solid(c)));
    const seen = new Set<string>();
    for (let seed = 0; seen.size < 3 && seed < 40; seed++) {
      const req = request({ seed, references: refs, width: 768, height: 768 });
      const kind = referenceLayout(refs, { width: 768, height: 768, seed }).kind;
      if (seen.has(kind)) continue;
      seen.add(kind);
      await expectPanelsInOrder(await render(req), refs, COLOURS.slice(0, 3), req);
    }
    expect(seen).toEqual(new Set(['grid', 'feature', 'inset']));
  });

  it('labels each panel in its corner, keeps the preview mark, and puts quoted text on top', async () => {
    const refs = await Promise.all([0, 1, 2, 3].map(() => solid('#ffffff')));
    for (const seed of [1, 2, 3]) {
      const req = request({ seed, references: refs, width: 1024, height: 1024 });
      const img = await raw(await render(req));
      const layout = referenceLayout(refs, { width: 1024, height: 1024, seed });
      for (const panel of layout.panels) {
        // Along the label's edge of the panel, past the rounded corner (which shows the backdrop).
        const skip = Math.ceil(layout.radius) + 1;
        const w = Math.floor(panel.width * 0.3) - skip;
        const h = Math.floor(Math.min(panel.height * 0.15, 60));
        const corner: Rect = {
          x: panel.labelCorner.endsWith('left') ? panel.x + skip : panel.x + panel.width - skip - w,
          y: panel.labelCorner.startsWith('top') ? panel.y : panel.y + panel.height - h,
          width: w,
          height: h,
        };
        // The translucent label pill darkens the white panel in its corner; the centre stays white.
        expect(minLuma(img, corner), `${layout.kind}, seed ${seed}`).toBeLessThan(200);
        const centre = { x: panel.x + Math.floor(panel.width / 2) - 2, y: panel.y + Math.floor(panel.height / 2) - 2, width: 4, height: 4 };
        expect(luma(meanRgbPx(img, centre))).toBeGreaterThan(253);
      }
      expect(luma(meanRgb(img, MARK))).toBeLessThan(200);

      const withText = await raw(await render({ ...req, prompt: 'a collage "MOOD BOARD"' }));
      expect(meanDiff(img, withText, CENTRE)).toBeGreaterThan(20);
      expect(meanDiff(img, withText, TOP_LEFT)).toBe(0);
    }
  });
});

describe('offline engine with references: determinism and naming', () => {
  it('renders the same request, with the same reference bytes, to identical bytes', async () => {
    for (const n of [1, 4]) {
      const a = await render({ references: await Promise.all(COLOURS.slice(0, n).map((c) => solid(c))) });
      // Fresh Buffers with the same content.
      const b = await render({ references: await Promise.all(COLOURS.slice(0, n).map((c) => solid(c))) });
      expect(a.equals(b)).toBe(true);
    }
  });

  it('renders different reference bytes, or the same references in another order, differently', async () => {
    for (const n of [1, 3]) {
      const refs = await Promise.all(COLOURS.slice(0, n).map((c) => solid(c)));
      const changed = [...refs.slice(0, n - 1), await solid('#202020')];
      const base = await raw(await render({ references: refs }));
      expect(meanDiff(base, await raw(await render({ references: changed })), WHOLE)).toBeGreaterThan(5);
      if (n > 1) expect(meanDiff(base, await raw(await render({ references: [...refs].reverse() })), WHOLE)).toBeGreaterThan(5);
    }
    // A difference in a single pixel still shows.
    const plain = await solid('#336699', 64, 64);
    const dotted = {
      ...plain,
      bytes: await sharp(plain.bytes)
        .composite([{ input: { create: { width: 1, height: 1, channels: 3, background: '#ffffff' } }, left: 32, top: 32 }])
        .png()
        .toBuffer(),
    };
    expect((await render({ references: [plain] })).equals(await render({ references: [dotted] }))).toBe(false);
  });

  it('names the request by its reference bytes', async () => {
    const a = await solid('#e6194b');
    const b = await solid('#3cb44b');
    const id = (references: ReferenceImage[]): string => offlineRequestId(request({ references }));
    // The same pixels, encoded differently, are different bytes: a different request.
    const reencoded = { ...a, bytes: await sharp(a.bytes).png({ compressionLevel: 9 }).toBuffer() };
    expect(reencoded.bytes.equals(a.bytes)).toBe(false);

    expect(id([a, b])).toBe(id([{ ...a, bytes: Buffer.from(a.bytes) }, { ...b, bytes: Buffer.from(b.bytes) }]));
    const ids = [id([]), id([a]), id([b]), id([reencoded]), id([a, b]), id([b, a]), id([a, b, b])];
    expect(new Set(ids).size).toBe(ids.length);
    for (const x of ids) expect(x).toMatch(/^offline_[0-9a-f]{32}$/);
    expect((await engine.submit(request({ references: [a] }))).requestId).toBe(id([a]));

    // Without references, the id is the one earlier versions issued, so persisted handles still match.
    const legacy = createHash('sha256').update(JSON.stringify(['offline', 'a calm collage', 512, 512, 7, 'png', 'gen_1'])).digest('hex');
    expect(id([])).toBe(`offline_${legacy.slice(0, 32)}`);
  });

  it('poll refuses a handle issued for other references', async () => {
    const handle = await engine.submit(request({ references: [await solid('#e6194b')] }));
    await expect(engine.poll(handle, request({ references: [await solid('#3cb44b')] }))).resolves.toMatchObject({
      state: 'failed',
      code: 'engine_rejected_request',
      retryable: false,
    });
  });
});

describe('offline engine with references: the contract', () => {
  it.each([
    [64, 64, 'png', 1],
    [64, 64, 'jpeg', 10],
    [1344, 768, 'webp', 3],
    [768, 1344, 'jpeg', 2],
    [2048, 880, 'png', 5],
    [1536, 2048, 'webp', 1],
    [1024, 1024, 'png', 7],
  ] as const)('honours %i×%i as %s exactly with %i reference(s)', async (width, height, outputFormat, n) => {
    const references = await Promise.all(COLOURS.slice(0, n).map((c, i) => solid(c, 300 + 40 * i, 400 - 20 * i, (['png', 'jpeg', 'webp'] as const)[i % 3])));
    const bytes = await render({ width, height, outputFormat, references, prompt: 'geometry "Size test"' });
    const meta = await sharp(bytes).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height, channels: meta.channels }).toEqual({ format: outputFormat, width, height, channels: 3 });
  });

  it('composites ten ~4 MP references on a 2048×2048 canvas', async () => {
    const sizes = [
      [2048, 2048],
      [2560, 1600],
      [1600, 2560],
    ] as const;
    const refs = await Promise.all(COLOURS.map((c, i) => solid(c, ...sizes[i % 3]!)));
    const req = request({ width: 2048, height: 2048, references: refs, seed: 11 });
    const bytes = await render(req);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 2048, 2048]);
    await expectPanelsInOrder(bytes, refs, COLOURS, req);
  });

  it('reads unusual references: greyscale, grey with alpha, 16-bit RGBA, CMYK JPEG, translucent WebP', async () => {
    const w = 120;
    const h = 90;
    const references: ReferenceImage[] = [
      { bytes: await sharp(Buffer.alloc(w * h, 90), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer(), format: 'png', width: w, height: h },
      { bytes: await sharp(Buffer.alloc(w * h * 2, 128), { raw: { width: w, height: h, channels: 2 } }).png().toBuffer(), format: 'png', width: w, height: h },
      {
        bytes: await sharp({ create: { width: w, height: h, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
          .toColourspace('rgb16')
          .png()
          .toBuffer(),
        format: 'png',
        width: w,
        height: h,
      },
      { bytes: await sharp({ create: { width: w, height: h, channels: 3, background: '#00aa00' } }).toColourspace('cmyk').jpeg().toBuffer(), format: 'jpeg', width: w, height: h },
      { bytes: await sharp({ create: { width: w, height: h, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.3 } } }).webp().toBuffer(), format: 'webp', width: w, height: h },
    ];
    for (const refs of [...references.map((r) => [r]), references]) {
      const meta = await sharp(await render({ references: refs, outputFormat: 'png' })).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([512, 512, 3]);
    }
  });

  it('rejects, for good, a reference it cannot read, naming it', async () => {
    const references = [await solid('#e6194b'), { ...(await solid('#3cb44b')), bytes: Buffer.from('not an image at all') }];
    const req = request({ references });
    await expect(engine.poll(await engine.submit(req), req)).resolves.toMatchObject({
      state: 'failed',
      code: 'engine_rejected_request',
      detail: expect.stringContaining('image 2'),
      retryable: false,
    });
  });

  it.each([
    ['eleven references', async (): Promise<ReferenceImage[]> => Promise.all(Array.from({ length: 11 }, () => solid('#e6194b', 16, 16)))],
    ['an empty reference', async (): Promise<ReferenceImage[]> => [{ ...(await solid('#e6194b')), bytes: Buffer.alloc(0) }]],
    ['a reference without a size', async (): Promise<ReferenceImage[]> => [{ ...(await solid('#e6194b')), width: 0 }]],
    ['a reference in an unknown format', async (): Promise<ReferenceImage[]> => [{ ...(await solid('#e6194b')), format: 'gif' as OutputFormat }]],
    ['a huge reference', async (): Promise<ReferenceImage[]> => [{ ...(await solid('#e6194b')), width: 8192, height: 8192 }]],
  ])('submit rejects %s, for good', async (_, make) => {
    const error: unknown = await engine.submit(request({ references: await make() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'engine_rejected_request', retryable: false });
  });
});
