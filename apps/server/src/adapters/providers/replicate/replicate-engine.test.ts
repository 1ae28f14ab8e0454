import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeReplicate } from '#test/fakes/fake-replicate.ts';
import type { FakeReplicate } from '#test/fakes/fake-replicate.ts';
import { createReplicateEngine } from './replicate-engine.ts';
import type { ReplicateEngineOptions } from './replicate-engine.ts';
import { expectReady, makeReference, makeRequest, pollUntilSettled } from './replicate-test-support.ts';

// Predictions take 10 s of fake time; tests jump the fake's clock instead of sleeping. A Prefer: wait
// create is held 10 real ms per requested second, so "not finished within the wait" is quick.
const PROCESSING_MS = 10_000;
let skewMs = 0;
let fake: FakeReplicate;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeReplicate({ processingMs: PROCESSING_MS, startingMs: 1_000, syncWaitScale: 10, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeReplicate, opts: Partial<ReplicateEngineOptions> = {}) => createReplicateEngine({ apiToken: f.apiToken, baseUrl: f.url, ...opts });

describe('Replicate engine: a text-to-image prediction', () => {
  test('finished within Prefer: wait → the create answer already carries the output; downloads an image of the requested size and format', async () => {
    fake.setScenario({ processingMs: 30, startingMs: 5, syncWaitScale: 1000 });
    const engine = engineFor(fake);
    const request = makeRequest({ width: 1024, height: 768, outputFormat: 'png', seed: 7 });

    const submitted = await engine.submit(request);
    const ready = expectReady(submitted.status);
    expect(ready.result).toMatchObject({ kind: 'url', seed: 7 });
    expect(submitted).toMatchObject({ requestId: expect.stringMatching(/^[a-z0-9]{26}$/), cost: null, pollingUrl: `${fake.url}/v1/predictions/${submitted.requestId}` });
    expect(submitted.extra).toEqual({ cancelUrl: `${fake.url}/v1/predictions/${submitted.requestId}/cancel` });

    const [create] = fake.requestsTo('create');
    expect(create?.path).toBe('/v1/models/black-forest-labs/flux-2-pro/predictions');
    expect(create?.headers.prefer).toBe('wait=5');
    expect(create?.headers.authorization).toBe(`Bearer ${fake.apiToken}`);
    expect(create?.body).toEqual({
      input: { prompt: request.prompt, aspect_ratio: 'custom', width: 1024, height: 768, output_format: 'png', seed: 7, safety_tolerance: 2 },
    });

    const bytes = await engine.fetchResult(ready.result);
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1024, 768, 'png']);
    // The output host is another origin: it must not receive the token.
    const [download] = fake.requestsTo('delivery');
    expect(download?.headers.authorization).toBeUndefined();
  });

  test('not finished within the wait → pending, then polled through starting and processing (progress from the logs) to ready', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ seed: null });
    const handle = await engine.submit(request);
    expect(handle.status).toBeUndefined();
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });

    skewMs += 1_000 + 4_500; // halfway through processing
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: 0.5 });
    skewMs += PROCESSING_MS;
    const ready = expectReady(await engine.poll(handle, request));
    // The request had no seed: the one Replicate logged ("Using seed: N") is reported.
    expect(ready.result.seed).toBe(fake.predictions.get(handle.requestId)?.seed);
    expect(fake.requestsTo('get').map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${fake.apiToken}`));
  });

  test('preferWaitSeconds: 0 sends no Prefer header and answers with the prediction still starting', async () => {
    const engine = engineFor(fake, { preferWaitSeconds: 0 });
    const handle = await engine.submit(makeRequest());
    expect(handle.status).toBeUndefined();
    expect(fake.requestsTo('create')[0]?.headers.prefer).toBeUndefined();
    expect(() => engineFor(fake, { preferWaitSeconds: 61 })).toThrow(/preferWaitSeconds/);
  });

  test('owner/name:version pins the version through POST /v1/predictions', async () => {
    const version = '285631b5656a1839331cd9af0d82da820e2075db12046d1d061c681b2f206bc6';
    const handle = await engineFor(fake).submit(makeRequest({ engineModel: `black-forest-labs/flux-2-pro:${version}` }));
    const [create] = fake.requestsTo('create');
    expect(create?.path).toBe('/v1/predictions');
    expect(create?.body).toMatchObject({ version: `black-forest-labs/flux-2-pro:${version}`, input: { prompt: makeRequest().prompt } });
    expect(fake.predictions.get(handle.requestId)?.model).toBe('black-forest-labs/flux-2-pro');
  });

  test('jpeg is asked for as "jpg", and comes back as a JPEG', async () => {
    fake.setScenario({ processingMs: 20, startingMs: 5, syncWaitScale: 1000 });
    const engine = engineFor(fake);
    const submitted = await engine.submit(makeRequest({ outputFormat: 'jpeg', width: 512, height: 512 }));
    expect((fake.requestsTo('create')[0]?.body as { input: Record<string, unknown> }).input.output_format).toBe('jpg');
    const meta = await sharp(await engine.fetchResult(expectReady(submitted.status).result)).metadata();
    expect(meta.format).toBe('jpeg');
  });

  test('flux-2-pro rounds custom sizes to multiples of 32, flux-2-max keeps multiples of 16', async () => {
    fake.setScenario({ processingMs: 20, startingMs: 5, syncWaitScale: 1000 });
    const engine = engineFor(fake);
    const sizeOf = async (engineModel: string) => {
      const submitted = await engine.submit(makeRequest({ engineModel, width: 1008, height: 752 }));
      const meta = await sharp(await engine.fetchResult(expectReady(submitted.status).result)).metadata();
      return [meta.width, meta.height];
    };
    const [proW, proH] = await sizeOf('black-forest-labs/flux-2-pro');
    expect([(proW ?? 1) % 32, (proH ?? 1) % 32]).toEqual([0, 0]);
    expect(Math.abs((proW ?? 0) - 1008)).toBeLessThanOrEqual(16);
    expect(await sizeOf('black-forest-labs/flux-2-max')).toEqual([1008, 752]);
  });
});

describe('Replicate engine: references and parameters', () => {
  test('references go as base64 data URIs in input_images, in order and in their own format', async () => {
    const engine = engineFor(fake);
    const refs = [await makeReference('png'), await makeReference('jpeg', 32, 32), await makeReference('webp', 16, 24)];
    await engine.submit(makeRequest({ references: refs }));

    const input = (fake.requestsTo('create')[0]?.body as { input: { input_images: string[] } }).input;
    expect(input.input_images).toEqual([
      `data:image/png;base64,${refs[0]?.bytes.toString('base64')}`,
      `data:image/jpeg;base64,${refs[1]?.bytes.toString('base64')}`,
      `data:image/webp;base64,${refs[2]?.bytes.toString('base64')}`,
    ]);
    // The fake decoded them back to the very same bytes.
    const prediction = [...fake.predictions.values()][0];
    expect(prediction?.validated.inputImages.map((i) => i.bytes?.equals(refs[prediction.validated.inputImages.indexOf(i)]?.bytes ?? Buffer.alloc(0)))).toEqual([true, true, true]);
  });

  test('only parameters the FLUX.2 schemas know are passed through; they cannot override the request’s own fields', async () => {
    const engine = engineFor(fake);
    await engine.submit(makeRequest({
      engineModel: 'black-forest-labs/flux-2-flex',
      parameters: { steps: 20, guidance: 3.5, prompt_upsampling: false, output_quality: 95, safety_tolerance: 5, prompt: 'override', width: 64, user: 'alice@example.com', disable_safety_checker: true },
    }));
    expect((fake.requestsTo('create')[0]?.body as { input: Record<string, unknown> }).input).toEqual({
      prompt: 'a red fox in fresh snow, morning light', aspect_ratio: 'custom', width: 1024, height: 768, output_format: 'png', seed: 42,
      safety_tolerance: 5, steps: 20, guidance: 3.5, prompt_upsampling: false, output_quality: 95,
    });
  });

  test('sends no user identifiers and not the idempotency key, anywhere', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ seed: null });
    const handle = await engine.submit(request);
    skewMs += PROCESSING_MS * 2;
    const { final } = await pollUntilSettled(engine, handle, request);
    await engine.fetchResult(expectReady(final).result);
    await engine.cancel(handle);
    for (const r of fake.requests) {
      const everything = JSON.stringify([r.path, r.query, r.headers, r.rawBody]);
      expect(everything).not.toContain(request.idempotencyKey);
      expect(everything).not.toContain('gen_01JZ');
      expect(Object.keys(r.headers)).not.toEqual(expect.arrayContaining(['cookie', 'idempotency-key', 'x-request-id']));
    }
    expect(Object.keys(fake.requestsTo('create')[0]?.body as object)).toEqual(['input']);
  });
});

describe('Replicate engine: responses outside the happy path', () => {
  test('tolerates unknown fields, an output array and statuses outside the documented set', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    skewMs += PROCESSING_MS;
    const real = expectReady(await engine.poll(handle, request));
    if (real.result.kind !== 'url') throw new Error('expected a url');

    fake.scriptNext('get', { status: 200, body: { id: handle.requestId, status: 'queued', logs: null, urls: { get: 'x' }, deployment: { owner: 'a' }, priority: 3 } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });
    fake.scriptNext('get', { status: 200, body: { id: handle.requestId, status: 'succeeded', output: [real.result.url, 'https://replicate.delivery/other.png'], logs: 'Using seed: 99\n', metrics: { predict_time: 1, image_count: 2 }, new_field: { nested: true } } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'ready', result: { kind: 'url', url: real.result.url, seed: 99 } });

    fake.nextOutcome({ kind: 'succeeded_array' });
    const second = await engine.submit(request);
    skewMs += PROCESSING_MS;
    const ready = expectReady(await engine.poll(second, request));
    expect((await engine.fetchResult(ready.result)).length).toBeGreaterThan(0);
  });

  test('an inline data URI output is returned as bytes', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const png = (await makeReference('png')).bytes;
    fake.scriptNext('create', { status: 201, body: { id: 'abc', status: 'succeeded', output: `data:image/png;base64,${png.toString('base64')}`, urls: {} } });
    const submitted = await engine.submit(request);
    expect(submitted.pollingUrl).toBe(`${fake.url}/v1/predictions/abc`);
    const ready = expectReady(submitted.status);
    expect(ready.result).toEqual({ kind: 'bytes', bytes: png, seed: 42 });
    expect(await engine.fetchResult(ready.result)).toEqual(png);
  });

  test('a polling URL on a foreign host is not followed with the token; the base URL is polled instead', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    const status = await engine.poll({ ...handle, pollingUrl: `https://evil.example/v1/predictions/${handle.requestId}` }, request);
    expect(status.state).toBe('pending');
    expect(fake.requestsTo('get').at(-1)?.path).toBe(`/v1/predictions/${handle.requestId}`);
  });

  test('an unknown prediction id fails for good', async () => {
    const status = await engineFor(fake).poll({ requestId: 'nosuchprediction', pollingUrl: null }, makeRequest());
    expect(status).toEqual({ state: 'failed', code: 'engine_error', retryable: false, detail: 'Replicate does not know prediction nosuchprediction' });
  });
});

describe('Replicate engine: health', () => {
  test('reachable with a good token; unreachable with a bad one, without the token in the detail', async () => {
    expect(await engineFor(fake).health?.()).toEqual({ reachable: true, detail: 'authenticated as atelier-fake', balance: null });
    const bad = await engineFor(fake, { apiToken: 'r8_wrong_token_0123456789' }).health?.();
    expect(bad).toMatchObject({ reachable: false, balance: null });
    expect(bad?.detail).toContain('HTTP 401');
    expect(bad?.detail).not.toContain('r8_wrong_token_0123456789');
  });
});
