import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { falFaults, startFakeFal } from '#test/fakes/fake-fal.ts';
import type { FakeFal } from '#test/fakes/fake-fal.ts';
import { createFalEngine } from './fal-engine.ts';
import type { FalEngineOptions } from './fal-engine.ts';
import { engineErrorOf, makeReference, makeRequest, pollUntilSettled, readyResult } from './fal-test-support.ts';

let skewMs = 0;
let fake: FakeFal;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeFal({ queueMs: 10, processingMs: 40, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeFal, opts: Partial<FalEngineOptions> = {}) => createFalEngine({ apiKey: f.apiKey, baseUrl: f.url, jwksUrl: f.jwksUrl, ...opts });
const settle = async (engine: ReturnType<typeof engineFor>, request = makeRequest()) => (await pollUntilSettled(engine, await engine.submit(request), request)).final;

describe('fal engine: requests that end in failure (COMPLETED, the result GET carries it)', () => {
  test('a flagged prompt is moderated at the request stage, with fal’s message; final', async () => {
    expect(await settle(engineFor(fake), makeRequest({ prompt: 'please moderate-request this' }))).toEqual({
      state: 'moderated',
      stage: 'request',
      detail: 'The content could not be processed because it contained material flagged by a content checker.',
    });
  });

  test('a flagged output is moderated at the content stage: a 422 on pro, has_nsfw_concepts on [dev]/klein', async () => {
    const engine = engineFor(fake);
    expect(await settle(engine, makeRequest({ prompt: 'moderate-content' }))).toMatchObject({ state: 'moderated', stage: 'content' });
    expect(await settle(engine, makeRequest({ engineModel: 'fal-ai/flux-2/klein/9b', prompt: 'moderate-content' }))).toEqual({
      state: 'moderated',
      stage: 'content',
      detail: 'fal safety checker flagged the output (has_nsfw_concepts)',
    });
  });

  test('validation errors are engine_rejected_request with fal’s field messages, not retryable', async () => {
    const engine = engineFor(fake);
    // pro has no webp, and [dev] is limited to 2048 px a side: the fake's runner rejects both.
    expect(await settle(engine, makeRequest({ outputFormat: 'webp' }))).toEqual({
      state: 'failed', code: 'engine_rejected_request', retryable: false, detail: "output_format: Input should be 'jpeg' or 'png'",
    });
    expect(await settle(engine, makeRequest({ engineModel: 'fal-ai/flux-2', width: 2560 }))).toMatchObject({
      state: 'failed', code: 'engine_rejected_request', retryable: false, detail: 'image_size.width: Input should be less than or equal to 2048',
    });
    // Broken reference bytes fail to load at the runner.
    const broken = { ...(await makeReference(64, 64)), bytes: Buffer.from('not an image') };
    expect(await settle(engine, makeRequest({ references: [broken] }))).toMatchObject({ code: 'engine_rejected_request', detail: expect.stringContaining('image_urls.0: Failed to load the image') });
  });

  test('X-Fal-Retryable: true on a model error makes it retryable', async () => {
    fake.nextOutcome({ kind: 'model_error', retryable: true });
    expect(await settle(engineFor(fake))).toEqual({ state: 'failed', code: 'engine_error', retryable: true, detail: 'Internal server error' });
    fake.nextOutcome({ kind: 'model_error', retryable: false });
    expect(await settle(engineFor(fake))).toMatchObject({ code: 'engine_error', retryable: false });
  });

  test('infrastructure failures carry X-Fal-Error-Type and are retryable unless fal says otherwise', async () => {
    fake.nextOutcome({ kind: 'request_error', status: 504, errorType: 'request_timeout', detail: 'Request timed out' });
    expect(await settle(engineFor(fake))).toEqual({ state: 'failed', code: 'engine_unavailable', retryable: true, detail: 'Request timed out (request_timeout)' });
    fake.nextOutcome({ kind: 'request_error', status: 503, errorType: 'runner_scheduling_failure', retryable: false });
    expect(await settle(engineFor(fake))).toMatchObject({ code: 'engine_error', retryable: false });
  });

  test('a result fal no longer has is result_expired; an unknown request fails for good', async () => {
    fake.nextOutcome({ kind: 'result_gone' });
    expect(await settle(engineFor(fake))).toMatchObject({ state: 'failed', code: 'result_expired', retryable: false });
    const ghost = { requestId: 'ghost', pollingUrl: `${fake.url}/fal-ai/flux-2-pro/requests/ghost/status` };
    expect(await engineFor(fake).poll(ghost, makeRequest())).toMatchObject({ state: 'failed', code: 'engine_error', retryable: false, detail: expect.stringContaining('never existed') });
  });

  test('a completed request without an image is invalid_output', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    skewMs += 1_000;
    fake.scriptNext('result', { status: 200, body: { images: [], seed: 1 } });
    expect(await engine.poll(handle, request)).toMatchObject({ state: 'failed', code: 'invalid_output', retryable: false });
  });
});

describe('fal engine: HTTP errors', () => {
  test('429 is retryable engine_unavailable with Retry-After in ms (seconds or HTTP date)', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('submit', falFaults.rateLimited(7));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 7000, httpStatus: 429 });
    fake.scriptNext('submit', falFaults.rateLimited(new Date(Date.now() + 20_000).toUTCString()));
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err.retryAfterMs).toBeGreaterThan(15_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
    // On a status or result GET the request itself is fine: the error is thrown, the next poll carries on.
    const request = makeRequest();
    const handle = await engine.submit(request);
    fake.scriptNext('status', falFaults.rateLimited(2));
    expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryAfterMs: 2000 });
    skewMs += 1_000;
    fake.scriptNext('result', falFaults.rateLimited(3));
    expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryAfterMs: 3000 });
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('5xx on submit, status and result are retryable engine_unavailable, however often they come', async () => {
    const engine = engineFor(fake);
    for (const status of [500, 502, 503, 504] as const) {
      fake.scriptNext('submit', falFaults.serverError(status));
      expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: status });
    }
    fake.scriptNext('submit', falFaults.requestError(503, 'runner_scheduling_failure'));
    expect((await engineErrorOf(engine.submit(makeRequest()))).message).toContain('(runner_scheduling_failure)');
    const request = makeRequest();
    const handle = await engine.submit(request);
    fake.scriptNext('status', falFaults.serverError(503), 3);
    for (let i = 0; i < 3; i++) expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    skewMs += 1_000;
    fake.scriptNext('result', { status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: 502 });
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('an exhausted balance (fal’s 403, or a 402) is engine_out_of_credits with an operator-facing message', async () => {
    fake.setScenario({ balanceUsd: 0.05, priceUsd: 0.03 });
    const engine = engineFor(fake);
    await engine.submit(makeRequest());
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_out_of_credits', retryable: false, httpStatus: 403 });
    expect(err.message).toMatch(/^The fal account is out of balance; top it up/);
    fake.scriptNext('submit', falFaults.exhaustedBalance(402));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_out_of_credits', httpStatus: 402 });
    fake.scriptNext('submit', { status: 402, body: { error: 'payment_required', message: 'Insufficient balance' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_out_of_credits' });
  });

  test('a refused key is engine_auth_failed on every call, and neither half of the key appears in errors', async () => {
    const wrongKey = 'a1b2c3d4-key-id:0123456789abcdef-secret';
    const engine = engineFor(fake, { apiKey: wrongKey });
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: 401 });
    expect(err.message).toContain('No user found for Key ID and Secret');
    const handle = await engineFor(fake).submit(makeRequest());
    expect(await engineErrorOf(engine.poll(handle, makeRequest()))).toMatchObject({ code: 'engine_auth_failed' });
    // Even if fal echoed the key back, it is redacted.
    fake.scriptNext('submit', { status: 400, body: { detail: `bad key ${fake.apiKey} / ${fake.apiKey.split(':')[1]}` } });
    const echoed = await engineErrorOf(engineFor(fake).submit(makeRequest()));
    expect(echoed.code).toBe('engine_rejected_request');
    expect(echoed.message).not.toContain(fake.apiKey.split(':')[1]);
    expect(echoed.message).not.toContain(fake.apiKey.split(':')[0]);
  });

  test('a submit-time 422 is engine_rejected_request; X-Fal-Retryable: true makes it retryable', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('submit', falFaults.validation([{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }]));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_rejected_request', retryable: false, message: expect.stringContaining('prompt: Field required') });
    fake.scriptNext('submit', falFaults.validation([{ loc: ['body'], msg: 'Upstream busy, try again', type: 'downstream_service_unavailable' }], true));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_rejected_request', retryable: true });
  });

  test('dropped connections and timeouts are retryable; a caller abort is passed through', async () => {
    const engine = engineFor(fake, { requestTimeoutMs: 100 });
    fake.scriptNext('submit', falFaults.connectionReset());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    fake.scriptNext('status', falFaults.slow(1_000));
    const handle = await engine.submit(makeRequest());
    const err = await engineErrorOf(engine.poll(handle, makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect(err.message).toContain('timed out after 100 ms');

    fake.scriptNext('submit', falFaults.slow(1_000));
    const controller = new AbortController();
    const pending = engineFor(fake).submit(makeRequest(), controller.signal);
    setTimeout(() => controller.abort(new Error('user canceled')), 50);
    await expect(pending).rejects.toThrow('user canceled');
  });

  test('a 200 submit without a request_id is a non-retryable engine_error (it may be queued and billed)', async () => {
    fake.scriptNext('submit', { status: 200, body: '<html>maintenance</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engineFor(fake).submit(makeRequest()))).toMatchObject({ code: 'engine_error', retryable: false });
  });
});

describe('fal engine: downloading the result', () => {
  test('an output file that expired before the download is result_expired (404 or 403)', async () => {
    const engine = engineFor(fake);
    fake.nextOutcome({ kind: 'cdn_expired' });
    const { result } = await readyResult(engine, makeRequest());
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'result_expired', retryable: false, httpStatus: 404 });
    fake.setScenario({ expiredCdnStatus: 403, cdnTtlMs: 60_000 });
    const later = await readyResult(engine, makeRequest());
    skewMs += 60_000;
    expect(await engineErrorOf(engine.fetchResult(later.result))).toMatchObject({ code: 'result_expired', httpStatus: 403 });
  });

  test('a non-image, empty or oversized body is invalid_output; a CDN 5xx is retryable', async () => {
    const engine = engineFor(fake);
    const { result } = await readyResult(engine, makeRequest());
    fake.scriptNext('cdn', { status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', retryable: false });
    fake.scriptNext('cdn', { status: 200, body: '', headers: { 'content-type': 'image/png' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'fal result is empty' });
    expect(await engineErrorOf(engineFor(fake, { maxResultBytes: 100 }).fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('larger than') });
    fake.scriptNext('cdn', falFaults.serverError(503));
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect((await engine.fetchResult(result)).length).toBeGreaterThan(0);
  });
});
