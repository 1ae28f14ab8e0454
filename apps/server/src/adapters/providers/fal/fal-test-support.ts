import sharp from 'sharp';
import { listenOnLoopback } from '#test/fakes/fake-bfl-http.ts';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineRequest, EngineStatus, ImageEngine, ReferenceImage, WebhookDelivery } from '#src/adapters/providers/engine.ts';

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

/** Polls like the generation job does (without its back-off) until the request leaves `pending`. */
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

export async function readyResult(engine: ImageEngine, request: EngineRequest) {
  const handle = await engine.submit(request);
  const { final } = await pollUntilSettled(engine, handle, request);
  if (final.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(final)}`);
  return { handle, result: final.result };
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
