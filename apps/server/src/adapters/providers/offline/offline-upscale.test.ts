import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, type EngineRequest, type EngineStatus, type ReferenceImage } from '#src/adapters/providers/engine.ts';
import { createOfflineEngine } from './offline-engine.ts';

/** The offline engine's esrgan-x2 / esrgan-x4 models: the real upscaler behind the engine interface. */
const engine = createOfflineEngine();
afterAll(() => engine.close());

async function reference(width: number, height: number): Promise<ReferenceImage> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#1e3a8a"/><circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="#f59e0b"/></svg>`;
  return { bytes: await sharp(Buffer.from(svg)).png().toBuffer(), format: 'png', width, height };
}

function request(ref: ReferenceImage, overrides: Partial<EngineRequest> = {}): EngineRequest {
  return { engineModel: 'esrgan-x2', prompt: 'upscale', width: ref.width * 2, height: ref.height * 2, seed: null, outputFormat: 'png', idempotencyKey: 'gen_up', references: [ref], parameters: {}, webhookUrl: null, ...overrides };
}

/** Polls like the runner does (without its pacing) until the engine settles; collects the progress it reported. */
async function settle(req: EngineRequest): Promise<{ status: EngineStatus; progress: number[] }> {
  const handle = await engine.submit(req);
  const progress: number[] = [];
  for (;;) {
    const status = await engine.poll(handle, req);
    if (status.state !== 'pending') return { status, progress };
    if (status.progress !== null) progress.push(status.progress);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('offline engine: upscale models', () => {
  it('upscales reference image 1 to exactly the requested size and format, reporting progress', async () => {
    const ref = await reference(48, 40);
    const { status, progress } = await settle(request(ref, { engineModel: 'esrgan-x4', width: 192, height: 160, outputFormat: 'jpeg' }));
    expect(status.state).toBe('ready');
    if (status.state !== 'ready' || status.result.kind !== 'bytes') throw new Error('expected bytes');
    expect(await sharp(status.result.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 192, height: 160 });
    expect(progress.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('refuses at submission a size other than the reference × the factor, or other than one reference', async () => {
    const ref = await reference(48, 40);
    const refused = (req: EngineRequest) =>
      engine.submit(req).then(
        () => undefined,
        (e: unknown) => e,
      );
    const wrongSize = await refused(request(ref, { width: 512, height: 512 }));
    expect(wrongSize).toBeInstanceOf(EngineError);
    expect(wrongSize).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining("the reference's size ×2: 96×80") });
    expect(await refused(request(ref, { references: [ref, ref] }))).toMatchObject({ message: expect.stringContaining('exactly one reference image (got 2)') });
    expect(await refused(request(ref, { references: [] }))).toMatchObject({ message: expect.stringContaining('exactly one reference image (got 0)') });
  });

  it('fails for good, with the reason, when the reference is not an image', async () => {
    const junk = { bytes: Buffer.from('not an image at all'), format: 'png' as const, width: 10, height: 10 };
    const { status } = await settle(request(junk, { width: 20, height: 20 }));
    expect(status).toMatchObject({ state: 'failed', code: 'engine_rejected_request', retryable: false, detail: expect.stringContaining('not a readable PNG, JPEG or WebP') });
  });
});
