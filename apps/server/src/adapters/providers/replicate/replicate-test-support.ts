import sharp from 'sharp';

import type { EngineRequest, EngineStatus, ReferenceImage } from '#src/adapters/providers/engine.ts';
import { pollUntilSettled, engineErrorOf } from '#test/support/engines.ts';

export { pollUntilSettled, engineErrorOf };

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

export function expectReady(status: EngineStatus | undefined): Extract<EngineStatus, { state: 'ready' }> {
  if (status?.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(status)}`);
  return status;
}
