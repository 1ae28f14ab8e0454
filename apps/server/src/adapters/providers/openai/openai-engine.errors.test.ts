import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openAiFaults, startFakeOpenAi } from '#test/fakes/fake-openai.ts';
import type { FakeOpenAi } from '#test/fakes/fake-openai.ts';
import { createOpenAiImagesEngine } from './openai-engine.ts';
import type { OpenAiImagesEngineOptions } from './openai-engine.ts';
import { engineErrorOf, finalOf, makeReference, makeRequest, readyOf } from './openai-test-support.ts';

let skewMs = 0;
let fake: FakeOpenAi;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeOpenAi({ now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeOpenAi, opts: Partial<OpenAiImagesEngineOptions> = {}) => createOpenAiImagesEngine({ apiKey: f.apiKey, baseUrl: f.url, ...opts });

describe('OpenAI-compatible engine: final answers', () => {
  test('a safety-system refusal is a final moderated status (DALL·E content_policy_violation, gpt-image moderation_blocked)', async () => {
    const engine = engineFor(fake);
    const dalle = await engine.submit(makeRequest({ engineModel: 'dall-e-3', prompt: 'please moderate-request this' }));
    expect(finalOf(dalle)).toEqual({ state: 'moderated', stage: 'request', detail: expect.stringContaining('rejected as a result of our safety system') });
    expect(await engine.poll(dalle, makeRequest())).toBe(dalle.status);

    const request = makeRequest({ prompt: 'moderate-request', references: [await makeReference('png')] });
    expect(finalOf(await engine.submit(request))).toEqual({ state: 'moderated', stage: 'request', detail: expect.stringContaining('code moderation_blocked') });
    expect(fake.requestsTo('edits')).toHaveLength(1);

    fake.nextOutcome({ kind: 'moderated', code: 'moderation_blocked' });
    expect(finalOf(await engine.submit(makeRequest({ engineModel: 'flux-2-pro' }))).state).toBe('moderated');
  });

  test('validation errors are engine_rejected_request with the engine’s text, not retryable', async () => {
    const engine = engineFor(fake);
    const err = await engineErrorOf(engine.submit(makeRequest({ width: 1024, height: 768 })));
    expect(err).toMatchObject({ code: 'engine_rejected_request', retryable: false, httpStatus: 400 });
    expect(err.message).toContain("Invalid value: '1024x768'. Supported values are: '1024x1024', '1536x1024', '1024x1536', 'auto'. (param size, code invalid_value)");

    expect(await engineErrorOf(engine.submit(makeRequest({ engineModel: 'flux-3-ultra' })))).toMatchObject({
      code: 'engine_rejected_request', httpStatus: 404, message: expect.stringContaining('does not exist'),
    });
    fake.scriptNext('generations', { status: 422, body: { detail: [{ loc: ['body', 'size'], msg: 'size must be a multiple of 16', type: 'value_error' }] } });
    expect((await engineErrorOf(engine.submit(makeRequest()))).message).toContain('size: size must be a multiple of 16');
  });

  test('unusable 200 answers are final failures (the image was made and billed; a retry would pay again)', async () => {
    const engine = engineFor(fake);
    const cases: [unknown, string, string][] = [
      ['<html>maintenance</html>', 'engine_error', 'without a data array'],
      [{ created: 1, data: [] }, 'invalid_output', 'no image'],
      [{ created: 1, data: [{ revised_prompt: 'x' }] }, 'invalid_output', 'neither b64_json nor url'],
      [{ created: 1, data: [{ b64_json: Buffer.from('not an image').toString('base64') }] }, 'invalid_output', 'not a PNG'],
      [{ created: 1, data: [{ b64_json: '' , url: 'ftp://x/y.png' }] }, 'invalid_output', 'not an http(s) URL'],
      [{ created: 1, data: [{ b64_json: '%%%' }] }, 'invalid_output', 'not valid base64'],
    ];
    for (const [body, code, detail] of cases) {
      fake.scriptNext('generations', { status: 200, body });
      expect(finalOf(await engine.submit(makeRequest()))).toEqual({ state: 'failed', code, retryable: false, detail: expect.stringContaining(detail) });
    }
  });

  test('a b64_json result over the size cap is invalid_output', async () => {
    const status = finalOf(await engineFor(fake, { maxResultBytes: 1000 }).submit(makeRequest()));
    expect(status).toMatchObject({ state: 'failed', code: 'invalid_output', detail: expect.stringContaining('larger than') });
  });
});

describe('OpenAI-compatible engine: HTTP errors', () => {
  test('429 is retryable engine_unavailable with Retry-After (seconds, HTTP date, retry-after-ms)', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('generations', openAiFaults.rateLimited(7));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 7000, httpStatus: 429 });

    fake.scriptNext('generations', openAiFaults.rateLimited(new Date(Date.now() + 20_000).toUTCString()));
    const dated = await engineErrorOf(engine.submit(makeRequest()));
    expect(dated.retryAfterMs).toBeGreaterThan(15_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(20_000);

    fake.scriptNext('generations', { ...openAiFaults.rateLimited(9), headers: { 'retry-after': '9', 'retry-after-ms': '8500' } });
    expect((await engineErrorOf(engine.submit(makeRequest()))).retryAfterMs).toBe(8500);
  });

  test('the fake’s images-per-minute limit surfaces the same way until the minute has passed', async () => {
    fake.setScenario({ imagesPerMinute: 1 });
    const engine = engineFor(fake);
    readyOf(finalOf(await engine.submit(makeRequest())));
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: 429, message: expect.stringContaining('Rate limit reached') });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    skewMs += 60_000;
    readyOf(finalOf(await engine.submit(makeRequest())));
  });

  test('429 insufficient_quota, 402 and "insufficient balance" are engine_out_of_credits, not retryable', async () => {
    fake.setScenario({ quotaImages: 1 });
    const engine = engineFor(fake);
    readyOf(finalOf(await engine.submit(makeRequest())));
    const quota = await engineErrorOf(engine.submit(makeRequest()));
    expect(quota).toMatchObject({ code: 'engine_out_of_credits', retryable: false, httpStatus: 429 });
    expect(quota.message).toMatch(/^The OpenAI-compatible account has run out of credit or quota: You exceeded your current quota/);

    fake.scriptNext('generations', { status: 402, body: { detail: 'Payment required' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_out_of_credits', retryable: false, httpStatus: 402 });
    fake.scriptNext('generations', { status: 403, body: { error: 'forbidden', message: 'Insufficient balance, please top up' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_out_of_credits', retryable: false });
  });

  test('a refused key is engine_auth_failed and neither the key nor OpenAI’s masked echo of it is in the message', async () => {
    const wrong = 'sk-proj-wrong0123456789abcdefWXYZ';
    const err = await engineErrorOf(engineFor(fake, { apiKey: wrong }).submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: 401 });
    expect(err.message).toContain('Incorrect API key provided: [redacted].');
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain('WXYZ');
    expect(err.message).not.toContain(fake.apiKey);

    fake.scriptNext('edits', { status: 403, body: { error: { message: `Project does not have access to model gpt-image-1 with key ${fake.apiKey}`, type: 'invalid_request_error', param: null, code: null } } });
    const forbidden = await engineErrorOf(engineFor(fake).submit(makeRequest({ references: [await makeReference('png')] })));
    expect(forbidden).toMatchObject({ code: 'engine_auth_failed', httpStatus: 403 });
    expect(forbidden.message).not.toContain(fake.apiKey);
  });

  test('5xx is retryable engine_unavailable every time it happens', async () => {
    const engine = engineFor(fake);
    for (const status of [500, 502, 503, 504, 500, 500] as const) {
      fake.scriptNext('generations', openAiFaults.serverError(status));
      expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: status });
    }
    fake.scriptNext('generations', { status: 502, body: '<html><body>502 Bad Gateway</body></html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', message: expect.stringContaining('502 Bad Gateway') });
    readyOf(finalOf(await engine.submit(makeRequest())));
  });

  test('dropped connections, timeouts and a closed server are retryable engine_unavailable', async () => {
    const engine = engineFor(fake, { generationTimeoutMs: 150 });
    fake.scriptNext('generations', openAiFaults.connectionReset());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    fake.setScenario({ processingMs: 1_000 });
    const slow = await engineErrorOf(engine.submit(makeRequest()));
    expect(slow).toMatchObject({ code: 'engine_unavailable', retryable: true, message: expect.stringContaining('timed out after 150 ms') });

    const closed = await startFakeOpenAi();
    await closed.close();
    expect(await engineErrorOf(engineFor(closed).submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
  });

  test('an abort by the caller is passed through as the abort', async () => {
    fake.setScenario({ processingMs: 1_000 });
    const controller = new AbortController();
    const pending = engineFor(fake).submit(makeRequest(), controller.signal);
    setTimeout(() => controller.abort(new Error('user canceled')), 50);
    await expect(pending).rejects.toThrow('user canceled');
  });
});

describe('OpenAI-compatible engine: downloading url results', () => {
  const urlRequest = makeRequest({ engineModel: 'dall-e-3', parameters: { response_format: 'url' } });
  const urlResult = async (engine: ReturnType<typeof engineFor>) => readyOf(finalOf(await engine.submit(urlRequest))).result;

  test('an expired URL is result_expired, not retryable (already expired, or past its 60 minutes)', async () => {
    const engine = engineFor(fake);
    fake.nextOutcome({ kind: 'url_expired' });
    expect(await engineErrorOf(engine.fetchResult(await urlResult(engine)))).toMatchObject({ code: 'result_expired', retryable: false, httpStatus: 403 });

    fake.setScenario({ expiredUrlStatus: 404 });
    const result = await urlResult(engine);
    skewMs += 60 * 60_000;
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'result_expired', httpStatus: 404 });
  });

  test('a non-image, an empty body or one over the cap is invalid_output; octet-stream passes when the bytes are an image', async () => {
    const engine = engineFor(fake);
    const result = await urlResult(engine);
    fake.scriptNext('download', { status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', retryable: false });
    fake.scriptNext('download', { status: 200, body: '', headers: { 'content-type': 'image/png' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'The downloaded result is empty' });
    fake.scriptNext('download', { status: 200, body: 'plain text', headers: { 'content-type': 'application/octet-stream' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'The downloaded result is not an image' });
    const png = (await makeReference('png')).bytes;
    fake.scriptNext('download', { status: 200, body: png, headers: { 'content-type': 'application/octet-stream' } });
    expect((await engine.fetchResult(result)).equals(png)).toBe(true);

    expect(await engineErrorOf(engineFor(fake, { maxResultBytes: 100 }).fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('larger than') });
  });

  test('a 5xx from the storage host is retryable while the URL is still valid', async () => {
    const engine = engineFor(fake);
    const result = await urlResult(engine);
    fake.scriptNext('download', openAiFaults.serverError(503));
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect((await engine.fetchResult(result)).length).toBeGreaterThan(0);
  });
});
