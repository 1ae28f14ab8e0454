import sharp from 'sharp';
import type { OutputFormat } from '@atelier/contracts';

import type { EngineRequest, EngineStatus, ReferenceImage, SubmitResult } from '#src/adapters/providers/engine.ts';
import { engineErrorOf } from '#test/support/engines.ts';

export { engineErrorOf };

/** Shared by the OpenAI-compatible adapter's tests (not a test file itself). */

export function makeRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    engineModel: 'gpt-image-1',
    prompt: 'a red fox in fresh snow, morning light',
    width: 1024,
    height: 1024,
    seed: 42,
    outputFormat: 'png',
    idempotencyKey: 'gen_01JZ-user-7f3a-secret-idempotency',
    references: [],
    parameters: {},
    webhookUrl: null,
    ...overrides,
  };
}

export async function makeReference(format: OutputFormat, width = 64, height = 48, colour = { r: 200, g: 40, b: 40 }): Promise<ReferenceImage> {
  const img = sharp({ create: { width, height, channels: 3, background: colour } });
  const bytes = await (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg() : img.webp()).toBuffer();
  return { bytes, format, width, height };
}

export function finalOf(submitted: SubmitResult): EngineStatus {
  if (!submitted.status) throw new Error('expected submit to return a final status');
  return submitted.status;
}

export function readyOf(status: EngineStatus | undefined): Extract<EngineStatus, { state: 'ready' }> {
  if (status?.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(status)}`);
  return status;
}
