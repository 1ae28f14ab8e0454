import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { EngineError, WebhookRejectedError } from '#src/adapters/providers/engine.ts';
import type { ImageEngine, WebhookDelivery } from '#src/adapters/providers/engine.ts';
import { falFaults, startFakeFal } from '#test/fakes/fake-fal.ts';
import type { FakeFal, WebhookVariant } from '#test/fakes/fake-fal.ts';
import { createFalEngine } from './fal-engine.ts';
import type { FalEngineOptions } from './fal-engine.ts';
import { makeRequest, pollUntilSettled, startWebhookReceiver } from './fal-test-support.ts';

// One clock for fal and for us, so tests can move time for both (key cache, refetch cool-down).
let skewMs = 0;
const now = () => Date.now() + skewMs;
let fake: FakeFal;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeFal({ queueMs: 10, processingMs: 40, now });
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await fake.close();
  await receiver.close();
});
const engineFor = (f: FakeFal, opts: Partial<FalEngineOptions> = {}) => createFalEngine({ apiKey: f.apiKey, baseUrl: f.url, jwksUrl: f.jwksUrl, now, ...opts });
const verify = (engine: ImageEngine, delivery: WebhookDelivery | undefined) => {
  if (!engine.verifyWebhook || !delivery) throw new Error('no verifier or no delivery');
  return engine.verifyWebhook(delivery);
};
async function rejectionOf(promise: Promise<unknown>): Promise<WebhookRejectedError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (err instanceof WebhookRejectedError) return err;
  throw new Error(`expected a WebhookRejectedError, got ${String(err)}`);
}

/** Submits with our receiver as the webhook and waits for fal's automatic delivery. */
async function submitWithWebhook(engine: ImageEngine, prompt = makeRequest().prompt) {
  const request = makeRequest({ prompt, webhookUrl: receiver.url });
  const handle = await engine.submit(request);
  await fake.webhooksSettled();
  return { request, handle };
}

describe('fal webhooks: delivery and verification', () => {
  test('the webhook URL goes in ?fal_webhook=; the signed delivery verifies and names the request; poll then finds it ready', async () => {
    const engine = engineFor(fake);
    const { request, handle } = await submitWithWebhook(engine);
    expect(fake.requestsTo('submit')[0]?.query).toEqual({ fal_webhook: receiver.url });
    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(JSON.parse(delivery!.rawBody.toString())).toMatchObject({ request_id: handle.requestId, status: 'OK', payload: { images: [{ url: expect.any(String) }], seed: 42 } });

    expect(await verify(engine, delivery)).toEqual({ requestId: handle.requestId });
    // A verified webhook is only a trigger: the status comes from fal.
    expect((await engine.poll(handle, request)).state).toBe('ready');
  });

  test('a failed request’s ERROR webhook verifies too (the job then polls and learns it was moderated)', async () => {
    const engine = engineFor(fake);
    const { request, handle } = await submitWithWebhook(engine, 'moderate-request');
    expect(JSON.parse(receiver.deliveries[0]!.rawBody.toString())).toMatchObject({ status: 'ERROR', error: 'Invalid status code: 422', payload: { detail: [{ type: 'content_policy_violation' }] } });
    expect(await verify(engine, receiver.deliveries[0])).toEqual({ requestId: handle.requestId });
    expect((await pollUntilSettled(engine, handle, request)).final).toMatchObject({ state: 'moderated', stage: 'request' });
  });

  test.each<[WebhookVariant, RegExp]>([
    ['tampered', /does not verify/],
    ['foreign_key', /does not verify/],
    ['replayed', /outside the allowed window/],
  ])('a %s delivery is rejected', async (variant, reason) => {
    const engine = engineFor(fake, { jwksRefetchCooldownMs: 0 });
    fake.setScenario({ autoWebhook: null });
    const { handle } = await submitWithWebhook(engine);
    await pollUntilSettled(engine, handle, makeRequest());
    await fake.deliverWebhook(handle.requestId, variant);
    expect((await rejectionOf(verify(engine, receiver.deliveries[0]))).message).toMatch(reason);
  });

  test('a duplicate (the same signed bytes again) is rejected; a re-signed retry is accepted again', async () => {
    const engine = engineFor(fake);
    fake.setScenario({ autoWebhook: 'duplicate' });
    const { handle } = await submitWithWebhook(engine);
    const [first, second] = receiver.deliveries;
    expect(await verify(engine, first)).toEqual({ requestId: handle.requestId });
    expect((await rejectionOf(verify(engine, second))).message).toMatch(/already received/);

    // fal's own retries come later and are signed afresh (Ed25519 is deterministic: same second, same signature).
    skewMs += 5_000;
    await fake.deliverWebhook(handle.requestId, 'resigned');
    const [, , third, fourth] = receiver.deliveries;
    expect(await verify(engine, third)).toEqual({ requestId: handle.requestId });
    expect(await verify(engine, fourth)).toEqual({ requestId: handle.requestId });
  });

  test('missing headers, a malformed or future timestamp, a bad signature format and another account are rejected', async () => {
    const engine = engineFor(fake);
    const { handle } = await submitWithWebhook(engine);
    const good = receiver.deliveries[0]!;
    const withHeaders = (patch: Record<string, string | undefined>): WebhookDelivery => ({ rawBody: good.rawBody, headers: { ...good.headers, ...patch } });
    for (const name of ['x-fal-webhook-request-id', 'x-fal-webhook-user-id', 'x-fal-webhook-timestamp', 'x-fal-webhook-signature']) {
      expect((await rejectionOf(verify(engine, withHeaders({ [name]: undefined })))).message).toMatch(/without its X-Fal-Webhook/);
    }
    await rejectionOf(verify(engine, withHeaders({ 'x-fal-webhook-timestamp': '2026-01-01T00:00:00Z' })));
    await rejectionOf(verify(engine, withHeaders({ 'x-fal-webhook-timestamp': String(Math.floor(now() / 1000) + 600) })));
    await rejectionOf(verify(engine, withHeaders({ 'x-fal-webhook-signature': 'abc' })));
    await rejectionOf(verify(engine, withHeaders({ 'x-fal-webhook-request-id': 'someone-elses-request' })));
    expect((await rejectionOf(verify(engineFor(fake, { webhookUserId: 'another-account' }), good))).message).toMatch(/another fal account/);

    // Header names are matched case-insensitively; the untouched delivery still verifies.
    const shouting = Object.fromEntries(Object.entries(good.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await verify(engineFor(fake, { webhookUserId: fake.userId }), { rawBody: good.rawBody, headers: shouting })).toEqual({ requestId: handle.requestId });
  });
});

describe('fal webhooks: signing keys', () => {
  test('the JWKS is fetched once and cached, refetched after 24 hours, and never sent the API key', async () => {
    const engine = engineFor(fake);
    fake.setScenario({ autoWebhook: 'resigned' });
    await submitWithWebhook(engine);
    await submitWithWebhook(engine);
    for (const delivery of receiver.deliveries) await verify(engine, delivery);
    expect(fake.requestsTo('jwks')).toHaveLength(1);
    expect(fake.requestsTo('jwks')[0]?.headers.authorization).toBeUndefined();

    skewMs += 24 * 3600_000 + 1;
    const { handle } = await submitWithWebhook(engine);
    await verify(engine, receiver.deliveries.find((d) => d.headers['x-fal-webhook-request-id'] === handle.requestId));
    expect(fake.requestsTo('jwks')).toHaveLength(2);
  });

  test('after a key rotation an unknown signature triggers one refetch, at most every 30 s', async () => {
    const engine = engineFor(fake);
    const { handle } = await submitWithWebhook(engine);
    await verify(engine, receiver.deliveries[0]);
    fake.rotateWebhookKey();

    await fake.deliverWebhook(handle.requestId, 'valid');
    // Keys were fetched a moment ago: within the cool-down a signature no cached key verifies is refused.
    expect((await rejectionOf(verify(engine, receiver.deliveries[1]))).message).toMatch(/does not verify/);
    expect(fake.requestsTo('jwks')).toHaveLength(1);

    skewMs += 31_000;
    await fake.deliverWebhook(handle.requestId, 'valid');
    expect(await verify(engine, receiver.deliveries[2])).toEqual({ requestId: handle.requestId });
    expect(fake.requestsTo('jwks')).toHaveLength(2);
  });

  test('during a rotation both keys are published and both verify; an unpadded x is read as well', async () => {
    await fake.close();
    fake = await startFakeFal({ queueMs: 10, processingMs: 40, now, padJwksX: false });
    const engine = engineFor(fake);
    const { handle } = await submitWithWebhook(engine);
    fake.rotateWebhookKey(true);
    await fake.deliverWebhook(handle.requestId, 'valid');
    for (const delivery of receiver.deliveries) expect(await verify(engine, delivery)).toEqual({ requestId: handle.requestId });
    expect(((await (await fetch(fake.jwksUrl)).json()) as { keys: unknown[] }).keys).toHaveLength(2);
  });

  test('when fal’s keys cannot be fetched the delivery is not judged: a retryable EngineError, not a rejection', async () => {
    const { handle } = await submitWithWebhook(engineFor(fake));
    fake.scriptNext('jwks', falFaults.serverError(503));
    const err = await verify(engineFor(fake), receiver.deliveries[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true });
    fake.scriptNext('jwks', { status: 200, body: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } });
    expect(await verify(engineFor(fake), receiver.deliveries[0]).catch((e: unknown) => e)).toMatchObject({ code: 'engine_unavailable' });
    expect(await verify(engineFor(fake), receiver.deliveries[0])).toEqual({ requestId: handle.requestId });
  });
});
