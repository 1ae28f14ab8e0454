import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeOpenAi } from '#test/fakes/fake-openai.ts';
import type { FakeOpenAi } from '#test/fakes/fake-openai.ts';
import { createOpenAiImagesEngine } from './openai-engine.ts';
import type { OpenAiImagesEngineOptions } from './openai-engine.ts';
import { finalOf, makeReference, makeRequest, readyOf } from './openai-test-support.ts';

let fake: FakeOpenAi;
beforeEach(async () => {
  fake = await startFakeOpenAi();
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeOpenAi, opts: Partial<OpenAiImagesEngineOptions> = {}) => createOpenAiImagesEngine({ apiKey: f.apiKey, baseUrl: f.url, ...opts });
const metaOf = async (bytes: Buffer) => {
  const m = await sharp(bytes).metadata();
  return [m.width, m.height, m.format];
};

describe('OpenAI-compatible engine: text to image', () => {
  test('gpt-image: one synchronous call, the final status in submit, bytes of the asked size and format', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ width: 1536, height: 1024, outputFormat: 'webp' });
    const submitted = await engine.submit(request);

    expect(submitted).toMatchObject({ requestId: expect.stringMatching(/^openai-/), pollingUrl: null, cost: null });
    const ready = readyOf(finalOf(submitted));
    expect(ready.result).toMatchObject({ kind: 'bytes', seed: null });
    expect(await engine.poll(submitted, request)).toBe(submitted.status);
    expect(await metaOf(await engine.fetchResult(ready.result))).toEqual([1536, 1024, 'webp']);

    const [sent] = fake.requestsTo('generations');
    expect(sent?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    // gpt-image always answers b64_json and refuses response_format; output_format is its own field.
    expect(sent?.json).toEqual({ model: 'gpt-image-1', prompt: request.prompt, n: 1, size: '1536x1024', output_format: 'webp' });
    expect(fake.requests).toHaveLength(1);
  });

  test('DALL·E: asks for b64_json, sends no output_format (the model refuses it)', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ engineModel: 'dall-e-3', width: 1792, height: 1024, outputFormat: 'jpeg' });
    const ready = readyOf(finalOf(await engine.submit(request)));
    // DALL·E only makes PNG; the media pipeline re-encodes to the requested format.
    expect(await metaOf(await engine.fetchResult(ready.result))).toEqual([1792, 1024, 'png']);
    expect(fake.requestsTo('generations')[0]?.json).toEqual({ model: 'dall-e-3', prompt: request.prompt, n: 1, size: '1792x1024', response_format: 'b64_json' });
  });

  test('url answers: fetchResult downloads the signed URL at once, without the key on another origin', async () => {
    const blobHost = await startFakeOpenAi();
    try {
      // A gateway passing a URL on another host through (DALL·E's blob storage, BFL delivery).
      const elsewhere = await engineFor(blobHost).submit(makeRequest({ engineModel: 'flux-2-pro', parameters: { response_format: 'url' } }));
      const foreignUrl = elsewhere.extra?.resultUrl ?? '';
      fake.scriptNext('generations', { status: 200, body: { created: 1, data: [{ url: foreignUrl }] } });

      const engine = engineFor(fake);
      const request = makeRequest({ engineModel: 'flux-2-pro', parameters: { response_format: 'url' } });
      const submitted = await engine.submit(request);
      const ready = readyOf(finalOf(submitted));
      expect(ready.result).toEqual({ kind: 'url', url: foreignUrl, seed: null });
      expect(submitted.extra).toEqual({ resultUrl: foreignUrl });
      expect((await engine.fetchResult(ready.result)).length).toBeGreaterThan(0);

      const download = blobHost.requestsTo('download').at(-1);
      expect(download?.headers.authorization).toBeUndefined();
      expect(fake.requestsTo('generations')[0]?.json).toMatchObject({ response_format: 'url' });
    } finally {
      await blobHost.close();
    }
  });

  test('a gateway told to take output_format and seed gets them, and the seed is reported', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ engineModel: 'flux-2-pro', width: 1024, height: 768, seed: 7, outputFormat: 'jpeg', parameters: { output_format_param: true, seed_param: true } });
    const ready = readyOf(finalOf(await engine.submit(request)));
    expect(ready.result.seed).toBe(7);
    expect(await metaOf(await engine.fetchResult(ready.result))).toEqual([1024, 768, 'jpeg']);
    expect(fake.requestsTo('generations')[0]?.json).toEqual({
      model: 'flux-2-pro', prompt: request.prompt, n: 1, size: '1024x768', response_format: 'b64_json', output_format: 'jpeg', seed: 7,
    });
    expect(fake.submissions[0]?.seed).toBe(7);
  });

  test('passes through only parameters the Images API defines; never a user field', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({
      outputFormat: 'png',
      parameters: { quality: 'low', background: 'transparent', moderation: 'low', output_compression: 80, guidance: 4.5, steps: 28, user: 'user_123', n: 4, input_fidelity: 'high' },
    });
    readyOf(finalOf(await engine.submit(request)));
    expect(fake.requestsTo('generations')[0]?.json).toEqual({
      model: 'gpt-image-1', prompt: request.prompt, n: 1, size: '1024x1024', output_format: 'png', quality: 'low', background: 'transparent', moderation: 'low',
    });
  });

  test('tolerates unknown fields in the answer', async () => {
    const png = (await makeReference('png')).bytes.toString('base64');
    fake.scriptNext('generations', {
      status: 200,
      body: { created: 1, id: 'img_1', data: [{ b64_json: png, revised_prompt: 'x', content_filter_results: {}, seed: '12' }], usage: { total_tokens: 3, new_field: [1] }, region: 'eu' },
    });
    const ready = readyOf(finalOf(await engineFor(fake).submit(makeRequest())));
    expect(ready.result).toMatchObject({ kind: 'bytes', seed: null });
  });
});

describe('OpenAI-compatible engine: reference images', () => {
  test('are sent to /images/edits as multipart image[] files with opaque names', async () => {
    const engine = engineFor(fake);
    const refs = [await makeReference('png', 64, 48), await makeReference('jpeg', 32, 32, { r: 0, g: 0, b: 255 })];
    const request = makeRequest({ references: refs, parameters: { input_fidelity: 'high', quality: 'medium', moderation: 'low', user: 'u1' } });
    const ready = readyOf(finalOf(await engine.submit(request)));
    expect(await metaOf(await engine.fetchResult(ready.result))).toEqual([1024, 1024, 'png']);

    const [sent] = fake.requestsTo('edits');
    expect(sent?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent?.form?.fields).toEqual({
      model: ['gpt-image-1'], prompt: [request.prompt], n: ['1'], size: ['1024x1024'], output_format: ['png'], quality: ['medium'], input_fidelity: ['high'],
    });
    expect(sent?.form?.files.map((f) => [f.field, f.filename, f.type])).toEqual([
      ['image[]', 'image-1.png', 'image/png'],
      ['image[]', 'image-2.jpg', 'image/jpeg'],
    ]);
    expect(sent?.form?.files.map((f) => f.bytes.toString('base64'))).toEqual(refs.map((r) => r.bytes.toString('base64')));
    expect(fake.submissions[0]?.images).toHaveLength(2);
  });

  test('a gateway edit with more references than it takes is rejected with its text', async () => {
    const refs = await Promise.all(Array.from({ length: 9 }, () => makeReference('webp')));
    const err = await engineFor(fake).submit(makeRequest({ engineModel: 'flux-2-pro', references: refs })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'engine_rejected_request', retryable: false, httpStatus: 400, message: expect.stringContaining('At most 8 images') });
  });
});

describe('OpenAI-compatible engine: handles, restarts and cancel', () => {
  test('a handle this process no longer holds polls as interrupted, unless it carries a result URL', async () => {
    const request = makeRequest({ engineModel: 'dall-e-3', parameters: { response_format: 'url' } });
    const submitted = await engineFor(fake).submit(request);
    const restarted = engineFor(fake);

    expect(await restarted.poll({ requestId: submitted.requestId, pollingUrl: null }, request)).toEqual({
      state: 'failed', code: 'interrupted', retryable: false, detail: expect.stringContaining('keeps nothing to resume'),
    });
    const resumed = readyOf(await restarted.poll({ requestId: submitted.requestId, pollingUrl: null, extra: submitted.extra }, request));
    expect(await metaOf(await restarted.fetchResult(resumed.result))).toEqual([1024, 1024, 'png']);
  });

  test('the result cache is bounded: an evicted request polls as interrupted', async () => {
    const engine = engineFor(fake, { maxCachedResults: 1 });
    const first = await engine.submit(makeRequest());
    const second = await engine.submit(makeRequest());
    expect((await engine.poll(second, makeRequest())).state).toBe('ready');
    expect(await engine.poll(first, makeRequest())).toMatchObject({ state: 'failed', code: 'interrupted' });

    const shortLived = engineFor(fake, { resultCacheTtlMs: 0 });
    const gone = await shortLived.submit(makeRequest());
    expect(await shortLived.poll(gone, makeRequest())).toMatchObject({ state: 'failed', code: 'interrupted' });
  });

  test('cancel sends nothing (the API has no cancel) and forgets the result', async () => {
    const engine = engineFor(fake);
    const submitted = await engine.submit(makeRequest());
    const sent = fake.requests.length;
    await expect(engine.cancel(submitted)).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(sent);
    expect(await engine.poll(submitted, makeRequest())).toMatchObject({ state: 'failed', code: 'interrupted' });
  });
});

describe('OpenAI-compatible engine: health and privacy', () => {
  test('health lists models: reachable, a refused key, an unreachable server', async () => {
    expect(await engineFor(fake).health?.()).toEqual({ reachable: true, detail: null });
    expect(fake.requestsTo('models').at(-1)?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);

    const wrongKey = 'sk-wrong-0123456789abcdef';
    const refused = await engineFor(fake, { apiKey: wrongKey }).health?.();
    expect(refused).toEqual({ reachable: false, detail: expect.stringContaining('refused the API key') });
    expect(refused?.detail).not.toContain('cdef');

    const closed = await startFakeOpenAi();
    await closed.close();
    expect(await engineFor(closed).health?.()).toEqual({ reachable: false, detail: expect.stringContaining('Could not reach') });
  });

  test('sends nothing that identifies the user or the generation', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ references: [await makeReference('png')], webhookUrl: 'https://atelier.example/hooks/openai/gen_01JZ' });
    readyOf(finalOf(await engine.submit(request)));
    await engine.submit(makeRequest({ engineModel: 'dall-e-2', width: 512, height: 512 }));
    for (const r of fake.requests) {
      const everything = JSON.stringify([r.path, r.query, r.headers]) + r.rawBody.toString('latin1');
      expect(everything).not.toContain(request.idempotencyKey);
      expect(everything).not.toContain('gen_01JZ');
      expect(everything).not.toMatch(/"user"|name="user"/);
      expect(r.headers.cookie).toBeUndefined();
    }
  });

  test('an empty API key sends no Authorization header (LocalAI without keys)', async () => {
    const err = await engineFor(fake, { apiKey: '' }).submit(makeRequest()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'engine_auth_failed', message: expect.stringContaining("didn't provide an API key") });
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });
});
