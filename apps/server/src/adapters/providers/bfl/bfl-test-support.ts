import type { EngineRequest } from '#src/adapters/providers/engine.ts';
import { pollUntilSettled, engineErrorOf } from '#test/support/engines.ts';

export { pollUntilSettled, engineErrorOf };

/** Shared by the BFL adapter's tests (not a test file itself). */

export function makeRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    engineModel: 'flux-2-pro',
    prompt: 'a red fox in fresh snow, morning light',
    width: 1024,
    height: 768,
    seed: 42,
    outputFormat: 'png',
    idempotencyKey: 'gen_01JZ-user-7f3a-secret-idempotency',
    references: [],
    parameters: {},
    webhookUrl: null,
    ...overrides,
  };
}

