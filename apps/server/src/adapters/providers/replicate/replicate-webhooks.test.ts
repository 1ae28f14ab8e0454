import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WebhookRejectedError } from '#src/adapters/providers/engine.ts';
import type { ImageEngine, WebhookDelivery } from '#src/adapters/providers/engine.ts';
import { replicateFaults, signStandardWebhook, startFakeReplicate, startWebhookReceiver } from '#test/fakes/fake-replicate.ts';
import type { FakeReplicate, WebhookReceiver } from '#test/fakes/fake-replicate.ts';
import { createReplicateEngine } from './replicate-engine.ts';
import type { ReplicateEngineOptions } from './replicate-engine.ts';
import { makeRequest } from './replicate-test-support.ts';

let fake: FakeReplicate;
let receiver: WebhookReceiver;
beforeEach(async () => {
  fake = await startFakeReplicate({ processingMs: 40, startingMs: 10 });
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await fake.close();
  await receiver.close();
});
const engineFor = (opts: Partial<ReplicateEngineOptions> = {}) => createReplicateEngine({ apiToken: fake.apiToken, baseUrl: fake.url, preferWaitSeconds: 0, ...opts });

/** Submits with a webhook URL and waits for the fake's deliveries to arrive at the receiver. */
async function deliveriesFor(engine: ImageEngine, count = 1): Promise<{ requestId: string; received: WebhookDelivery[] }> {
  const before = receiver.received.length;
  const { requestId } = await engine.submit(makeRequest({ webhookUrl: receiver.url }));
  await receiver.waitFor(before + count);
  await fake.settleWebhooks();
  return { requestId, received: receiver.received.slice(before) };
}
const verify = (engine: ImageEngine, delivery: WebhookDelivery | undefined) => {
  if (!engine.verifyWebhook || !delivery) throw new Error('no verifyWebhook or no delivery');
  return engine.verifyWebhook(delivery);
};

describe('Replicate engine: asking for webhooks', () => {
  test('the create carries webhook and webhook_events_filter ["completed"]; the delivery is the signed prediction', async () => {
    const engine = engineFor();
    const { requestId, received } = await deliveriesFor(engine);
    expect(fake.requestsTo('create')[0]?.body).toMatchObject({ webhook: receiver.url, webhook_events_filter: ['completed'] });
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]?.rawBody.toString() ?? '{}')).toMatchObject({ id: requestId, status: 'succeeded' });
    expect(received[0]?.headers).toMatchObject({ 'webhook-id': expect.stringMatching(/^msg_/), 'webhook-signature': expect.stringMatching(/^v1,/) });
  });

  test('webhookEvents adds the start event', async () => {
    const { received } = await deliveriesFor(engineFor({ webhookEvents: ['start', 'completed'] }), 2);
    expect(received.map((d) => (JSON.parse(d.rawBody.toString()) as { status: string }).status)).toEqual(['starting', 'succeeded']);
  });
});

describe('Replicate engine: verifying webhooks (Standard Webhooks)', () => {
  test('a valid delivery is accepted and names the prediction; the secret is fetched lazily, once', async () => {
    const engine = engineFor();
    const { requestId, received } = await deliveriesFor(engine);
    expect(fake.requestsTo('secret')).toHaveLength(0);
    expect(await verify(engine, received[0])).toEqual({ requestId });

    const second = await deliveriesFor(engine);
    expect(await verify(engine, second.received[0])).toEqual({ requestId: second.requestId });
    expect(fake.requestsTo('secret')).toHaveLength(1);
    expect(fake.requestsTo('secret')[0]?.headers.authorization).toBe(`Bearer ${fake.apiToken}`);
  });

  test.each([
    ['tampered', 'No matching signature found'],
    ['replayed', 'Message timestamp too old'],
    ['wrong_secret', 'No matching signature found'],
    ['unsigned', 'headers missing'],
  ] as const)('a %s delivery is rejected', async (mode, reason) => {
    const engine = engineFor();
    fake.nextWebhookMode(mode);
    const { received } = await deliveriesFor(engine);
    const err = await verify(engine, received[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookRejectedError);
    expect((err as Error).message).toContain(reason);
  });

  test('a duplicate delivery is accepted once and rejected the second time', async () => {
    const engine = engineFor();
    fake.nextWebhookMode('duplicate');
    const { requestId, received } = await deliveriesFor(engine, 2);
    expect(received[0]?.rawBody.equals(received[1]?.rawBody ?? Buffer.alloc(0))).toBe(true);
    expect(received[0]?.headers['webhook-signature']).toBe(received[1]?.headers['webhook-signature']);
    expect(await verify(engine, received[0])).toEqual({ requestId });
    await expect(verify(engine, received[1])).rejects.toThrow(/already received/);
  });

  test('a forged delivery does not poison the duplicate check for the real one', async () => {
    const engine = engineFor();
    const { requestId, received } = await deliveriesFor(engine);
    const real = received[0]!;
    const forged = { headers: { ...real.headers, 'webhook-signature': 'v1,AAAA' }, rawBody: real.rawBody };
    await expect(verify(engine, forged)).rejects.toBeInstanceOf(WebhookRejectedError);
    expect(await verify(engine, real)).toEqual({ requestId });
  });

  test('a secret given as a string or a function is used without asking Replicate', async () => {
    for (const webhookSecret of [fake.webhookSecret, () => Promise.resolve(fake.webhookSecret)]) {
      const engine = engineFor({ webhookSecret });
      const { requestId, received } = await deliveriesFor(engine);
      expect(await verify(engine, received[0])).toEqual({ requestId });
    }
    expect(fake.requestsTo('secret')).toHaveLength(0);
    const wrong = engineFor({ webhookSecret: 'whsec_' + Buffer.from('not the secret').toString('base64') });
    const { received } = await deliveriesFor(wrong);
    await expect(verify(wrong, received[0])).rejects.toBeInstanceOf(WebhookRejectedError);
  });

  test('after a rotation the secret is fetched again once the cached one is old enough', async () => {
    const patient = engineFor();
    const eager = engineFor({ webhookSecretRefreshMs: 0 });
    const first = await deliveriesFor(patient);
    await verify(patient, first.received[0]);
    expect(await verify(eager, first.received[0])).toEqual({ requestId: first.requestId }); // both now hold the old secret
    fake.rotateWebhookSecret();
    const { requestId, received } = await deliveriesFor(patient);
    const secretFetches = fake.requestsTo('secret').length;
    await expect(verify(patient, received[0])).rejects.toThrow(/No matching signature/);
    expect(fake.requestsTo('secret')).toHaveLength(secretFetches); // a fresh cache is not refetched
    expect(await verify(eager, received[0])).toEqual({ requestId });
    expect(fake.requestsTo('secret')).toHaveLength(secretFetches + 1);
  });

  test('when the secret cannot be fetched the delivery is rejected without details, and the next one tries again', async () => {
    const engine = engineFor();
    const { requestId, received } = await deliveriesFor(engine);
    fake.scriptNext('secret', replicateFaults.serverError(503));
    const err = await verify(engine, received[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookRejectedError);
    expect((err as Error).message).toBe('Replicate webhook rejected: the signing secret could not be loaded');
    expect(await verify(engine, received[0])).toEqual({ requestId });
  });

  test('a validly signed body that is not a prediction is rejected', async () => {
    const engine = engineFor({ webhookSecret: fake.webhookSecret });
    const body = JSON.stringify({ hello: 'world' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,bogus ${signStandardWebhook(fake.webhookSecret, 'msg_x', ts, body)}` };
    await expect(verify(engine, { headers, rawBody: Buffer.from(body) })).rejects.toThrow(/not a prediction/);
  });
});
