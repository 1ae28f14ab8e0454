import { describe, expect, test } from 'vitest';
import { classifyFailure, progressFromLogs, seedFromLogs } from './replicate-prediction.ts';
import { describeErrorBody } from './replicate-http.ts';

describe('Replicate failure texts', () => {
  test.each([
    ['The input or output was flagged as sensitive. Please try again with different inputs. (E005)', { state: 'moderated', stage: 'content' }],
    ['NSFW content detected in the prompt', { state: 'moderated', stage: 'request' }],
    ['Content flagged by the safety checker', { state: 'moderated', stage: 'content' }],
    ['Service is currently unavailable due to high demand. Please try again later. (E003)', { state: 'failed', code: 'engine_unavailable', retryable: true }],
    ['Prediction interrupted; please retry (code: PA)', { state: 'failed', code: 'engine_unavailable', retryable: true }],
    ['Director: cannot connect to model API', { state: 'failed', code: 'engine_unavailable', retryable: true }],
    ['ValueError: height must be divisible by 16', { state: 'failed', code: 'engine_error', retryable: false }],
  ])('%s', (error, expected) => {
    expect(classifyFailure(error)).toMatchObject({ ...expected, detail: error });
  });

  test('a missing or structured error still gives a readable detail', () => {
    expect(classifyFailure(null)).toMatchObject({ code: 'engine_error', detail: 'Replicate reported a failed prediction without an error' });
    expect(classifyFailure({ code: 'X1', message: 'boom' })).toMatchObject({ code: 'engine_error', detail: '{"code":"X1","message":"boom"}' });
    expect(classifyFailure('x'.repeat(2_000))).toMatchObject({ detail: expect.stringMatching(/^x{500}…$/) });
  });
});

describe('Replicate logs', () => {
  test('progress is the last tqdm line; other logs give none', () => {
    expect(progressFromLogs('Using seed: 1\n 10%|█         | 1/10 [00:01<00:09]\n 70%|███████   | 7/10 [00:07<00:03]\n')).toBe(0.7);
    expect(progressFromLogs('Using seed: 1\r 40%|████      | 4/10 [00:04<00:06]')).toBe(0.4);
    expect(progressFromLogs('Using seed: 1\nGenerating...\n')).toBeNull();
    expect(progressFromLogs(null)).toBeNull();
  });

  test('the seed is the last "Using seed: N"', () => {
    expect(seedFromLogs('Using seed: 7710683\nGenerating...\n')).toBe(7710683);
    expect(seedFromLogs('Using seed: 1\nretry\nUsing seed: 2\n')).toBe(2);
    expect(seedFromLogs('Generating...')).toBeNull();
  });
});

describe('Replicate error bodies', () => {
  test.each([
    [{ title: 'Input validation failed', detail: '- input.width: Must be ≤ 2048\n', status: 422, invalid_fields: [{ type: 'number_lte', field: 'input.width', description: 'Must be ≤ 2048' }] }, 'input.width: Must be ≤ 2048'],
    [{ title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 }, 'Unauthenticated: You did not pass a valid authentication token'],
    [{ detail: 'Request was throttled. Your rate limit resets in ~30s.', status: 429 }, 'Request was throttled. Your rate limit resets in ~30s.'],
    [{ detail: [{ loc: ['body', 'input'], msg: 'field required' }] }, 'body.input: field required'],
    [{ error: 'invalid_request', message: 'Prompt too long' }, 'invalid_request: Prompt too long'],
  ])('%j', (body, expected) => {
    expect(describeErrorBody(body, JSON.stringify(body))).toBe(expected);
  });

  test('a non-JSON body is shortened text', () => {
    expect(describeErrorBody(undefined, `<html>\n${'a'.repeat(300)}</html>`)).toMatch(/^<html> a+…$/);
  });
});
