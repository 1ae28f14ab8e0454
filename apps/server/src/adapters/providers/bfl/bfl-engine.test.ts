import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeBfl } from '#test/fakes/fake-bfl.ts';
import type { FakeBfl } from '#test/fakes/fake-bfl.ts';
import { createBflEngine, getBflCredits } from './bfl-engine.ts';
import { engineErrorOf, makeRequest, pollUntilSettled } from './bfl-test-support.ts';

// Tasks take 10 s of fake time; tests jump the fake's clock instead of sleeping, so "the first poll
// is Pending" holds however slow the machine is.
const PROCESSING_MS = 10_000;
let skewMs = 0;
const finishProcessing = () => {
  skewMs += PROCESSING_MS;
};
let fake: FakeBfl;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeBfl({ processingMs: PROCESSING_MS, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeBfl, apiKey = f.apiKey) => createBflEngine({ apiKey, baseUrl: f.url });

describe('BFL engine: a text-to-image generation', () => {
  test('submits, polls the cluster host until Ready and downloads an image of the requested size and format', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ width: 1440, height: 1440, outputFormat: 'webp', seed: 7 });

    const handle = await engine.submit(request);
    // 1440² is 1.98 MP: pro bills 3 + 1.5 credits, the real example in the protocol notes.
    expect(handle.cost).toBe(4.5);
    expect(new URL(handle.pollingUrl ?? '').origin).toBe(fake.clusterUrl);

    const first = await engine.poll(handle, request);
    expect(first).toEqual({ state: 'pending', progress: expect.any(Number) });
    expect(first.state === 'pending' && first.progress).toBeLessThan(1);
    finishProcessing();
    const final = await engine.poll(handle, request);
    if (final.state !== 'ready') throw new Error(`expected ready, got ${final.state}`);
    expect(final.result).toMatchObject({ kind: 'url', seed: 7 });

    const bytes = await engine.fetchResult(final.result);
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1440, 1440, 'webp']);

    expect(fake.requestsTo('poll').map((r) => r.listener)).toEqual(['cluster', 'cluster']);
    expect(fake.requestsTo('delivery')).toHaveLength(1);
  });

  test('falls back to get_result on the base URL when BFL returns no polling_url (webhook variant)', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const real = await engine.submit(request);
    fake.scriptNext('submit', { status: 200, body: { id: real.requestId, status: 'Pending', webhook_url: 'https://example.invalid/hook', cost: 3 } });

    const handle = await engine.submit(request);
    expect(handle.pollingUrl).toBe(`${fake.url}/v1/get_result?id=${real.requestId}`);
    finishProcessing();
    const { final } = await pollUntilSettled(engine, handle, request);
    expect(final.state).toBe('ready');
    expect(fake.requestsTo('poll').at(-1)?.listener).toBe('api');
  });

  test('tolerates unknown fields and statuses outside the spec in BFL responses', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    finishProcessing();
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready' || final.result.kind !== 'url') throw new Error('expected a ready url result');

    fake.scriptNext('submit', { status: 200, body: { id: 'abc', polling_url: handle.pollingUrl, cost: 3, input_mp: 0, output_mp: 0.75, region: 'eu2', queue: { position: 3 } } });
    expect(await engine.submit(request)).toEqual({ requestId: 'abc', pollingUrl: handle.pollingUrl, cost: 3 });

    fake.scriptNext('poll', { status: 200, body: { id: 'abc', status: 'Processing', progress: 0.5, eta_seconds: 4 } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: 0.5 });

    fake.scriptNext('poll', {
      status: 200,
      body: { id: 'abc', status: 'Ready', progress: null, details: null, preview: null, cluster: 'eu2', result: { sample: final.result.url, seed: 9, pre_filtered: false, c2pa: {} } },
    });
    expect(await engine.poll(handle, request)).toEqual({ state: 'ready', result: { kind: 'url', url: final.result.url, seed: 9 } });
  });

  test('cancel resolves: BFL has no cancel endpoint', async () => {
    const engine = engineFor(fake);
    const handle = await engine.submit(makeRequest());
    const sent = fake.requests.length;
    await expect(engine.cancel(handle)).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(sent);
  });
});

describe('BFL engine: terminal task states', () => {
  test('a prompt flagged before processing is moderated at the request stage, with the reasons', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ prompt: 'a scene that will moderate-request' });
    const { final } = await pollUntilSettled(engine, await engine.submit(request), request);
    expect(final).toEqual({ state: 'moderated', stage: 'request', detail: 'Moderation Reasons: Fake BFL trigger word in prompt' });
  });

  test('an output flagged after generation is moderated at the content stage', async () => {
    fake.nextTaskOutcome({ kind: 'content_moderated', details: { 'Moderation Reasons': ['NSFW'] } });
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    expect((await engine.poll(handle, request)).state).toBe('pending');
    finishProcessing();
    expect(await engine.poll(handle, request)).toEqual({ state: 'moderated', stage: 'content', detail: 'Moderation Reasons: NSFW' });
  });

  test('an Error status fails the generation for good with BFL’s details', async () => {
    fake.nextTaskOutcome({ kind: 'error', details: { message: 'GPU worker crashed' } });
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    finishProcessing();
    const { final } = await pollUntilSettled(engine, handle, request);
    expect(final).toEqual({ state: 'failed', code: 'engine_error', retryable: false, detail: 'message: GPU worker crashed' });
  });

  test('Task not found (200 body, or a 404) fails with an unknown-or-expired detail', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = { requestId: '6f1c5a0e-0000-4000-8000-000000000000', pollingUrl: `${fake.clusterUrl}/v1/get_result?id=6f1c5a0e-0000-4000-8000-000000000000` };
    const expected = { state: 'failed', code: 'engine_error', retryable: false, detail: expect.stringMatching(/never existed or has expired/) };
    expect(await engine.poll(handle, request)).toEqual(expected);

    fake.scriptNext('poll', { status: 404 });
    expect(await engine.poll(handle, request)).toEqual(expected);
  });
});

describe('BFL engine: credentials and privacy', () => {
  test('a wrong key is refused as engine_auth_failed, and the key never appears in the error', async () => {
    const err = await engineErrorOf(engineFor(fake, 'bfl_wrong_key_0123456789').submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: 403 });
    expect(err.message).not.toContain('bfl_wrong_key_0123456789');
    expect(err.message).not.toContain(fake.apiKey);
  });

  test('a request arriving without a key (e.g. stripped by a proxy) is engine_auth_failed, 401 or 403', async () => {
    const stripKey: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('x-key');
      return fetch(input, { ...init, headers });
    };
    for (const missingKeyStatus of [403, 401] as const) {
      fake.setScenario({ missingKeyStatus });
      const engine = createBflEngine({ apiKey: fake.apiKey, baseUrl: fake.url, fetch: stripKey });
      const err = await engineErrorOf(engine.submit(makeRequest()));
      expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: missingKeyStatus });
      expect(err.message).toContain('Not authenticated');
    }
  });

  test('sends only the generation parameters, and the key only to the configured origin', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ seed: null });
    const handle = await engine.submit(request);
    finishProcessing();
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready') throw new Error('expected ready');
    await engine.fetchResult(final.result);

    const [submit] = fake.requestsTo('submit');
    expect(submit?.body).toEqual({ prompt: request.prompt, width: 1024, height: 768, output_format: 'png', safety_tolerance: 2 });
    for (const r of fake.requests) {
      const everything = JSON.stringify([r.path, r.query, r.headers, r.rawBody]);
      expect(everything).not.toContain(request.idempotencyKey);
      expect(Object.keys(r.headers)).not.toEqual(expect.arrayContaining(['cookie']));
      expect(r.headers.authorization).toBeUndefined();
      // The cluster and delivery hosts are other origins here, so they must not receive the key.
      expect(r.headers['x-key']).toBe(r.listener === 'api' ? fake.apiKey : undefined);
    }
  });

  test('getBflCredits reads the balance, which a submit reduces by its cost', async () => {
    const before = await getBflCredits({ apiKey: fake.apiKey, baseUrl: fake.url });
    const { cost } = await engineFor(fake).submit(makeRequest());
    expect(await getBflCredits({ apiKey: fake.apiKey, baseUrl: `${fake.url}/` })).toBeCloseTo(before - (cost ?? 0), 5);
    const err = await engineErrorOf(getBflCredits({ apiKey: 'bfl_nope', baseUrl: fake.url }));
    expect(err.code).toBe('engine_auth_failed');
  });
});
