import { createHmac } from 'node:crypto';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeReplicate, startWebhookReceiver } from './fake-replicate.ts';
import type { FakeReplicate } from './fake-replicate.ts';

/** The fake itself, spoken to with plain fetch, checked against the protocol notes (providers.md §3, §7). */

let skewMs = 0;
let fake: FakeReplicate;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeReplicate({ processingMs: 10_000, startingMs: 1_000, syncWaitScale: 10, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});

type Json = Record<string, unknown>;
async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, token: string | null = fake.apiToken) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}
const create = (input: unknown, extra: Json = {}, headers: Record<string, string> = {}) =>
  call('POST', '/v1/models/black-forest-labs/flux-2-pro/predictions', { input, ...extra }, headers);

describe('fake Replicate: auth and errors', () => {
  test('401 problems without or with a wrong token; `Token` is accepted like `Bearer`', async () => {
    expect(await call('GET', '/v1/account', undefined, {}, null)).toMatchObject({ status: 401, body: { title: 'Unauthenticated', detail: 'You did not pass an authentication token', status: 401 } });
    expect((await call('GET', '/v1/account', undefined, {}, 'r8_nope')).body.detail).toBe('You did not pass a valid authentication token');
    expect((await call('GET', '/v1/account', undefined, { authorization: `Token ${fake.apiToken}` }, null)).status).toBe(200);
  });

  test('input validation answers 422 with invalid_fields', async () => {
    const { status, body } = await create({ width: 100, output_format: 'jpeg', input_images: Array(9).fill('https://example.com/a.png') });
    expect(status).toBe(422);
    expect(body).toMatchObject({ title: 'Input validation failed', status: 422 });
    expect(body.invalid_fields).toEqual([
      { type: 'required', field: 'input', description: 'prompt is required' },
      { type: 'number_gte', field: 'input.width', description: 'Must be greater than or equal to 256' },
      expect.objectContaining({ type: 'enum', field: 'input.output_format' }),
      { type: 'array_max_items', field: 'input.input_images', description: 'Array must have at most 8 items' },
    ]);
    expect(body.detail).toContain('- input.width: Must be greater than or equal to 256\n');
  });

  test('unknown models are 404; unknown input keys are ignored', async () => {
    expect((await call('POST', '/v1/models/black-forest-labs/flux-9/predictions', { input: { prompt: 'p' } })).status).toBe(404);
    expect((await create({ prompt: 'p', unheard_of: 1 })).status).toBe(201);
  });

  test('create rate limit: 429 with {detail} and Retry-After; out of credit: 402', async () => {
    fake.setScenario({ createsPerMinute: 2 });
    await create({ prompt: 'p' });
    await create({ prompt: 'p' });
    const limited = await create({ prompt: 'p' });
    expect(limited).toMatchObject({ status: 429, body: { detail: 'Request was throttled. Your rate limit resets in ~60s.' } });
    expect(limited.headers.get('retry-after')).toBe('60');
    fake.setScenario({ createsPerMinute: 600, credits: 0 });
    expect(await create({ prompt: 'p' })).toMatchObject({ status: 402, body: { title: 'Insufficient credit' } });
  });
});

describe('fake Replicate: prediction lifecycle', () => {
  test('starting → processing (tqdm logs) → succeeded, output on the delivery host; then data_removed after an hour', async () => {
    const { status, body } = await create({ prompt: 'p', aspect_ratio: 'custom', width: 512, height: 256, output_format: 'png', seed: 5 });
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: 'starting', version: 'hidden', output: null, urls: { get: `${fake.url}/v1/predictions/${String(body.id)}` } });
    const get = async () => (await call('GET', `/v1/predictions/${String(body.id)}`)).body;

    skewMs += 5_500;
    const processing = await get();
    expect(processing).toMatchObject({ status: 'processing', started_at: expect.any(String) });
    expect(processing.logs).toMatch(/^Using seed: 5\n 10%\|█/);

    skewMs += 10_000;
    const done = await get();
    expect(done).toMatchObject({ status: 'succeeded', data_removed: false, metrics: { image_count: 1 } });
    const image = await fetch(String(done.output));
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(await sharp(Buffer.from(await image.arrayBuffer())).metadata()).toMatchObject({ width: 512, height: 256 });

    skewMs += 3_600_000;
    expect(await get()).toMatchObject({ status: 'succeeded', data_removed: true, output: null });
    expect((await fetch(String(done.output))).status).toBe(404);
  });

  test('Prefer: wait holds the create until the prediction finishes, or answers it unfinished when the wait is over', async () => {
    const unfinished = await create({ prompt: 'p' }, {}, { prefer: 'wait=3' });
    expect(unfinished.body.status).toBe('starting');

    fake.setScenario({ processingMs: 30, startingMs: 5, syncWaitScale: 1000 });
    const started = Date.now();
    const finished = await create({ prompt: 'p' }, {}, { prefer: 'wait' });
    expect(finished).toMatchObject({ status: 201, body: { status: 'succeeded', output: expect.stringMatching(/\.webp$/) } });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await create({ prompt: 'p' }, {}, { prefer: 'wait=61' })).status).toBe(400);
  });

  test('cancel ends a running prediction as canceled and leaves a finished one alone', async () => {
    const { body } = await create({ prompt: 'p' });
    const canceled = await call('POST', `/v1/predictions/${String(body.id)}/cancel`);
    expect(canceled).toMatchObject({ status: 200, body: { status: 'canceled', completed_at: expect.any(String) } });
    skewMs += 20_000;
    expect((await call('GET', `/v1/predictions/${String(body.id)}`)).body.status).toBe('canceled');

    const other = await create({ prompt: 'p' });
    skewMs += 20_000;
    expect((await call('POST', `/v1/predictions/${String(other.body.id)}/cancel`)).body.status).toBe('succeeded');
  });

  test('scripted outcomes: E005 failure, capacity failure, output array', async () => {
    fake.nextOutcome({ kind: 'moderated' });
    fake.nextOutcome({ kind: 'unavailable' });
    fake.nextOutcome({ kind: 'succeeded_array' });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(String((await create({ prompt: 'p' })).body.id));
    skewMs += 20_000;
    const views = await Promise.all(ids.map(async (id) => (await call('GET', `/v1/predictions/${id}`)).body));
    expect(views[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('(E005)') });
    expect(views[1]).toMatchObject({ status: 'failed', error: expect.stringContaining('(E003)') });
    expect(views[2]?.output).toEqual([expect.stringMatching(/^http/)]);
  });
});

describe('fake Replicate: webhooks', () => {
  test('default events (output + completed), signed per Standard Webhooks with the secret from /v1/webhooks/default/secret', async () => {
    const receiver = await startWebhookReceiver();
    try {
      fake.setScenario({ processingMs: 30, startingMs: 5 });
      const secret = (await call('GET', '/v1/webhooks/default/secret')).body.key;
      expect(secret).toMatch(/^whsec_/);
      const { body } = await create({ prompt: 'p' }, { webhook: receiver.url });
      const received = await receiver.waitFor(2);
      expect(received.map((d) => (JSON.parse(d.rawBody.toString()) as Json).status)).toEqual(['succeeded', 'succeeded']);
      expect(fake.webhookDeliveries.map((d) => d.event)).toEqual(['output', 'completed']);
      for (const d of received) {
        const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } = d.headers;
        const key = Buffer.from(String(secret).slice('whsec_'.length), 'base64');
        expect(sig).toBe(`v1,${createHmac('sha256', key).update(`${id}.${ts}.${d.rawBody.toString()}`).digest('base64')}`);
        expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
        expect(JSON.parse(d.rawBody.toString())).toMatchObject({ id: body.id, webhook: receiver.url });
      }
    } finally {
      await receiver.close();
    }
  });

  test('a completed webhook answered with 5xx is retried under the same webhook-id; logs events are throttled', async () => {
    const receiver = await startWebhookReceiver();
    try {
      fake.setScenario({ processingMs: 30, startingMs: 5, webhookRetryDelayMs: 10 });
      receiver.respondNext(500, 2);
      await create({ prompt: 'p' }, { webhook: receiver.url, webhook_events_filter: ['completed'] });
      await receiver.waitFor(3);
      await fake.settleWebhooks();
      const ids = receiver.received.map((d) => d.headers['webhook-id']);
      expect(new Set(ids).size).toBe(1);
      expect(fake.webhookDeliveries[0]?.attempts.map((a) => a.status)).toEqual([500, 500, 204]);

      fake.setScenario({ processingMs: 10_000, startingMs: 0, webhookThrottleMs: 60_000 });
      await create({ prompt: 'p' }, { webhook: receiver.url, webhook_events_filter: ['logs'] });
      for (let i = 0; i < 5; i++) {
        skewMs += 1_000;
        await fake.settleWebhooks();
      }
      expect(fake.webhookDeliveries.filter((d) => d.event === 'logs')).toHaveLength(1);
      expect((await create({ prompt: 'p' }, { webhook_events_filter: ['everything'] })).status).toBe(422);
    } finally {
      await receiver.close();
    }
  });
});
