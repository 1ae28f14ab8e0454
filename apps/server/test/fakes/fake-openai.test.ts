import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openAiFaults, startFakeOpenAi } from './fake-openai.ts';
import type { FakeOpenAi } from './fake-openai.ts';

/** The fake itself, spoken to with plain fetch, checked against the protocol notes (providers.md §5). */

let skewMs = 0;
let fake: FakeOpenAi;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeOpenAi({ now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});

type Json = Record<string, unknown> & { data: Record<string, unknown>[]; error: Record<string, unknown> };
async function generate(body: unknown, key: string | null = fake.apiKey) {
  const res = await fetch(`${fake.url}/images/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}
async function edit(form: FormData) {
  const res = await fetch(`${fake.url}/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}` }, body: form });
  return { status: res.status, body: (await res.json()) as Json };
}
const png = async (w = 32, h = 32) => sharp({ create: { width: w, height: h, channels: 4, background: '#336699' } }).png().toBuffer();
const metaOf = async (bytes: Buffer) => {
  const m = await sharp(bytes).metadata();
  return [m.width, m.height, m.format];
};

describe('fake OpenAI: generations', () => {
  test('gpt-image answers b64_json with usage and the resolved size, format and quality', async () => {
    const { status, body } = await generate({ model: 'gpt-image-1', prompt: 'p', size: 'auto', output_format: 'webp', quality: 'low' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ background: 'opaque', output_format: 'webp', quality: 'low', size: '1024x1024', usage: { input_tokens: 1, output_tokens: 272 } });
    expect(Object.keys(body.data[0] ?? {})).toEqual(['b64_json']);
    expect(await metaOf(Buffer.from(String(body.data[0]?.b64_json), 'base64'))).toEqual([1024, 1024, 'webp']);
  });

  test('DALL·E defaults to url (served by the fake, expiring after 60 min) with revised_prompt on dall-e-3', async () => {
    const { body } = await generate({ model: 'dall-e-3', prompt: 'a cat', size: '1024x1792' });
    const url = String(body.data[0]?.url);
    expect(body.data[0]?.revised_prompt).toContain('a cat');
    expect(new URL(url).origin).toBe(fake.origin);
    const image = await fetch(url);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(await metaOf(Buffer.from(await image.arrayBuffer()))).toEqual([1024, 1792, 'png']);
    expect((await fetch(url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
    skewMs += 60 * 60_000;
    expect((await fetch(url)).status).toBe(403);

    const b64 = await generate({ model: 'dall-e-2', prompt: 'p', size: '256x256', response_format: 'b64_json' });
    expect(await metaOf(Buffer.from(String(b64.body.data[0]?.b64_json), 'base64'))).toEqual([256, 256, 'png']);
  });

  test('OpenAI models validate strictly; gateways accept WxH in multiples of 16 and ignore unknown fields', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ model: 'gpt-image-1', prompt: 'p', size: '1024x768' }, 'size', 'invalid_value'],
      [{ model: 'gpt-image-1', prompt: 'p', response_format: 'url' }, 'response_format', 'unknown_parameter'],
      [{ model: 'dall-e-3', prompt: 'p', output_format: 'png' }, 'output_format', 'unknown_parameter'],
      [{ model: 'dall-e-3', prompt: 'p', n: 2 }, 'n', 'invalid_value'],
      [{ model: 'gpt-image-1', prompt: 'p', seed: 1 }, 'seed', 'unknown_parameter'],
      [{ model: 'gpt-image-1' }, 'prompt', 'missing_required_parameter'],
      [{ model: 'gpt-image-1', prompt: 'p', background: 'transparent', output_format: 'jpeg' }, 'background', 'invalid_value'],
      [{ model: 'flux-2-pro', prompt: 'p', size: '1000x1000' }, 'size', 'invalid_value'],
    ];
    for (const [body, param, code] of cases) {
      expect(await generate(body)).toMatchObject({ status: 400, body: { error: { param, code, type: 'invalid_request_error', message: expect.any(String) } } });
    }
    const gateway = await generate({ model: 'flux-2-pro', prompt: 'p', size: '1024x768', seed: 3, guidance: 4, output_format: 'jpeg', response_format: 'b64_json' });
    expect(gateway.status).toBe(200);
    expect(await metaOf(Buffer.from(String(gateway.body.data[0]?.b64_json), 'base64'))).toEqual([1024, 768, 'jpeg']);
    expect(fake.submissions.at(-1)).toMatchObject({ family: 'gateway', seed: 3 });
    expect(await generate({ model: 'nope', prompt: 'p' })).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } });
  });
});

describe('fake OpenAI: edits (multipart)', () => {
  test('accepts image[] and repeated image, records the files', async () => {
    for (const field of ['image[]', 'image']) {
      const form = new FormData();
      form.append('model', 'gpt-image-1');
      form.append('prompt', 'make it blue');
      form.append(field, new Blob([new Uint8Array(await png())], { type: 'image/png' }), 'a.png');
      form.append(field, new Blob([new Uint8Array(await png(16, 16))], { type: 'image/png' }), 'b.png');
      const { status, body } = await edit(form);
      expect(status).toBe(200);
      expect(body.data[0]).toHaveProperty('b64_json');
    }
    expect(fake.requestsTo('edits').map((r) => r.form?.files.map((f) => f.field))).toEqual([['image[]', 'image[]'], ['image', 'image']]);
    expect(fake.submissions.map((s) => s.images.length)).toEqual([2, 2]);
  });

  test('missing images, wrong types, too many images, dall-e-3 and JSON bodies are refused', async () => {
    const form = (model: string, files: [string, string][]) => {
      const f = new FormData();
      f.append('model', model);
      f.append('prompt', 'p');
      for (const [type, content] of files) f.append('image[]', new Blob([content], { type }), 'x');
      return f;
    };
    expect((await edit(form('gpt-image-1', []))).body.error).toMatchObject({ param: 'image', code: 'missing_required_parameter' });
    expect((await edit(form('gpt-image-1', [['text/plain', 'hi']]))).body.error).toMatchObject({ code: 'unsupported_file_mimetype' });
    expect((await edit(form('flux-2-pro', Array.from({ length: 9 }, (): [string, string] => ['image/png', 'x'])))).body.error).toMatchObject({ code: 'invalid_image_count' });
    expect((await edit(form('dall-e-3', [['image/png', 'x']]))).body.error).toMatchObject({ param: 'model' });
    const json = await fetch(`${fake.url}/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
  });
});

describe('fake OpenAI: auth, limits, faults', () => {
  test('Bearer auth: missing and wrong keys are 401 with OpenAI’s texts; /v1/models lists the models', async () => {
    expect(await generate({ model: 'gpt-image-1', prompt: 'p' }, null)).toMatchObject({ status: 401, body: { error: { code: null, message: expect.stringContaining("didn't provide an API key") } } });
    const wrong = await generate({ model: 'gpt-image-1', prompt: 'p' }, 'sk-wrong-1234567890');
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key', message: expect.stringContaining('sk-************7890') } } });
    const models = await fetch(`${fake.url}/models`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(await models.json()).toMatchObject({ object: 'list', data: expect.arrayContaining([{ id: 'gpt-image-1', object: 'model', created: expect.any(Number), owned_by: 'system' }]) });
    expect((await fetch(`${fake.url}/models`)).status).toBe(401);
    expect((await fetch(`${fake.url}/images/variations`, { method: 'POST' })).status).toBe(404);
  });

  test('moderation, quota and the images-per-minute limit', async () => {
    expect((await generate({ model: 'dall-e-3', prompt: 'moderate-request' })).body.error).toMatchObject({ code: 'content_policy_violation' });
    expect((await generate({ model: 'gpt-image-1', prompt: 'MODERATE-REQUEST' })).body.error).toMatchObject({ code: 'moderation_blocked', type: 'image_generation_user_error' });

    fake.setScenario({ quotaImages: 1 });
    expect((await generate({ model: 'gpt-image-1', prompt: 'p' })).status).toBe(200);
    expect(await generate({ model: 'gpt-image-1', prompt: 'p' })).toMatchObject({ status: 429, body: { error: { code: 'insufficient_quota', type: 'insufficient_quota' } } });

    fake.setScenario({ quotaImages: null, imagesPerMinute: 2 });
    const limited = await generate({ model: 'gpt-image-1', prompt: 'p', n: 2 });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    skewMs += 60_000;
    expect((await generate({ model: 'gpt-image-1', prompt: 'p', n: 2 })).body.data).toHaveLength(2);
  });

  test('scripted faults are used in order; outcomes expire URLs at once', async () => {
    fake.scriptNext('generations', openAiFaults.rateLimited(3), 2);
    for (let i = 0; i < 2; i++) {
      const r = await generate({ model: 'gpt-image-1', prompt: 'p' });
      expect([r.status, r.headers.get('retry-after'), r.body.error.code]).toEqual([429, '3', 'rate_limit_exceeded']);
    }
    expect((await generate({ model: 'gpt-image-1', prompt: 'p' })).status).toBe(200);

    fake.nextOutcome({ kind: 'url_expired' });
    const { body } = await generate({ model: 'flux-2-pro', prompt: 'p' });
    expect((await fetch(String(body.data[0]?.url))).status).toBe(403);
    expect(fake.requestsTo('generations')[0]).toMatchObject({ method: 'POST', path: '/v1/images/generations', json: { model: 'gpt-image-1', prompt: 'p' } });
  });
});
