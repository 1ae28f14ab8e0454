import { describe, expect, test } from 'vitest';
import { describeErrorBody, errorFromResponse, isKeyAllowedFor, parseRetryAfter } from './bfl-http.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-04-23T10:00:00Z');
  test.each([
    ['5', 5000],
    ['0', 0],
    ['1.5', 1500],
    ['Thu, 23 Apr 2026 10:00:30 GMT', 30_000],
    ['Thu, 23 Apr 2026 09:59:00 GMT', 0],
    ['soon', null],
    ['', null],
    [null, null],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('describeErrorBody', () => {
  test('FastAPI detail string, validation list, the {error, message} envelope, then raw text', () => {
    expect(describeErrorBody({ detail: 'Not authenticated' }, '')).toBe('Not authenticated');
    expect(
      describeErrorBody({ detail: [{ loc: ['body', 'width'], msg: 'Input should be greater than or equal to 64', type: 'greater_than_equal' }, { loc: ['body'], msg: 'Value error, too large', type: 'value_error' }] }, ''),
    ).toBe('width: Input should be greater than or equal to 64; Value error, too large');
    expect(describeErrorBody({ error: 'rate_limit_exceeded', message: 'Too many requests', retry_after: 5 }, '')).toBe('rate_limit_exceeded: Too many requests');
    expect(describeErrorBody(undefined, ' <html>\n Bad gateway </html> ')).toBe('<html> Bad gateway </html>');
  });
});

describe('errorFromResponse', () => {
  test('takes retry_after from the body when there is no Retry-After header [U shape from BFL skill repo]', () => {
    const err = errorFromResponse(429, new Headers(), { error: 'rate_limit_exceeded', message: 'slow down', retry_after: 5 }, '', 'submit', 'k');
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 5000 });
  });

  test('never echoes the API key, even when the body does', () => {
    const key = 'bfl_live_abcdef123456';
    const err = errorFromResponse(403, new Headers(), { detail: `Invalid key ${key}` }, '', 'submit', key);
    expect(err.message).not.toContain(key);
    expect(err.message).toContain('[redacted]');
  });

  test('other 4xx (e.g. an unknown model path) are non-retryable rejections', () => {
    expect(errorFromResponse(404, new Headers(), { detail: 'Not Found' }, '', 'submit', 'k')).toMatchObject({ code: 'engine_rejected_request', retryable: false });
  });
});

describe('isKeyAllowedFor', () => {
  const base = 'https://api.bfl.ai';
  test.each([
    ['https://api.bfl.ai/v1/get_result?id=1', true],
    ['https://api.eu2.bfl.ai/v1/get_result?id=1', true],
    ['https://delivery-eu1.bfl.ai/results/x/sample.jpeg', true],
    ['http://api.eu2.bfl.ai/v1/get_result?id=1', false],
    ['https://bfl.ai.evil.example/x', false],
    ['https://evilbfl.ai/x', false],
    ['https://bfldeliveryprod.blob.core.windows.net/x', false],
  ])('%s → %s', (url, expected) => {
    expect(isKeyAllowedFor(new URL(url), base)).toBe(expected);
  });

  test('same origin as a self-hosted base URL', () => {
    expect(isKeyAllowedFor(new URL('http://127.0.0.1:4010/v1/get_result?id=1'), 'http://127.0.0.1:4010')).toBe(true);
    expect(isKeyAllowedFor(new URL('http://127.0.0.1:4011/v1/get_result?id=1'), 'http://127.0.0.1:4010')).toBe(false);
  });
});
