import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { OutputFormat } from '@atelier/contracts';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineRequest } from '#src/adapters/providers/engine.ts';
import { createOfflineEngine, effectiveSeed } from './offline-engine.ts';

const engine = createOfflineEngine();

function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return { engineModel: 'offline', prompt: 'a calm abstract poster', width: 512, height: 512, seed: 7, outputFormat: 'png', idempotencyKey: 'gen_1', references: [], parameters: {}, webhookUrl: null, ...overrides };
}

async function render(overrides: Partial<EngineRequest> = {}): Promise<{ bytes: Buffer; seed: number | null }> {
  const req = request(overrides);
  const status = await engine.poll(await engine.submit(req), req);
  if (status.state !== 'ready' || status.result.kind !== 'bytes') throw new Error(`expected a ready bytes result, got ${JSON.stringify(status)}`);
  return { bytes: await engine.fetchResult(status.result), seed: status.result.seed };
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

/** Mean absolute difference per channel (0–255) between two same-sized images inside a region. */
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

/** Share of pixels in a region that are near black or near white: glyph ink, in either theme. */
function inkShare(img: Raw, r: Region): number {
  let ink = 0;
  let n = 0;
  for (let y = Math.floor(r.y0 * img.height); y < Math.floor(r.y1 * img.height); y++) {
    for (let x = Math.floor(r.x0 * img.width); x < Math.floor(r.x1 * img.width); x++) {
      const i = (y * img.width + x) * 3;
      const luma = 0.2126 * (img.data[i] ?? 0) + 0.7152 * (img.data[i + 1] ?? 0) + 0.0722 * (img.data[i + 2] ?? 0);
      if (luma < 40 || luma > 240) ink++;
      n++;
    }
  }
  return ink / n;
}

const CENTRE: Region = { x0: 0.2, y0: 0.3, x1: 0.8, y1: 0.7 };
const TOP_LEFT: Region = { x0: 0, y0: 0, x1: 0.06, y1: 0.06 };
const TOP_HALF: Region = { x0: 0, y0: 0, x1: 1, y1: 0.5 };
const BOTTOM_HALF: Region = { x0: 0, y0: 0.5, x1: 1, y1: 1 };

describe('offline engine: protocol', () => {
  it('identifies itself honestly', () => {
    expect(engine.id).toBe('offline');
    expect(engine.label).toBe('Offline preview engine');
  });

  it('submit names the request without rendering it', async () => {
    const first = await engine.submit(request());
    expect(first).toEqual({ requestId: expect.stringMatching(/^offline_[0-9a-f]{32}$/), pollingUrl: null, cost: 0 });
    expect((await engine.submit(request())).requestId).toBe(first.requestId);
    expect((await engine.submit(request({ seed: 8 }))).requestId).not.toBe(first.requestId);
  });

  it.each([
    ['width not a multiple of 16', { width: 500 }],
    ['too small', { width: 48, height: 48 }],
    ['too large', { width: 4096 }],
    ['unknown output format', { outputFormat: 'gif' as OutputFormat }],
    ['negative seed', { seed: -1 }],
    ['fractional seed', { seed: 1.5 }],
  ])('submit rejects a request with %s, for good', async (_, overrides) => {
    const error: unknown = await engine.submit(request(overrides)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'engine_rejected_request', retryable: false });
  });

  it('poll refuses a handle issued for another request', async () => {
    const handle = await engine.submit(request({ seed: 1 }));
    await expect(engine.poll(handle, request({ seed: 2 }))).resolves.toMatchObject({ state: 'failed', code: 'engine_rejected_request', retryable: false });
  });

  it('fetchResult returns bytes results and refuses URLs', async () => {
    const bytes = Buffer.from([1, 2, 3]);
    await expect(engine.fetchResult({ kind: 'bytes', bytes, seed: 1 })).resolves.toBe(bytes);
    await expect(engine.fetchResult({ kind: 'url', url: 'https://example.com/x.png', seed: 1 })).rejects.toBeInstanceOf(EngineError);
  });

  it('cancel resolves', async () => {
    await expect(engine.cancel(await engine.submit(request()))).resolves.toBeUndefined();
  });
});

describe('offline engine: the picture', () => {
  it('renders the same request to identical bytes, and a different seed to a visibly different image', async () => {
    const a = await render({ prompt: 'a poster "Hello"', seed: 42 });
    const b = await render({ prompt: 'a poster "Hello"', seed: 42 });
    const c = await render({ prompt: 'a poster "Hello"', seed: 43 });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.seed).toBe(42);
    expect(meanDiff(await raw(a.bytes), await raw(c.bytes), { x0: 0, y0: 0, x1: 1, y1: 1 })).toBeGreaterThan(10);
  });

  it('derives the seed from the prompt when none is given, reproducibly', async () => {
    const prompt = 'a quiet harbour at dawn';
    const a = await render({ prompt, seed: null });
    const b = await render({ prompt, seed: null });
    expect(a.seed).toBe(effectiveSeed({ prompt, seed: null }));
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect((await render({ prompt, seed: a.seed })).bytes.equals(a.bytes)).toBe(true);
    expect((await render({ prompt: 'a busy harbour at noon', seed: null })).seed).not.toBe(a.seed);
  });

  it.each([
    [64, 64, 'png'],
    [1024, 1024, 'jpeg'],
    [1344, 768, 'webp'],
    [768, 1344, 'png'],
    [2048, 880, 'jpeg'],
    [1536, 2048, 'webp'],
  ] as const)('honours %i×%i as %s exactly', async (width, height, outputFormat) => {
    const { bytes } = await render({ width, height, outputFormat, prompt: 'geometry "Size test"' });
    const meta = await sharp(bytes).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: outputFormat, width, height });
  });

  // Its speed is measured by bench/, not asserted here.
  it('renders the largest size, 2048×2048 with text, exactly', async () => {
    const { bytes } = await render({ width: 2048, height: 2048, prompt: 'A poster "Grand opening" and "Saturday 10:00"' });
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height]).toEqual([2048, 2048]);
  });

  it('puts the quoted text in the middle and leaves the rest of the picture alone', async () => {
    const without = await raw((await render({ prompt: 'a minimal poster', seed: 3 })).bytes);
    const withText = await raw((await render({ prompt: 'a minimal poster reading "HELLO WORLD"', seed: 3 })).bytes);
    expect(meanDiff(without, withText, CENTRE)).toBeGreaterThan(20);
    expect(meanDiff(without, withText, TOP_LEFT)).toBe(0);
    expect(inkShare(withText, CENTRE)).toBeGreaterThan(inkShare(without, CENTRE) + 0.1);
  });

  it('renders different quoted strings differently', async () => {
    const a = await raw((await render({ prompt: '"HELLO"', seed: 3 })).bytes);
    const b = await raw((await render({ prompt: '"HELL0"', seed: 3 })).bytes);
    expect(meanDiff(a, b, CENTRE)).toBeGreaterThan(0.5);
  });

  it.each([
    ['#FF0000', 0],
    ['#0000FF', 2],
  ] as const)('lets %s from the prompt dominate the palette', async (hex, channel) => {
    for (const seed of [1, 2, 3]) {
      const { channels } = await sharp((await render({ prompt: `a poster in ${hex}`, seed })).bytes).stats();
      const means = channels.slice(0, 3).map((c) => c.mean);
      const others = means.filter((_, i) => i !== channel);
      expect(means[channel]).toBeGreaterThan(140);
      for (const other of others) expect(means[channel]! - other).toBeGreaterThan(80);
    }
  });

  it('honours a structured JSON prompt: palette, text and layout', async () => {
    const base = { palette: ['#00A060', '#006040'], layout: 'top' };
    const plain = await render({ prompt: JSON.stringify(base), seed: 11 });
    const withText = await render({ prompt: JSON.stringify({ ...base, text: ['Spring', 'new collection'] }), seed: 11 });
    const [r, g, b] = (await sharp(plain.bytes).stats()).channels.map((c) => c.mean) as [number, number, number];
    expect(g).toBeGreaterThan(r + 40);
    expect(g).toBeGreaterThan(b + 10);
    const [p, t] = [await raw(plain.bytes), await raw(withText.bytes)];
    expect(meanDiff(p, t, TOP_HALF)).toBeGreaterThan(5);
    expect(meanDiff(p, t, BOTTOM_HALF)).toBeLessThan(0.5);
  });

  it('puts text at the bottom when the JSON prompt asks for it', async () => {
    const plain = await raw((await render({ prompt: '{"layout": "bottom"}', seed: 5 })).bytes);
    const withText = await raw((await render({ prompt: '{"layout": "bottom", "text": "Footer"}', seed: 5 })).bytes);
    expect(meanDiff(plain, withText, BOTTOM_HALF)).toBeGreaterThan(5);
    expect(meanDiff(plain, withText, TOP_HALF)).toBeLessThan(0.5);
  });

  it('survives text too long to fit, exotic scripts and an unparsable JSON prompt', async () => {
    const long = `"${'lorem ipsum dolor sit amet '.repeat(150)}"`;
    for (const prompt of [long, '"مرحبا بالعالم" and "日本語" and "e\u0301"', '{"text": "oops", "palette": ["#FF0000"]']) {
      const { bytes } = await render({ prompt, width: 512, height: 512 });
      expect((await sharp(bytes).metadata()).width).toBe(512);
    }
  });
});
