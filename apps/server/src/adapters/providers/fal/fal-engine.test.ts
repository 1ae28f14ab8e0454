import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeFal } from '#test/fakes/fake-fal.ts';
import type { FakeFal } from '#test/fakes/fake-fal.ts';
import { createFalEngine } from './fal-engine.ts';
import type { FalEngineOptions } from './fal-engine.ts';
import { makeReference, makeRequest, pollUntilSettled, readyResult } from './fal-test-support.ts';

// Requests queue for 5 s and run for 10 s of fake time; tests move the fake's clock instead of
// sleeping, so "the first poll is IN_QUEUE" holds however slow the machine is.
const QUEUE_MS = 5_000;
const PROCESSING_MS = 10_000;
let skewMs = 0;
let fake: FakeFal;
beforeEach(async () => {
  skewMs = 0;
  fake = await startFakeFal({ queueMs: QUEUE_MS, processingMs: PROCESSING_MS, now: () => Date.now() + skewMs });
});
afterEach(async () => {
  await fake.close();
});
const engineFor = (f: FakeFal, opts: Partial<FalEngineOptions> = {}) => createFalEngine({ apiKey: f.apiKey, baseUrl: f.url, jwksUrl: f.jwksUrl, ...opts });

describe('fal engine: text to image', () => {
  test('submits to the endpoint, follows IN_QUEUE → IN_PROGRESS → COMPLETED, and downloads the image', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ width: 1440, height: 1024, outputFormat: 'jpeg', seed: 7 });
    const handle = await engine.submit(request);
    const [submit] = fake.requestsTo('submit');
    expect(submit?.path).toBe('/fal-ai/flux-2-pro');
    expect(submit?.headers.authorization).toBe(`Key ${fake.apiKey}`);
    expect(submit?.body).toEqual({ prompt: request.prompt, image_size: { width: 1440, height: 1024 }, output_format: 'jpeg', seed: 7, safety_tolerance: '2' });
    // The URLs fal returned are persisted so a restarted worker can poll and cancel.
    expect(handle).toEqual({
      requestId: expect.any(String),
      pollingUrl: `${fake.url}/fal-ai/flux-2-pro/requests/${handle.requestId}/status`,
      extra: {
        endpoint: 'fal-ai/flux-2-pro',
        statusUrl: `${fake.url}/fal-ai/flux-2-pro/requests/${handle.requestId}/status`,
        responseUrl: `${fake.url}/fal-ai/flux-2-pro/requests/${handle.requestId}`,
        cancelUrl: `${fake.url}/fal-ai/flux-2-pro/requests/${handle.requestId}/cancel`,
      },
      cost: null,
    });
    expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);

    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: 0 });
    skewMs += QUEUE_MS;
    // pro is hosted by BFL and prints no step logs: progress is unknown while it runs.
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });
    skewMs += PROCESSING_MS;
    const final = await engine.poll(handle, request);
    if (final.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(final)}`);
    expect(final.result).toMatchObject({ kind: 'url', seed: 7 });

    const bytes = await engine.fetchResult(final.result);
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1440, 1024, 'jpeg']);
    expect(fake.requestsTo('status').map((r) => r.query.logs)).toEqual(['1', '1', '1']);
    expect(fake.requestsTo('result')).toHaveLength(1);
    expect(fake.requestsTo('cdn')).toHaveLength(1);
  });

  test('asks fal to expire the output files after an hour (configurable, or left to fal)', async () => {
    await engineFor(fake).submit(makeRequest());
    await engineFor(fake, { outputLifetimeSeconds: 600, retainRequestHistory: false }).submit(makeRequest());
    await engineFor(fake, { outputLifetimeSeconds: null }).submit(makeRequest());
    const [a, b, c] = fake.requestsTo('submit').map((r) => r.headers);
    expect(a?.['x-fal-object-lifecycle-preference']).toBe('{"expiration_duration_seconds":3600}');
    expect(a?.['x-fal-store-io']).toBeUndefined();
    expect(b?.['x-fal-object-lifecycle-preference']).toBe('{"expiration_duration_seconds":600}');
    expect(b?.['x-fal-store-io']).toBe('0');
    expect(c?.['x-fal-object-lifecycle-preference']).toBeUndefined();
  });

  test('reports step progress from the logs of endpoints that print them (klein)', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ engineModel: 'fal-ai/flux-2/klein/4b', outputFormat: 'webp', seed: null });
    const handle = await engine.submit(request);
    skewMs += QUEUE_MS + PROCESSING_MS / 2;
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: 0.5 });
    skewMs += PROCESSING_MS;
    const final = await engine.poll(handle, request);
    if (final.state !== 'ready') throw new Error('expected ready');
    // No seed was asked for: the one fal chose is reported so "copy seed" reproduces the image.
    expect(final.result.seed).toBe(fake.queue.get(handle.requestId)?.seed);
    expect((await sharp(await engine.fetchResult(final.result)).metadata()).format).toBe('webp');
  });

  test('passes through known parameters (safety_tolerance as a string) and drops the rest', async () => {
    const engine = engineFor(fake);
    const parameters = { guidance_scale: 4, num_inference_steps: 30, safety_tolerance: 5, prompt: 'override attempt', num_images: 4, user_id: 'u_123' };
    await engine.submit(makeRequest({ engineModel: 'fal-ai/flux-2-flex', parameters }));
    await engine.submit(makeRequest({ engineModel: 'fal-ai/flux-2', parameters: { acceleration: 'high', enable_safety_checker: true } }));
    const [flex, dev] = fake.requestsTo('submit').map((r) => r.body);
    expect(flex).toEqual({ prompt: makeRequest().prompt, image_size: { width: 1024, height: 768 }, output_format: 'png', seed: 42, safety_tolerance: '5', guidance_scale: 4, num_inference_steps: 30 });
    // [dev] has no safety_tolerance in its schema, so none is sent by default.
    expect(dev).toEqual({ prompt: makeRequest().prompt, image_size: { width: 1024, height: 768 }, output_format: 'png', seed: 42, acceleration: 'high', enable_safety_checker: true });
    skewMs += QUEUE_MS + PROCESSING_MS;
    for (const req of fake.queue.values()) expect(req.outcome.kind).toBe('ok');
  });

  test('tolerates unknown fields in every answer', async () => {
    const engine = engineFor(fake);
    const request = makeRequest();
    const handle = await engine.submit(request);
    skewMs += QUEUE_MS + PROCESSING_MS;
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready' || final.result.kind !== 'url') throw new Error('expected a ready url result');
    const { result } = final;
    const urls = handle.extra ?? {};
    fake.scriptNext('submit', { status: 200, body: { status: 'IN_QUEUE', request_id: 'abc', status_url: urls.statusUrl, response_url: urls.responseUrl, cancel_url: urls.cancelUrl, queue_position: 0, gateway_request_id: 'g', region: 'us-east' } });
    expect(await engine.submit(request)).toMatchObject({ requestId: 'abc', pollingUrl: urls.statusUrl });

    fake.scriptNext('status', { status: 202, body: { status: 'IN_PROGRESS', logs: [{ message: 'warming up', level: 'INFO', source: 'USER', timestamp: 'x', extra: 1 }], eta: 3 } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });
    fake.scriptNext('status', { status: 202, body: { status: 'STARTING', hint: 'new state' } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });
    fake.scriptNext('result', { status: 200, body: { images: [{ url: result.url, nsfw: false }], seed: 9, timings: {}, has_nsfw_concepts: [false], description: '' } });
    expect(await engine.poll(handle, request)).toEqual({ state: 'ready', result: { kind: 'url', url: result.url, seed: 9 } });
  });

  test('a seed fal reports beyond what JSON and our records hold falls back to the one we sent', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ seed: 1234 });
    const handle = await engine.submit(request);
    skewMs += QUEUE_MS + PROCESSING_MS;
    fake.scriptNext('result', { status: 200, body: '{"images":[{"url":"https://v3.fal.media/files/x.png"}],"seed":196619188014358660}', headers: { 'content-type': 'application/json' } });
    expect(await engine.poll(handle, request)).toMatchObject({ state: 'ready', result: { seed: 1234 } });
  });

  test('sync_mode results arrive inline as a data URI and are returned as bytes', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ parameters: { sync_mode: true } });
    const handle = await engine.submit(request);
    skewMs += QUEUE_MS + PROCESSING_MS;
    const final = await engine.poll(handle, request);
    if (final.state !== 'ready' || final.result.kind !== 'bytes') throw new Error(`expected inline bytes, got ${JSON.stringify(final).slice(0, 200)}`);
    expect((await sharp(await engine.fetchResult(final.result)).metadata()).format).toBe('png');
    expect(fake.requestsTo('cdn')).toHaveLength(0);
  });
});

describe('fal engine: reference images', () => {
  test('go to the /edit endpoint as base64 data URIs, and are polled under owner/app only', async () => {
    const engine = engineFor(fake);
    const references = [await makeReference(640, 480, 'png'), await makeReference(512, 512, 'jpeg'), await makeReference(300, 200, 'webp')];
    const request = makeRequest({ engineModel: 'fal-ai/flux-2/klein/4b', references });
    const handle = await engine.submit(request);
    const [submit] = fake.requestsTo('submit');
    expect(submit?.path).toBe('/fal-ai/flux-2/klein/4b/edit');
    const imageUrls = (submit?.body as { image_urls: string[] }).image_urls;
    expect(imageUrls.map((u) => u.slice(0, 23))).toEqual(['data:image/png;base64,i', 'data:image/jpeg;base64,', 'data:image/webp;base64,']);
    expect(imageUrls[0]).toBe(`data:image/png;base64,${references[0]!.bytes.toString('base64')}`);
    // The fake decoded each one: they arrive as the images we sent, and nothing went to fal storage.
    expect(fake.queue.get(handle.requestId)?.input?.references).toEqual([
      { source: 'data', format: 'png', width: 640, height: 480 },
      { source: 'data', format: 'jpeg', width: 512, height: 512 },
      { source: 'data', format: 'webp', width: 300, height: 200 },
    ]);
    expect(fake.requests.filter((r) => r.path.includes('storage'))).toHaveLength(0);

    skewMs += QUEUE_MS + PROCESSING_MS;
    const { final } = await pollUntilSettled(engine, handle, request);
    expect(final.state).toBe('ready');
    // The path rule: klein/4b/edit lives under fal-ai/flux-2.
    expect(fake.requestsTo('status').map((r) => r.path)).toEqual([`/fal-ai/flux-2/requests/${handle.requestId}/status`]);
    expect(fake.requestsTo('result').map((r) => r.path)).toEqual([`/fal-ai/flux-2/requests/${handle.requestId}`]);
  });

  test('an endpoint already named /edit is used as is; without references it is refused before paying', async () => {
    const engine = engineFor(fake);
    await engine.submit(makeRequest({ engineModel: 'fal-ai/flux-2-pro/edit', references: [await makeReference(256, 256)] }));
    expect(fake.requestsTo('submit').map((r) => r.path)).toEqual(['/fal-ai/flux-2-pro/edit']);
    await expect(engine.submit(makeRequest({ engineModel: 'fal-ai/flux-2-pro/edit' }))).rejects.toMatchObject({ code: 'engine_rejected_request', retryable: false });
    await expect(engine.submit(makeRequest({ engineModel: 'flux-2-pro' }))).rejects.toMatchObject({ code: 'engine_rejected_request' });
    expect(fake.requestsTo('submit')).toHaveLength(1);
  });

  test('handles persisted without extra (older rows) still poll: pollingUrl first, then the path rule', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ engineModel: 'fal-ai/flux-2-max', references: [await makeReference(256, 256)] });
    const submitted = await engine.submit(request);
    skewMs += QUEUE_MS + PROCESSING_MS;
    expect((await engine.poll({ requestId: submitted.requestId, pollingUrl: submitted.pollingUrl }, request)).state).toBe('ready');
    expect((await engine.poll({ requestId: submitted.requestId, pollingUrl: null }, request)).state).toBe('ready');
    expect(new Set(fake.requestsTo('result').map((r) => r.path))).toEqual(new Set([`/fal-ai/flux-2-max/requests/${submitted.requestId}`]));
  });
});

describe('fal engine: cancel', () => {
  test('PUTs the cancel_url; the request then ends as canceled', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ engineModel: 'fal-ai/flux-2-pro', references: [await makeReference(256, 256)] });
    const handle = await engine.submit(request);
    await engine.cancel(handle);
    expect(fake.requestsTo('cancel').map((r) => [r.method, r.path])).toEqual([['PUT', `/fal-ai/flux-2-pro/requests/${handle.requestId}/cancel`]]);
    expect(fake.requestsTo('cancel')[0]?.headers.authorization).toBe(`Key ${fake.apiKey}`);
    expect(await engine.poll(handle, request)).toMatchObject({ state: 'failed', code: 'canceled', retryable: false });
  });

  test('an already finished or unknown request needs nothing more; other failures are reported', async () => {
    const engine = engineFor(fake);
    const handle = await engine.submit(makeRequest());
    skewMs += QUEUE_MS + PROCESSING_MS;
    await expect(engine.cancel(handle)).resolves.toBeUndefined();
    await expect(engine.cancel({ requestId: 'nope', pollingUrl: `${fake.url}/fal-ai/flux-2-pro/requests/nope/status` })).resolves.toBeUndefined();
    expect(fake.requestsTo('cancel').map((r) => r.path)).toHaveLength(2);
    fake.scriptNext('cancel', { status: 503 });
    await expect(engine.cancel(handle)).rejects.toMatchObject({ code: 'engine_unavailable' });
  });
});

describe('fal engine: privacy and credentials', () => {
  test('sends no user identifiers or idempotency key, and the key only to the queue host', async () => {
    const engine = engineFor(fake);
    const request = makeRequest({ seed: null, parameters: { user: 'alice@example.com' } });
    fake.setScenario({ queueMs: 0, processingMs: 0 });
    const { result } = await readyResult(engine, request);
    await engine.fetchResult(result);
    for (const r of fake.requests) {
      const everything = JSON.stringify([r.path, r.query, r.headers, r.rawBody]);
      expect(everything).not.toContain('gen_01JZ');
      expect(everything).not.toContain('alice@example.com');
      expect(r.headers.cookie).toBeUndefined();
      expect(r.headers.authorization).toBe(r.listener === 'queue' ? `Key ${fake.apiKey}` : undefined);
    }
    expect(fake.requestsTo('cdn')).toHaveLength(1);
  });

  test('a status URL naming another host is not trusted with the key: the path rule URL is used', async () => {
    const engine = engineFor(fake);
    fake.scriptNext('submit', { status: 200, body: { request_id: 'r1', status: 'IN_QUEUE', status_url: 'https://evil.example/fal-ai/flux-2-pro/requests/r1/status', response_url: 'http://evil.example/x', cancel_url: 'javascript:alert(1)' } });
    const handle = await engine.submit(makeRequest());
    expect(handle.extra).toMatchObject({ statusUrl: `${fake.url}/fal-ai/flux-2-pro/requests/r1/status`, responseUrl: `${fake.url}/fal-ai/flux-2-pro/requests/r1`, cancelUrl: `${fake.url}/fal-ai/flux-2-pro/requests/r1/cancel` });
    await expect(engine.poll({ requestId: 'r1', pollingUrl: 'https://evil.example/s' }, makeRequest())).rejects.toMatchObject({ code: 'engine_error', retryable: false });
  });

  test('health reaches the queue with the key; a refused key or a dead host is reported without the key', async () => {
    expect(await engineFor(fake).health?.()).toEqual({ reachable: true, detail: null, balance: null });
    const refused = await engineFor(fake, { apiKey: 'wrong-id:wrong-secret-0123456789' }).health?.();
    expect(refused).toMatchObject({ reachable: false, detail: expect.stringContaining('refused the API key') });
    expect(refused?.detail).not.toContain('wrong-secret-0123456789');
    const closed = await startFakeFal();
    await closed.close();
    expect(await engineFor(closed).health?.()).toMatchObject({ reachable: false, detail: expect.stringContaining('Could not reach fal') });
  });
});
