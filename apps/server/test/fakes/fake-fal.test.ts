import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { listenOnLoopback } from './fake-bfl-http.ts';
import { startFakeFal } from './fake-fal.ts';
import type { FakeFal } from './fake-fal.ts';

/** The fake itself, spoken to with plain fetch, checked against the protocol notes (providers.md §2, §7). */

let skewMs = 0;
let fake: FakeFal;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeFal({ queueMs: 1_000, processingMs: 1_000, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});

const auth = () => ({ authorization: `Key ${fake.apiKey}` });
async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = auth()) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const submit = (endpoint: string, body: unknown, query = '') => call('POST', `${fake.url}/${endpoint}${query}`, body);

describe('fake fal: the queue contract', () => {
  test('submit answers IN_QUEUE with URLs under owner/app; status is 202 until COMPLETED (200)', async () => {
    const { status, body } = await submit('fal-ai/flux-2/klein/4b/edit', { prompt: 'p', image_urls: ['https://example.com/a.png'] });
    expect(status).toBe(200);
    const id = body.request_id as string;
    const base = `${fake.url}/fal-ai/flux-2/requests/${id}`;
    expect(body).toEqual({ status: 'IN_QUEUE', request_id: id, response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel`, queue_position: 0 });

    expect(await call('GET', `${base}/status`)).toMatchObject({ status: 202, body: { status: 'IN_QUEUE', queue_position: 0 } });
    expect(await call('GET', base)).toMatchObject({ status: 400, body: { detail: 'Request is still in progress' } });
    skewMs += 1_500;
    expect(await call('GET', `${base}/status`)).toMatchObject({ status: 202, body: { status: 'IN_PROGRESS', logs: null } });
    const withLogs = await call('GET', `${base}/status?logs=1`);
    expect((withLogs.body.logs as { message: string }[]).at(-1)?.message).toMatch(/^ 50%\|█████ {5}\| 2\/4 \[/);
    skewMs += 1_000;
    expect(await call('GET', `${base}/status`)).toMatchObject({ status: 200, body: { status: 'COMPLETED', metrics: { inference_time: 1 } } });
    const result = await call('GET', base);
    expect(result).toMatchObject({ status: 200, body: { images: [{ content_type: 'image/png', width: 1024, height: 768 }], has_nsfw_concepts: [false] } });
    expect(result.headers.get('x-fal-request-id')).toBe(id);
  });

  test('the full endpoint path or another app does not find the request (the path rule)', async () => {
    const id = (await submit('fal-ai/flux-2-pro/edit', { prompt: 'p', image_urls: ['https://example.com/a.png'] })).body.request_id as string;
    expect((await call('GET', `${fake.url}/fal-ai/flux-2-pro/edit/requests/${id}/status`)).status).toBe(405);
    expect((await call('GET', `${fake.url}/fal-ai/flux-2-max/requests/${id}/status`)).status).toBe(404);
    expect((await call('GET', `${fake.url}/fal-ai/flux-2-pro/requests/${id}/status`)).status).toBe(202);
  });

  test('Authorization: Key is required on the queue; an exhausted balance locks the account; unknown apps are 404', async () => {
    expect(await call('POST', `${fake.url}/fal-ai/flux-2-pro`, { prompt: 'p' }, {})).toMatchObject({ status: 401 });
    expect(await call('POST', `${fake.url}/fal-ai/flux-2-pro`, { prompt: 'p' }, { authorization: 'Key nope:nope' })).toMatchObject({ status: 401, body: { detail: 'No user found for Key ID and Secret' } });
    fake.setScenario({ balanceUsd: 0 });
    expect(await submit('fal-ai/flux-2-pro', { prompt: 'p' })).toMatchObject({ status: 403, body: { detail: expect.stringMatching(/^User is locked. Reason: Exhausted balance/) } });
    expect((await submit('fal-ai/flux-3', { prompt: 'p' })).status).toBe(404);
  });

  test('validation happens at the runner: the result answers 422 with pydantic-style detail', async () => {
    const { body } = await submit('fal-ai/flux-2-pro', { image_size: { width: 1024 }, safety_tolerance: 2, output_format: 'webp', extra_field: true });
    skewMs += 2_000;
    const result = await call('GET', body.response_url as string);
    expect(result.status).toBe(422);
    expect(result.headers.get('x-fal-retryable')).toBe('false');
    expect((result.body.detail as { loc: unknown[]; type: string }[]).map((d) => [d.loc.join('.'), d.type])).toEqual([
      ['body.prompt', 'missing'],
      ['body.image_size.height', 'missing'],
      ['body.output_format', 'literal_error'],
      ['body.safety_tolerance', 'literal_error'],
    ]);
  });

  test('cancel: queued → 202 CANCELLATION_REQUESTED (then a client_cancelled result), completed → 400, unknown → 404', async () => {
    const queued = (await submit('fal-ai/flux-2-pro', { prompt: 'p' })).body;
    expect(await call('PUT', queued.cancel_url as string)).toMatchObject({ status: 202, body: { status: 'CANCELLATION_REQUESTED' } });
    expect((await call('GET', queued.status_url as string)).status).toBe(200);
    const canceled = await call('GET', queued.response_url as string);
    expect(canceled).toMatchObject({ status: 499, body: { error_type: 'client_cancelled' } });
    expect(canceled.headers.get('x-fal-error-type')).toBe('client_cancelled');
    expect(await call('PUT', queued.cancel_url as string)).toMatchObject({ status: 400, body: { status: 'ALREADY_COMPLETED' } });
    expect(await call('PUT', `${fake.url}/fal-ai/flux-2-pro/requests/nope/cancel`)).toMatchObject({ status: 404, body: { status: 'NOT_FOUND' } });
  });
});

describe('fake fal: webhooks', () => {
  test('deliveries are Ed25519-signed over id, user, timestamp and the body hash, with a key from the JWKS', async () => {
    const received: { headers: Record<string, string>; body: string }[] = [];
    const hook = await listenOnLoopback((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.end();
      });
    });
    try {
      fake.setScenario({ queueMs: 0, processingMs: 10 });
      await submit('fal-ai/flux-2-pro', { prompt: 'p' }, `?fal_webhook=${encodeURIComponent(`${hook.url}/hook`)}`);
      await fake.webhooksSettled();
      const [delivery] = received;
      if (!delivery) throw new Error('no delivery');
      const jwks = (await call('GET', fake.jwksUrl, undefined, {})).body as { keys: { kty: string; crv: string; x: string }[] };
      expect(jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.stringMatching(/^[\w-]{43}=$/) }]);
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwks.keys[0]!.x.replace(/=+$/, '') }, format: 'jwk' });
      const h = delivery.headers;
      const message = [h['x-fal-webhook-request-id'], h['x-fal-webhook-user-id'], h['x-fal-webhook-timestamp'], createHash('sha256').update(delivery.body).digest('hex')].join('\n');
      expect(verify(null, Buffer.from(message), key, Buffer.from(h['x-fal-webhook-signature'] ?? '', 'hex'))).toBe(true);
      expect(h['x-fal-webhook-user-id']).toBe(fake.userId);
      expect(JSON.parse(delivery.body)).toMatchObject({ request_id: h['x-fal-webhook-request-id'], status: 'OK', payload: { images: [expect.any(Object)] } });
      expect(fake.webhookDeliveries).toMatchObject([{ variant: 'valid', status: 200 }]);
    } finally {
      await hook.close();
    }
  });
});
