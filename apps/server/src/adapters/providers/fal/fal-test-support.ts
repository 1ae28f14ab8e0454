import sharp from 'sharp';
import { listenOnLoopback } from '#test/fakes/fake-bfl-http.ts';

import type { EngineRequest, ImageEngine, ReferenceImage, WebhookDelivery } from '#src/adapters/providers/engine.ts';
import { pollUntilSettled, engineErrorOf } from '#test/support/engines.ts';

export { pollUntilSettled, engineErrorOf };

/** Shared by the fal adapter's tests (not a test file itself). */

export function makeRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    engineModel: 'fal-ai/flux-2-pro',
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

export async function makeReference(width: number, height: number, format: ReferenceImage['format'] = 'png'): Promise<ReferenceImage> {
  const bytes = await sharp({ create: { width, height, channels: 3, background: { r: 20, g: 120, b: 200 } } }).toFormat(format).toBuffer();
  return { bytes, format, width, height };
}

export async function readyResult(engine: ImageEngine, request: EngineRequest) {
  const handle = await engine.submit(request);
  const { final } = await pollUntilSettled(engine, handle, request);
  if (final.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(final)}`);
  return { handle, result: final.result };
}

/** Our side of a webhook: a real HTTP endpoint that keeps each delivery as the HTTP layer would see it. */
export async function startWebhookReceiver(): Promise<{ url: string; deliveries: WebhookDelivery[]; close(): Promise<void> }> {
  const deliveries: WebhookDelivery[] = [];
  const listening = await listenOnLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(req.headers)) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      deliveries.push({ headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  return { url: `${listening.url}/webhooks/fal`, deliveries, close: listening.close };
}
