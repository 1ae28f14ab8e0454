import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { bflFaults, startFakeBfl } from './fake-bfl.ts';
import type { FakeBfl } from './fake-bfl.ts';

/** The fake itself, spoken to with plain fetch, checked against the protocol notes (providers.md §1, §7). */

let skewMs = 0;
let fake: FakeBfl;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeBfl({ processingMs: 1_000, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});

async function submit(model: string, body: unknown, key: string | null = fake.apiKey) {
  const res = await fetch(`${fake.url}/v1/${model}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-key': key }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('fake BFL: validation like FastAPI/pydantic', () => {
  test('prompt is required', async () => {
    expect(await submit('flux-2-pro', { width: 1024, height: 1024 })).toMatchObject({
      status: 422,
      body: { detail: [{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }] },
    });
  });

  test.each([
    [{ width: 32 }, 'width', 'greater_than_equal'],
    [{ width: 1000 }, 'width', 'value_error'],
    [{ height: 100.5 }, 'height', 'int_from_float'],
    [{ safety_tolerance: 6 }, 'safety_tolerance', 'less_than_equal'],
    [{ output_format: 'gif' }, 'output_format', 'enum'],
    [{ seed: 'abc' }, 'seed', 'int_parsing'],
    [{ webhook_url: 'not a url' }, 'webhook_url', 'url_parsing'],
  ])('%j is rejected at %s (%s)', async (fields, field, type) => {
    const { status, body } = await submit('flux-2-pro', { prompt: 'p', ...fields });
    expect(status).toBe(422);
    expect(body.detail).toEqual([expect.objectContaining({ loc: ['body', field], type })]);
  });

  test('more than 4 MP is rejected; 2048×2048 is the largest square', async () => {
    expect((await submit('flux-2-pro', { prompt: 'p', width: 2064, height: 2048 })).status).toBe(422);
    expect((await submit('flux-2-pro', { prompt: 'p', width: 2048, height: 2048 })).status).toBe(200);
  });

  test('multiples of 16 can be rounded instead of rejected', async () => {
    fake.setScenario({ rejectNonMultipleOf16: false });
    const { status, body } = await submit('flux-2-pro', { prompt: 'p', width: 1000, height: 1030 });
    expect(status).toBe(200);
    expect(fake.tasks.get(String(body.id))?.input).toMatchObject({ width: 1008, height: 1024 });
  });

  test('flex-only fields are validated on flex and ignored elsewhere, like any unknown field', async () => {
    expect((await submit('flux-2-flex', { prompt: 'p', steps: 51 })).status).toBe(422);
    expect((await submit('flux-2-flex', { prompt: 'p', guidance: 1 })).status).toBe(422);
    expect((await submit('flux-2-flex', { prompt: 'p', steps: 50, guidance: 4.5, prompt_upsampling: false })).status).toBe(200);
    expect((await submit('flux-2-pro', { prompt: 'p', steps: 999, disable_pup: true, transparent_bg: true })).status).toBe(200);
  });

  test('klein takes at most 4 input images, pro 8', async () => {
    const images = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i === 0 ? 'input_image' : `input_image_${i + 1}`, 'https://example.com/a.png']));
    expect((await submit('flux-2-klein-4b', { prompt: 'p', ...images(4) })).status).toBe(200);
    expect((await submit('flux-2-klein-4b', { prompt: 'p', ...images(5) })).body.detail).toEqual([expect.objectContaining({ loc: ['body', 'input_image_5'] })]);
    expect((await submit('flux-2-pro', { prompt: 'p', ...images(8) })).status).toBe(200);
  });

  test('unknown model paths are 404', async () => {
    expect(await submit('flux-3-ultra', { prompt: 'p' })).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
  });
});

describe('fake BFL: pricing and credits (§1.7)', () => {
  test.each([
    ['flux-2-klein-4b', 1024, 1024, 0, 1.4],
    ['flux-2-klein-9b', 1440, 1440, 0, 1.7],
    ['flux-2-pro', 1440, 1440, 0, 4.5],
    ['flux-2-max', 2048, 2048, 0, 16],
    ['flux-2-flex', 1024, 1024, 2, 15],
  ])('%s at %i×%i with %i input images costs %d credits', async (model, width, height, inputs, cost) => {
    const extra = inputs > 0 ? { input_image: 'a', input_image_2: 'b' } : {};
    const { body } = await submit(model, { prompt: 'p', width, height, ...extra });
    expect(body.cost).toBe(cost);
  });

  test('credits fall by the cost, moderated tasks are free, and an empty account answers 402', async () => {
    fake.setScenario({ credits: 10 });
    await submit('flux-2-pro', { prompt: 'p', width: 1024, height: 1024 });
    await submit('flux-2-pro', { prompt: 'please moderate-request this' });
    const credits = await fetch(`${fake.url}/v1/credits`, { headers: { 'x-key': fake.apiKey } });
    expect(await credits.json()).toEqual({ credits: 7 });
    fake.setScenario({ credits: 1 });
    expect(await submit('flux-2-pro', { prompt: 'p' })).toMatchObject({ status: 402, body: { detail: 'Insufficient credits' } });
  });
});

describe('fake BFL: auth, tasks and delivery', () => {
  test('x-key: missing → Not authenticated (403, or 401 when configured), wrong → 403', async () => {
    expect(await submit('flux-2-pro', { prompt: 'p' }, null)).toMatchObject({ status: 403, body: { detail: 'Not authenticated' } });
    fake.setScenario({ missingKeyStatus: 401 });
    expect((await submit('flux-2-pro', { prompt: 'p' }, null)).status).toBe(401);
    expect((await submit('flux-2-pro', { prompt: 'p' }, 'bfl_wrong')).status).toBe(403);
    expect((await fetch(`${fake.url}/v1/credits`)).status).toBe(401);
  });

  test('polling_url is on the cluster host; Pending with rising progress, then Ready with an expiring sample', async () => {
    const { body } = await submit('flux-2-klein-9b', { prompt: 'p', width: 512, height: 384, output_format: 'jpeg', seed: 3 });
    const pollingUrl = String(body.polling_url);
    expect(new URL(pollingUrl).origin).toBe(fake.clusterUrl);
    expect(Object.keys(body).sort()).toEqual(['cost', 'id', 'input_mp', 'output_mp', 'polling_url']);

    const p1 = await getJson(pollingUrl);
    skewMs += 500;
    const p2 = await getJson(pollingUrl);
    expect([p1.body.status, p2.body.status]).toEqual(['Pending', 'Pending']);
    expect(Number(p2.body.progress)).toBeGreaterThan(Number(p1.body.progress));

    skewMs += 500;
    const ready = await getJson(`${fake.url}/v1/get_result?id=${String(body.id)}`); // the submit host answers too
    expect(ready.body).toMatchObject({ status: 'Ready', result: { seed: 3, duration: 1 } });
    const sample = String((ready.body.result as Record<string, unknown>).sample);
    expect(new URL(sample).origin).toBe(fake.deliveryUrl);

    const image = await fetch(sample);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([512, 384, 'jpeg']);

    skewMs += 600_000;
    expect((await fetch(sample)).status).toBe(403);
  });

  test('unknown ids are "Task not found"; a missing id is 422', async () => {
    expect((await getJson(`${fake.clusterUrl}/v1/get_result?id=nope`)).body).toMatchObject({ id: 'nope', status: 'Task not found' });
    expect((await getJson(`${fake.clusterUrl}/v1/get_result`)).status).toBe(422);
  });

  test('scripted outcomes and faults, the concurrency limit, and request recording', async () => {
    fake.nextTaskOutcome({ kind: 'error', details: { message: 'boom' } });
    const { body } = await submit('flux-2-pro', { prompt: 'p' });
    skewMs += 1_000;
    expect((await getJson(String(body.polling_url))).body).toMatchObject({ status: 'Error', details: { message: 'boom' }, result: null });

    fake.scriptNext('submit', bflFaults.rateLimited(3), 2);
    for (let i = 0; i < 2; i++) {
      const r = await submit('flux-2-pro', { prompt: 'p' });
      expect([r.status, r.headers.get('retry-after'), typeof r.body.detail]).toEqual([429, '3', 'string']);
    }
    fake.setScenario({ maxActiveTasks: 1 });
    expect((await submit('flux-2-pro', { prompt: 'p' })).status).toBe(200);
    expect((await submit('flux-2-pro', { prompt: 'p' })).status).toBe(429);

    expect(fake.requestsTo('submit')).toHaveLength(5);
    expect(fake.requestsTo('poll')).toHaveLength(1);
    expect(fake.requestsTo('submit')[0]).toMatchObject({ listener: 'api', method: 'POST', path: '/v1/flux-2-pro', body: { prompt: 'p' } });
  });

  test('close() frees every listener', async () => {
    const other = await startFakeBfl();
    await other.close();
    for (const url of [other.url, other.clusterUrl, other.deliveryUrl]) await expect(fetch(`${url}/v1/credits`)).rejects.toThrow();
  });
});
