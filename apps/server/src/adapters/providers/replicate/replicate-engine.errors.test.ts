import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { replicateFaults, startFakeReplicate } from '#test/fakes/fake-replicate.ts';
import type { FakeReplicate } from '#test/fakes/fake-replicate.ts';
import { createReplicateEngine } from './replicate-engine.ts';
import type { ReplicateEngineOptions } from './replicate-engine.ts';
import { engineErrorOf, expectReady, makeReference, makeRequest, pollUntilSettled } from './replicate-test-support.ts';

let skewMs = 0;
let fake: FakeReplicate;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeReplicate({ processingMs: 10_000, startingMs: 100, syncWaitScale: 5, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeReplicate, opts: Partial<ReplicateEngineOptions> = {}) => createReplicateEngine({ apiToken: f.apiToken, baseUrl: f.url, ...opts });
const finish = () => {
  skewMs += 20_000;
};

describe('Replicate engine: final prediction states', () => {
  test('a sensitive-content failure (E005) is moderated, not retryable, with Replicate’s text', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ prompt: 'something that will moderate-content' });
    const handle = await engine.submit(request);
    finish();
    expect(await engine.poll(handle, request)).toEqual({
      state: 'moderated', stage: 'content', detail: 'The input or output was flagged as sensitive. Please try again with different inputs. (E005)',
    });
  });

  test('a failure that names only the prompt is moderated at the request stage', async () => {
    fake.nextOutcome({ kind: 'moderated', error: 'NSFW content detected in the prompt' });
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    finish();
    expect(await engine.poll(handle, request)).toMatchObject({ state: 'moderated', stage: 'request' });
  });

  test('a model error fails for good; a capacity error is retryable; canceled and aborted are canceled', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const cases = [
      [{ kind: 'failed', error: 'Prediction failed: CUDA out of memory' }, { state: 'failed', code: 'engine_error', retryable: false, detail: 'Prediction failed: CUDA out of memory' }],
      [{ kind: 'unavailable' }, { state: 'failed', code: 'engine_unavailable', retryable: true, detail: expect.stringContaining('(E003)') }],
      [{ kind: 'aborted' }, { state: 'failed', code: 'canceled', retryable: false, detail: 'Replicate prediction aborted' }],
    ] as const;
    for (const [outcome, expected] of cases) {
      fake.nextOutcome(outcome);
      const handle = await engine.submit(request);
      finish();
      expect(await engine.poll(handle, request)).toEqual(expected);
    }
  });

  test('data_removed (output deleted after an hour) is result_expired; so is a download after the output expired', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    fake.nextOutcome({ kind: 'output_expired' });
    const gone = await engine.submit(request);
    finish();
    expect(await engine.poll(gone, request)).toEqual({ state: 'failed', code: 'result_expired', retryable: false, detail: expect.stringContaining('deleted') });

    const handle = await engine.submit(request);
    finish();
    const ready = expectReady(await engine.poll(handle, request));
    skewMs += 3_600_000;
    expect(await engineErrorOf(engine.fetchResult(ready.result))).toMatchObject({ code: 'result_expired', retryable: false, httpStatus: 404 });
    fake.setScenario({ expiredOutputStatus: 403 });
    expect(await engineErrorOf(engine.fetchResult(ready.result))).toMatchObject({ code: 'result_expired', httpStatus: 403 });
  });
});

describe('Replicate engine: cancel', () => {
  test('cancels through urls.cancel; the fake saw it with the token, and the next poll reports canceled', async () => {
    fake.nextOutcome({ kind: 'pending_forever' });
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    skewMs += 1_000;
    await engine.cancel(handle);

    const [cancel] = fake.requestsTo('cancel');
    expect(cancel).toMatchObject({ method: 'POST', path: `/v1/predictions/${handle.requestId}/cancel` });
    expect(cancel?.headers.authorization).toBe(`Bearer ${fake.apiToken}`);
    expect(await engine.poll(handle, request)).toEqual({ state: 'failed', code: 'canceled', retryable: false, detail: 'Replicate prediction canceled' });
  });

  test('a handle without extras (as persisted by the job) cancels by id; an unknown or finished prediction cancels quietly', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    await engine.cancel({ requestId: handle.requestId, pollingUrl: handle.pollingUrl });
    expect(fake.requestsTo('cancel')).toHaveLength(1);
    await expect(engine.cancel({ requestId: 'nosuchprediction', pollingUrl: null })).resolves.toBeUndefined();
    await expect(engine.cancel(handle)).resolves.toBeUndefined();
    expect(await engine.poll(handle, request)).toMatchObject({ state: 'failed', code: 'canceled' });
  });

  test('a cancel the API refuses is reported (the job logs it)', async () => {
    fake.scriptNext('cancel', replicateFaults.serverError(503));
    const err = await engineErrorOf(engineFor(fake).cancel({ requestId: 'x', pollingUrl: null }));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true });
  });
});

describe('Replicate engine: HTTP errors', () => {
  test('429 is retryable engine_unavailable with Retry-After in ms (seconds, HTTP date, or the body’s "resets in ~Ns")', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('create', replicateFaults.rateLimited(7));
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 7000, httpStatus: 429 });
    expect(err.message).toContain('Request was throttled');

    fake.scriptNext('create', replicateFaults.rateLimited(new Date(Date.now() + 20_000).toUTCString()));
    const dated = await engineErrorOf(engine.submit(makeRequest()));
    expect(dated.retryAfterMs).toBeGreaterThan(15_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(20_000);

    fake.scriptNext('get', replicateFaults.rateLimitedWithoutHeader(12));
    expect(await engineErrorOf(engine.poll({ requestId: 'x', pollingUrl: null }, makeRequest()))).toMatchObject({ retryable: true, retryAfterMs: 12_000 });
  });

  test('the fake’s own create rate limit surfaces the same way', async () => {
    fake.setScenario({ createsPerMinute: 1 });
    const engine = engineFor(fake);
    await engine.submit(makeRequest());
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: 429, retryAfterMs: 60_000 });
    skewMs += 60_000;
    await expect(engine.submit(makeRequest())).resolves.toMatchObject({ cost: null });
  });

  test('402 is engine_out_of_credits, not retryable, with an operator-facing message', async () => {
    fake.setScenario({ credits: 0.01 });
    const err = await engineErrorOf(engineFor(fake).submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_out_of_credits', retryable: false, httpStatus: 402 });
    expect(err.message).toMatch(/^Replicate account is out of credit .*top it up.*insufficient credit/i);
  });

  test('401 and 403 are engine_auth_failed, and the token never appears in the error', async () => {
    const wrong = 'r8_wrong_token_0123456789abcdef';
    const err = await engineErrorOf(engineFor(fake, { apiToken: wrong }).submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: 401 });
    expect(err.message).toContain('You did not pass a valid authentication token');
    expect(err.message).not.toContain(wrong);

    fake.scriptNext('get', replicateFaults.forbidden());
    expect(await engineErrorOf(engineFor(fake).poll({ requestId: 'x', pollingUrl: null }, makeRequest()))).toMatchObject({ code: 'engine_auth_failed', httpStatus: 403 });

    // A server that echoes the Authorization header back must not leak it through our message.
    fake.scriptNext('create', { status: 400, body: { error: 'bad_request', message: `header was Bearer ${fake.apiToken}` } });
    const echoed = await engineErrorOf(engineFor(fake).submit(makeRequest()));
    expect(echoed.message).not.toContain(fake.apiToken);
    expect(echoed.message).toContain('[redacted]');
  });

  test('422 is engine_rejected_request with Replicate’s validation text; so are 400 {error, message} and unknown models', async () => {
    const engine = engineFor(fake);
    const nine = await Promise.all(Array.from({ length: 9 }, () => makeReference('png', 8, 8)));
    const err = await engineErrorOf(engine.submit(makeRequest({ references: nine })));
    expect(err).toMatchObject({ code: 'engine_rejected_request', retryable: false, httpStatus: 422 });
    expect(err.message).toContain('input.input_images: Array must have at most 8 items');

    expect((await engineErrorOf(engine.submit(makeRequest({ width: 4096 })))).message).toContain('input.width: Must be less than or equal to 2048');

    fake.scriptNext('create', { status: 400, body: { error: 'invalid_request', message: 'Prompt too long' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining('invalid_request: Prompt too long') });

    expect(await engineErrorOf(engine.submit(makeRequest({ engineModel: 'black-forest-labs/flux-9-ultra' })))).toMatchObject({ code: 'engine_rejected_request', httpStatus: 404 });
    const before = fake.requests.length;
    expect(await engineErrorOf(engine.submit(makeRequest({ engineModel: 'flux-2-pro' })))).toMatchObject({ code: 'engine_rejected_request', httpStatus: null });
    expect(fake.requests).toHaveLength(before);
  });

  test('5xx on create and poll are retryable engine_unavailable, and the prediction carries on', async () => {
    const engine = engineFor(fake);
    for (const status of [500, 502, 503, 504] as const) {
      fake.scriptNext('create', replicateFaults.serverError(status));
      expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: status });
    }
    const request = makeRequest();
    const handle = await engine.submit(request);
    fake.scriptNext('get', replicateFaults.serverError(503), 3);
    for (let i = 0; i < 3; i++) expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    finish();
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('dropped connections, timeouts and a closed port are retryable engine_unavailable', async () => {
    const engine = engineFor(fake, { requestTimeoutMs: 100, preferWaitSeconds: 0 });
    fake.scriptNext('create', replicateFaults.connectionReset());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });

    fake.scriptNext('get', replicateFaults.slow(1_000));
    const err = await engineErrorOf(engine.poll({ requestId: 'x', pollingUrl: null }, makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect(err.message).toContain('timed out after 100 ms');

    const closed = await startFakeReplicate();
    await closed.close();
    expect(await engineErrorOf(engineFor(closed).submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
  });

  test('a create held by Prefer: wait gets the wait on top of the request timeout', async () => {
    fake.setScenario({ syncWaitScale: 100 }); // wait=2 holds 200 ms
    const handle = await engineFor(fake, { requestTimeoutMs: 150, preferWaitSeconds: 2 }).submit(makeRequest());
    expect(handle.status).toBeUndefined();
  });

  test('an abort by the caller is passed through as the abort, not reported as an engine failure', async () => {
    fake.scriptNext('create', replicateFaults.slow(1_000));
    const controller = new AbortController();
    const pending = engineFor(fake).submit(makeRequest(), controller.signal);
    setTimeout(() => controller.abort(new Error('user canceled')), 50);
    await expect(pending).rejects.toThrow('user canceled');
  });

  test('a create answer that is not a prediction is a non-retryable engine_error (it may exist and be billed); a redirect is not followed with the token', async () => {
    fake.scriptNext('create', { status: 201, body: '<html>maintenance</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engineFor(fake).submit(makeRequest()))).toMatchObject({ code: 'engine_error', retryable: false });
    fake.scriptNext('get', { status: 302, headers: { location: 'https://evil.example/steal' }, body: '' });
    expect(await engineErrorOf(engineFor(fake).poll({ requestId: 'x', pollingUrl: null }, makeRequest()))).toMatchObject({ code: 'engine_error', httpStatus: 302 });
  });
});

describe('Replicate engine: downloading the output', () => {
  async function readyResult(engine: ReturnType<typeof engineFor>) {
    const request = makeRequest({ width: 256, height: 256 });
    const handle = await engine.submit(request);
    finish();
    return expectReady(await engine.poll(handle, request)).result;
  }

  test('a non-image or empty body is invalid_output; octet-stream is accepted only when the bytes are an image', async () => {
    const engine = engineFor(fake);
    const result = await readyResult(engine);
    fake.scriptNext('delivery', { status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', retryable: false });
    fake.scriptNext('delivery', { status: 200, body: '', headers: { 'content-type': 'image/png' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'Replicate output is empty' });
    fake.scriptNext('delivery', { status: 200, body: '{"not":"an image"}', headers: { 'content-type': 'application/octet-stream' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output' });
    const png = (await makeReference('png')).bytes;
    fake.scriptNext('delivery', { status: 200, body: png, headers: { 'content-type': 'application/octet-stream' } });
    expect(await engine.fetchResult(result)).toEqual(png);
  });

  test('an output over the size cap is invalid_output', async () => {
    const engine = engineFor(fake, { maxResultBytes: 100 });
    const result = await readyResult(engine);
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('larger than') });
  });

  test('a 5xx from the delivery host is retryable while the output still exists', async () => {
    const engine = engineFor(fake);
    const result = await readyResult(engine);
    fake.scriptNext('delivery', replicateFaults.serverError(503));
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect((await engine.fetchResult(result)).length).toBeGreaterThan(0);
  });
});
