import sharp, { type KernelEnum } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createUpscaler, UpscaleError } from './upscaler.ts';

/**
 * The real networks from @upscalerjs/esrgan-slim, run in the real worker thread on the wasm backend.
 * Images are tiny so the suite stays quick on two cores; nothing here measures time.
 */

const upscaler = createUpscaler();
/** Tiles of 16×16 input pixels: a 40×32 image becomes six tiles, each with its 12-pixel context. */
const tiled = createUpscaler({ tileSize: 16 });
afterAll(async () => {
  await upscaler.close();
  await tiled.close();
});

const W = 40;
const H = 32;

/** A 40×32 picture with hard edges, a thick diagonal, gradients and saturated colours. */
function synthetic(width = W, height = H): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let c: [number, number, number] = [Math.round((x / width) * 255), 60, Math.round((y / height) * 255)];
      if (x >= width / 4 && x < width / 2 && y >= height / 4 && y < (3 * height) / 4) c = [220, 30, 40];
      if (Math.abs(x - y) <= 1) c = [250, 250, 250];
      if (x >= (3 * width) / 4 && y < height / 2) c = [40, 200, 20];
      rgb.set(c, i);
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const rawRgb = async (png: Buffer, resizeTo?: { width: number; height: number; kernel: keyof KernelEnum }) => {
  let image = sharp(png).removeAlpha();
  if (resizeTo) image = image.resize(resizeTo.width, resizeTo.height, { kernel: resizeTo.kernel, fit: 'fill' });
  return image.raw().toBuffer();
};

/** Each factor×factor block of an RGB image averaged into one pixel: the exact inverse of a pixel-centred enlargement's geometry. */
function shrink(rgb: Buffer, width: number, height: number, factor: number): Buffer {
  const w = width / factor;
  const sums = new Float64Array(w * (height / factor) * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) sums[(Math.floor(y / factor) * w + Math.floor(x / factor)) * 3 + c]! += rgb[(y * width + x) * 3 + c]!;
    }
  }
  return Buffer.from(sums.map((s) => Math.round(s / (factor * factor))));
}

/** Peak signal-to-noise ratio in dB between two same-sized RGB buffers (∞ when identical). */
function psnr(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('upscaler', () => {
  it.each([2, 4] as const)('enlarges ×%i to exactly that size, keeping the picture', async (factor) => {
    const input = await synthetic();
    const out = await upscaler.upscale(input, factor);
    expect({ width: out.width, height: out.height }).toEqual({ width: W * factor, height: H * factor });
    const meta = await sharp(out.data).metadata();
    expect(meta).toMatchObject({ format: 'png', width: W * factor, height: H * factor });
    // Shrunk back (block means), the result is the input again, as far as sharpened hard edges on a
    // picture this small allow. Measured: 25.2 dB (×2) and 27.8 dB (×4); lanczos in the same round trip
    // gives 28.3 / 29.4 dB. The same output one input pixel off gives 16–17 dB, and a swapped channel or
    // a wrong value range (0..1 instead of 0..255) far less, so 23 dB tells a faithful enlargement apart.
    const back = shrink(await rawRgb(out.data), out.width, out.height, factor);
    expect(psnr(back, await rawRgb(input))).toBeGreaterThan(23);
  });

  it.each([2, 4] as const)('is really the network at ×%i: the result differs from a plain lanczos resize', async (factor) => {
    const input = await synthetic();
    const out = await upscaler.upscale(input, factor);
    const lanczos = await rawRgb(input, { width: W * factor, height: H * factor, kernel: 'lanczos3' });
    // Measured 26.1 dB (×2) and 26.5 dB (×4): the same picture, drawn differently. Two classic resamplers
    // agree far more closely on it (lanczos vs bilinear: 38.5 / 36.2 dB), so below 32 dB this is not a
    // kernel resize in disguise; above 20 dB it is still this picture (nearest neighbour: 24 dB).
    const similarity = psnr(await rawRgb(out.data), lanczos);
    expect(similarity).toBeGreaterThan(20);
    expect(similarity).toBeLessThan(32);
  });

  it.each([2, 4] as const)('gives the same pixels in tiles as in one pass at ×%i (no seams)', async (factor) => {
    const input = await synthetic();
    const [whole, inTiles] = await Promise.all([upscaler.upscale(input, factor), tiled.upscale(input, factor)]);
    const a = await rawRgb(whole.data);
    const b = await rawRgb(inTiles.data);
    // Each tile sees 12 pixels of context, more than the network's receptive field, so tiles compute
    // the same sums as one pass (measured: identical bytes); allow 1 for float rounding on other CPUs.
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('reports progress up to 1', async () => {
    const seen: number[] = [];
    await tiled.upscale(await synthetic(), 2, { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((p) => p > 0 && p <= 1)).toBe(true);
  });

  it('keeps transparency', async () => {
    const rgba = await sharp({ create: { width: W, height: H, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.5 } } }).png().toBuffer();
    const out = await upscaler.upscale(rgba, 2);
    const meta = await sharp(out.data).metadata();
    expect(meta.hasAlpha).toBe(true);
    const { data } = await sharp(out.data).raw().toBuffer({ resolveWithObject: true });
    expect(Math.abs(data[3]! - 128)).toBeLessThanOrEqual(1);
  });

  it('rejects at once when aborted mid-way, and keeps working afterwards', async () => {
    const big = await synthetic(160, 160); // 100 tiles of 16×16
    const controller = new AbortController();
    const seen: number[] = [];
    const pending = tiled.upscale(big, 4, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (seen.length === 2) controller.abort();
      },
    });
    const error = await rejection(pending);
    expect(error).toMatchObject({ name: 'AbortError' });
    // Rejected on the abort itself, long before the hundredth tile.
    expect(seen.length).toBeLessThan(10);
    const after = await tiled.upscale(await synthetic(), 2);
    expect(after.width).toBe(W * 2);
  });

  it('refuses an already aborted signal without starting', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(upscaler.upscale(await synthetic(), 2, { signal: controller.signal }))).toMatchObject({ name: 'AbortError' });
  });

  it('rejects bad input with a clear error', async () => {
    const notAnImage = await rejection(upscaler.upscale(Buffer.from('this is a text file, not a picture'), 2));
    expect(notAnImage).toBeInstanceOf(UpscaleError);
    expect(notAnImage).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('not a readable PNG, JPEG or WebP') });
    const empty = await rejection(upscaler.upscale(Buffer.alloc(0), 2));
    expect(empty).toMatchObject({ code: 'invalid_input', message: 'The image to upscale is empty.' });
    // sharp could render an SVG (which may reference other files); the upscaler must not.
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect(await rejection(upscaler.upscale(svg, 2))).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('got svg') });
    expect(await rejection(upscaler.upscale(await synthetic(), 3 as 2))).toMatchObject({ code: 'invalid_input' });
  });

  it('refuses an output above its pixel limit before decoding', async () => {
    const small = createUpscaler({ maxOutputPixels: 100 * 100 });
    try {
      expect(await rejection(small.upscale(await synthetic(), 4))).toMatchObject({ code: 'too_large', message: expect.stringContaining('160×128') });
    } finally {
      await small.close();
    }
  });
});
