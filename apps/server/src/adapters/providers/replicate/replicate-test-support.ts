import sharp from 'sharp';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineRequest, EngineStatus, ImageEngine, ReferenceImage } from '#src/adapters/providers/engine.ts';

/** Shared by the Replicate adapter's tests (not a test file itself). */

export function makeRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    engineModel: 'black-forest-labs/flux-2-pro',
    prompt: 'a red fox in fresh snow, morning light',
    width: 1024,
    height: 768,
    seed: 42,
    outputFormat: 'png',
    idempotencyKey: 'generation:gen_01JZ-user-7f3a-secret-idempotency',
    references: [],
    parameters: {},
    webhookUrl: null,
    ...overrides,
  };
}

export async function makeReference(format: 'png' | 'jpeg' | 'webp', width = 64, height = 48, colour = { r: 200, g: 30, b: 60 }): Promise<ReferenceImage> {
  const base = sharp({ create: { width, height, channels: 3, background: colour } });
  const bytes = await (format === 'png' ? base.png() : format === 'jpeg' ? base.jpeg() : base.webp()).toBuffer();
  return { bytes, format, width, height };
}

/** Polls like the generation job does (without its back-off) until the prediction leaves `pending`. */
export async function pollUntilSettled(engine: ImageEngine, handle: EngineHandle, request: EngineRequest, maxPolls = 200): Promise<{ final: EngineStatus; seen: EngineStatus[] }> {
  const seen: EngineStatus[] = [];
  for (let i = 0; i < maxPolls; i++) {
    const status = await engine.poll(handle, request);
    seen.push(status);
    if (status.state !== 'pending') return { final: status, seen };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`still pending after ${maxPolls} polls`);
}

/** The EngineError a promise rejects with; fails the test when it resolves or throws something else. */
export async function engineErrorOf(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EngineError) return err;
    throw new Error(`expected an EngineError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an EngineError, but the call succeeded');
}

export function expectReady(status: EngineStatus | undefined): Extract<EngineStatus, { state: 'ready' }> {
  if (status?.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(status)}`);
  return status;
}
