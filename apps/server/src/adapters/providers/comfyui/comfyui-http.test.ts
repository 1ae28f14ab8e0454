import { describe, expect, test } from 'vitest';
import { authorizationFor, describeErrorBody, errorFromResponse, normaliseServerUrl, parseRetryAfter, redact } from './comfyui-http.ts';

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
  test('ComfyUI validation: one line per node error, after the summary', () => {
    const body = {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: 'Required input is missing: steps', extra_info: {} },
      node_errors: { '8': { class_type: 'Flux2Scheduler', dependent_outputs: ['13'], errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'steps', extra_info: {} }] } },
    };
    expect(describeErrorBody(body, '')).toBe('Prompt outputs failed validation; Flux2Scheduler (node 8): Required input is missing: steps');
  });

  test('invalid_prompt with empty node_errors, the old bare string, {detail}, {error, message}, then text', () => {
    expect(describeErrorBody({ error: { type: 'invalid_prompt', message: 'Cannot execute because node X does not exist.', details: "Node ID '#3'" }, node_errors: {} }, ''))
      .toBe("Cannot execute because node X does not exist.: Node ID '#3'");
    expect(describeErrorBody({ error: 'no prompt', node_errors: [] }, '')).toBe('no prompt');
    expect(describeErrorBody({ detail: 'Not authenticated' }, '')).toBe('Not authenticated');
    expect(describeErrorBody({ error: 'rate_limited', message: 'Too many requests' }, '')).toBe('rate_limited: Too many requests');
    expect(describeErrorBody(undefined, ' <html>\n 502 Bad Gateway </html> ')).toBe('<html> 502 Bad Gateway </html>');
  });
});

describe('errorFromResponse', () => {
  const map = (status: number, body: unknown = undefined, headers: Record<string, string> = {}) => errorFromResponse(status, new Headers(headers), body, '', 'submit', ['tok-123456']);
  test.each([
    [429, 'engine_unavailable', true],
    [503, 'engine_unavailable', true],
    [408, 'engine_unavailable', true],
    [402, 'engine_out_of_credits', false],
    [401, 'engine_auth_failed', false],
    [403, 'engine_auth_failed', false],
    [404, 'engine_error', false],
    [400, 'engine_rejected_request', false],
    [413, 'engine_rejected_request', false],
  ])('HTTP %i → %s (retryable %s)', (status, code, retryable) => {
    expect(map(status)).toMatchObject({ code, retryable, httpStatus: status });
  });

  test('"insufficient balance" in any status is out of credits; secrets are redacted', () => {
    expect(map(400, { detail: 'Insufficient balance, top up' })).toMatchObject({ code: 'engine_out_of_credits' });
    expect(map(500, { detail: 'proxy saw Bearer tok-123456' }).message).not.toContain('tok-123456');
    expect(map(429, undefined, { 'retry-after': '3' }).retryAfterMs).toBe(3000);
  });
});

describe('server URLs and credentials', () => {
  test('normalised without trailing slash, query or hash; a path prefix stays; credentials in the URL refused', () => {
    expect(normaliseServerUrl('http://gpu-1:8188/')).toBe('http://gpu-1:8188');
    expect(normaliseServerUrl('https://proxy.example/comfy/?x=1#y')).toBe('https://proxy.example/comfy');
    expect(() => normaliseServerUrl('ftp://gpu-1')).toThrow(/http/);
    expect(() => normaliseServerUrl('http://u:p@gpu-1')).toThrow(/credentials/);
  });

  test('bearer and basic headers, with every secret form listed for redaction', () => {
    expect(authorizationFor(undefined)).toEqual({ authorization: null, secrets: [] });
    expect(authorizationFor({ type: 'bearer', token: 'abc123' })).toEqual({ authorization: 'Bearer abc123', secrets: ['abc123'] });
    const basic = authorizationFor({ type: 'basic', username: 'u', password: 'pw-secret' });
    expect(basic.authorization).toBe(`Basic ${Buffer.from('u:pw-secret').toString('base64')}`);
    expect(redact(`sent ${basic.authorization} with pw-secret`, basic.secrets)).toBe('sent Basic [redacted] with [redacted]');
  });
});
