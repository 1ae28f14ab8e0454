import sharp from 'sharp';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineRequest, EngineStatus, ImageEngine, ReferenceImage } from '#src/adapters/providers/engine.ts';

/** Shared by the ComfyUI adapter's tests (not a test file itself). */

export function makeRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    engineModel: 'flux2-dev',
    prompt: 'a red fox in fresh snow, morning light',
    width: 512,
    height: 384,
    seed: 42,
    outputFormat: 'png',
    idempotencyKey: 'gen_01JZ-user-7f3a-secret-idempotency',
    references: [],
    parameters: { steps: 4 },
    webhookUrl: null,
    ...overrides,
  };
}

export async function makeReference(colour: { r: number; g: number; b: number }, format: 'png' | 'jpeg' = 'png'): Promise<ReferenceImage> {
  const image = sharp({ create: { width: 64, height: 48, channels: 3, background: colour } });
  return { bytes: await (format === 'png' ? image.png() : image.jpeg()).toBuffer(), format, width: 64, height: 48 };
}

/** Polls like the generation job does (without its back-off) until the prompt leaves `pending`. */
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

/** Waits until `check` holds (the WebSocket delivers events asynchronously). */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
