import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { bflFaults, startFakeBfl } from '#test/fakes/fake-bfl.ts';
import type { FakeBfl } from '#test/fakes/fake-bfl.ts';
import { createBflEngine } from './bfl-engine.ts';
import { engineErrorOf, makeRequest, pollUntilSettled } from './bfl-test-support.ts';
import type { BflEngineOptions } from './bfl-engine.ts';

let skewMs = 0;
let fake: FakeBfl;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeBfl({ processingMs: 50, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeBfl, opts: Partial<BflEngineOptions> = {}) => createBflEngine({ apiKey: f.apiKey, baseUrl: f.url, ...opts });

describe('BFL engine: HTTP errors on submit and poll', () => {
  test('429 is retryable engine_unavailable with Retry-After in ms (seconds or HTTP date)', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('submit', bflFaults.rateLimited(7));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 7000, httpStatus: 429 });

    fake.scriptNext('submit', bflFaults.rateLimited(new Date(Date.now() + 20_000).toUTCString()));
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err.retryAfterMs).toBeGreaterThan(15_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
  });

  test('the fake’s own concurrency limit surfaces the same way, and the next submit succeeds once a task finishes', async () => {
    fake.setScenario({ maxActiveTasks: 1, processingMs: 10_000 });
    const engine = engineFor(fake);
    await engine.submit(makeRequest());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: 429 });
    skewMs += 10_000;
    await expect(engine.submit(makeRequest())).resolves.toMatchObject({ cost: 3 });
  });

  test('402 is engine_out_of_credits, not retryable, with an operator-facing message', async () => {
    fake.setScenario({ credits: 2 });
    const err = await engineErrorOf(engineFor(fake).submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_out_of_credits', retryable: false, httpStatus: 402 });
    expect(err.message).toMatch(/^BFL account has insufficient credits/);
  });

  test('422 is engine_rejected_request with the validation detail', async () => {
    const engine = engineFor(fake);
    const err = await engineErrorOf(engine.submit(makeRequest({ width: 1000 })));
    expect(err).toMatchObject({ code: 'engine_rejected_request', retryable: false, httpStatus: 422 });
    expect(err.message).toContain('width: Value error, width must be a multiple of 16');

    fake.scriptNext('submit', bflFaults.validation([{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }]));
    expect((await engineErrorOf(engine.submit(makeRequest()))).message).toContain('prompt: Field required');

    fake.scriptNext('submit', { status: 400, body: { error: 'invalid_request', message: 'Prompt too long' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining('invalid_request: Prompt too long') });
  });

  test('500, 502, 503 and 504 are retryable engine_unavailable, on submit and on poll', async () => {
    const engine = engineFor(fake);
    for (const status of [500, 502, 503, 504] as const) {
      fake.scriptNext('submit', bflFaults.serverError(status));
      expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: status });
    }
    const request = makeRequest();
    const handle = await engine.submit(request);
    fake.scriptNext('poll', bflFaults.serverError(503));
    expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    // The task itself is unharmed: the next poll carries on.
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('dropped connections and timeouts are retryable engine_unavailable', async () => {
    const engine = engineFor(fake, { requestTimeoutMs: 100 });
    fake.scriptNext('submit', bflFaults.connectionReset());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });

    fake.scriptNext('submit', bflFaults.slow(1_000));
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect(err.message).toContain('timed out after 100 ms');

    const closed = await startFakeBfl();
    await closed.close();
    expect(await engineErrorOf(engineFor(closed).submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
  });

  test('an abort by the caller is passed through as the abort, not reported as an engine failure', async () => {
    fake.scriptNext('submit', bflFaults.slow(1_000));
    const controller = new AbortController();
    const pending = engineFor(fake).submit(makeRequest(), controller.signal);
    setTimeout(() => controller.abort(new Error('user canceled')), 50);
    await expect(pending).rejects.toThrow('user canceled');
  });

  test('a 200 without a task id is a non-retryable engine_error (the task may exist and be billed)', async () => {
    fake.scriptNext('submit', { status: 200, body: '<html>maintenance</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engineFor(fake).submit(makeRequest()))).toMatchObject({ code: 'engine_error', retryable: false });
  });
});

describe('BFL engine: downloading the result', () => {
  async function readyResult(engine: ReturnType<typeof engineFor>) {
    const request = makeRequest();
    const { final } = await pollUntilSettled(engine, await engine.submit(request), request);
    if (final.state !== 'ready') throw new Error(`expected ready, got ${final.state}`);
    return final.result;
  }

  test('a sample URL that expired before the download is result_expired, not retryable', async () => {
    const engine = engineFor(fake);
    fake.nextTaskOutcome({ kind: 'sample_expired' });
    expect(await engineErrorOf(engine.fetchResult(await readyResult(engine)))).toMatchObject({ code: 'result_expired', retryable: false, httpStatus: 403 });

    fake.setScenario({ expiredSampleStatus: 404 });
    const result = await readyResult(engine);
    skewMs += 600_000; // BFL's 10 minutes

    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'result_expired', httpStatus: 404 });
  });

  test('a non-image or empty body is invalid_output', async () => {
    const engine = engineFor(fake);
    const result = await readyResult(engine);
    fake.scriptNext('delivery', { status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', retryable: false });
    fake.scriptNext('delivery', { status: 200, body: '', headers: { 'content-type': 'image/png' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'BFL result is empty' });
  });

  test('a result over the size cap is invalid_output', async () => {
    const engine = engineFor(fake, { maxResultBytes: 100 });
    const result = await readyResult(engine);
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('larger than') });
  });

  test('a 5xx from the delivery host is retryable while the URL is still valid', async () => {
    const engine = engineFor(fake);
    const result = await readyResult(engine);
    fake.scriptNext('delivery', bflFaults.serverError(503));
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect((await engine.fetchResult(result)).length).toBeGreaterThan(0);
  });
});
