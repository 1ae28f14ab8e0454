import { describe, expect, test } from 'vitest';
import { describeErrorBody, errorFromResponse, normaliseBaseUrl, parseRetryAfter, redact } from './openai-http.ts';
import { buildImagesCall, imagesFields } from './openai-request.ts';
import { createResultCache } from './openai-results.ts';
import { makeRequest } from './openai-test-support.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-04-23T10:00:00Z');
  test.each([
    ['5', 5000],
    ['1.5', 1500],
    ['Thu, 23 Apr 2026 10:00:30 GMT', 30_000],
    ['Thu, 23 Apr 2026 09:59:00 GMT', 0],
    ['soon', null],
    [null, null],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('describeErrorBody', () => {
  test('OpenAI envelope (with param and code), FastAPI detail, {error, message}, then raw text', () => {
    expect(describeErrorBody({ error: { message: 'Invalid size', type: 'invalid_request_error', param: 'size', code: 'invalid_value' } }, '')).toEqual({
      text: 'Invalid size (param size, code invalid_value)', code: 'invalid_value', type: 'invalid_request_error',
    });
    expect(describeErrorBody({ error: { message: 'Server error', type: 'server_error', param: null, code: null, extra: 1 } }, '').text).toBe('Server error');
    expect(describeErrorBody({ detail: [{ loc: ['body', 'prompt'], msg: 'Field required' }] }, '').text).toBe('prompt: Field required');
    expect(describeErrorBody({ error: 'insufficient_balance', message: 'Top up' }, '')).toMatchObject({ text: 'insufficient_balance: Top up', code: 'insufficient_balance' });
    expect(describeErrorBody(undefined, ' <html>\n Bad gateway </html> ').text).toBe('<html> Bad gateway </html>');
  });
});

describe('errorFromResponse', () => {
  const info = (code: string | null, type = 'invalid_request_error', text = 'msg') => ({ text, code, type });
  test.each([
    [429, info('rate_limit_exceeded', 'requests'), 'engine_unavailable', true],
    [429, info('insufficient_quota', 'insufficient_quota'), 'engine_out_of_credits', false],
    [400, info('billing_hard_limit_reached'), 'engine_out_of_credits', false],
    [402, info(null), 'engine_out_of_credits', false],
    [401, info('invalid_api_key'), 'engine_auth_failed', false],
    [403, info(null), 'engine_auth_failed', false],
    [400, info('invalid_value'), 'engine_rejected_request', false],
    [404, info('model_not_found'), 'engine_rejected_request', false],
    [422, info(null), 'engine_rejected_request', false],
    [408, info(null), 'engine_unavailable', true],
    [500, info(null, 'server_error'), 'engine_unavailable', true],
    [503, info(null, 'server_error'), 'engine_unavailable', true],
  ])('HTTP %i %j → %s', (status, i, code, retryable) => {
    expect(errorFromResponse(status, new Headers(), i, 'image generation', 'k')).toMatchObject({ code, retryable, httpStatus: status });
  });

  test('redacts the key and masked echoes of it', () => {
    const key = 'sk-live-abcdef1234567890';
    expect(redact(`bad key ${key}`, key)).toBe('bad key [redacted]');
    expect(redact('Incorrect API key provided: sk-li*************7890. You can find…', key)).toBe('Incorrect API key provided: [redacted]. You can find…');
  });
});

describe('normaliseBaseUrl', () => {
  test('keeps the /v1 prefix, drops trailing slashes, refuses other schemes', () => {
    expect(normaliseBaseUrl('http://localhost:8080/v1/')).toBe('http://localhost:8080/v1');
    expect(normaliseBaseUrl('https://api.openai.com/v1')).toBe('https://api.openai.com/v1');
    expect(() => normaliseBaseUrl('file:///etc/passwd')).toThrow(/http/);
  });
});

describe('imagesFields', () => {
  test('the output_format rule: gpt-image by default, or as output_format_param says', () => {
    expect(imagesFields(makeRequest({ engineModel: 'gpt-image-1.5', outputFormat: 'jpeg' })).fields.output_format).toBe('jpeg');
    expect(imagesFields(makeRequest({ engineModel: 'chatgpt-image-latest' })).fields).not.toHaveProperty('response_format');
    expect(imagesFields(makeRequest({ engineModel: 'dall-e-3' })).fields).not.toHaveProperty('output_format');
    expect(imagesFields(makeRequest({ engineModel: 'flux-2-pro', parameters: { output_format_param: 'true' } })).fields.output_format).toBe('png');
    expect(imagesFields(makeRequest({ engineModel: 'gpt-image-1', parameters: { output_format_param: false } })).fields).not.toHaveProperty('output_format');
  });

  test('output_compression only for jpeg/webp output, seed only when seed_param is set and there is a seed', () => {
    expect(imagesFields(makeRequest({ outputFormat: 'webp', parameters: { output_compression: 70 } })).fields.output_compression).toBe(70);
    expect(imagesFields(makeRequest({ outputFormat: 'png', parameters: { output_compression: 70 } })).fields).not.toHaveProperty('output_compression');
    expect(imagesFields(makeRequest({ engineModel: 'x', parameters: { seed_param: true }, seed: 5 }))).toMatchObject({ fields: { seed: 5 }, seedSent: true });
    expect(imagesFields(makeRequest({ engineModel: 'x', parameters: { seed_param: true }, seed: null })).seedSent).toBe(false);
    expect(imagesFields(makeRequest({ engineModel: 'x', seed: 5 })).fields).not.toHaveProperty('seed');
  });

  test('references switch to the edits endpoint with multipart image[]', () => {
    const call = buildImagesCall(makeRequest({ references: [{ bytes: Buffer.from([1, 2, 3]), format: 'webp', width: 1, height: 1 }] }));
    expect(call.endpoint).toBe('edits');
    if (call.body.kind !== 'form') throw new Error('expected a form');
    const file = call.body.value.get('image[]');
    expect(file).toBeInstanceOf(File);
    expect(file instanceof File && [file.name, file.type, file.size]).toEqual(['image-1.webp', 'image/webp', 3]);
    expect(call.body.value.get('n')).toBe('1');
  });
});

describe('createResultCache', () => {
  test('expires entries after the TTL and evicts the oldest beyond the limit', () => {
    let t = 0;
    const cache = createResultCache(1000, 2, () => t);
    const s = { state: 'pending', progress: null } as const;
    cache.set('a', s);
    cache.set('b', s);
    cache.set('c', s);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, s, s]);
    t = 1000;
    expect(cache.get('c')).toBeUndefined();
  });
});
