import sharp from 'sharp';

import type { EngineRequest, ReferenceImage } from '#src/adapters/providers/engine.ts';
import { pollUntilSettled, engineErrorOf } from '#test/support/engines.ts';

export { pollUntilSettled, engineErrorOf };

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

/** Waits until `check` holds (the WebSocket delivers events asynchronously). */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
