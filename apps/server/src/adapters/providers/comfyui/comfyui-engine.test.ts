import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeComfyUi } from '#test/fakes/fake-comfyui.ts';
import type { FakeComfyUi } from '#test/fakes/fake-comfyui.ts';
import { createComfyUiEngine } from './comfyui-engine.ts';
import type { ComfyUiEngine, ComfyUiEngineOptions } from './comfyui-engine.ts';
import { engineErrorOf, eventually, makeReference, makeRequest, pollUntilSettled } from './comfyui-test-support.ts';

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

let fake: FakeComfyUi;
const engines: ComfyUiEngine[] = [];
beforeEach(async () => {
  fake = await startFakeComfyUi({ processingMs: 40 });
});
afterEach(async () => {
  for (const e of engines.splice(0)) e.close();
  await fake.close();
});
const engineFor = (urls: string[] = [fake.url], opts: Partial<ComfyUiEngineOptions> = {}) => {
  const engine = createComfyUiEngine({ urls, ...opts });
  engines.push(engine);
  return engine;
};
const submittedGraph = (f: FakeComfyUi = fake, i = -1) => (f.requestsTo('prompt').at(i)?.body as { prompt: Graph }).prompt;
const classes = (graph: Graph) => Object.values(graph).map((n) => n.class_type).sort();

describe('ComfyUI engine: text-to-image', () => {
  test('submits a FLUX.2 dev graph, reports WebSocket progress while the history is empty, then downloads the PNG', async () => {
    fake.setScenario({ holdAtStep: 2, paused: true });
    const engine = engineFor();
    const request = makeRequest({ width: 1000, height: 760, seed: 7, parameters: { steps: 4, guidance: 3.5, unknown_knob: true } });
    const handle = await engine.submit(request);
    expect(handle).toEqual({ requestId: expect.any(String), pollingUrl: `${fake.url}/history/${handle.requestId}`, extra: { server: fake.url, seed: '7' }, cost: null });
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null }); // queued

    // Start once the engine's socket is connected, so it sees every event of the prompt.
    await eventually(() => fake.connectedClients().length === 1);
    fake.setScenario({ paused: false });
    await fake.waitForEvent('progress', handle.requestId).then(() => eventually(() => fake.events.filter((e) => e.type === 'progress').length === 2));
    // The fake holds the prompt after 2 of 4 steps: the history is still {}, the socket said 2/4.
    const queueReads = fake.requestsTo('queue').length;
    let status = await engine.poll(handle, request);
    for (let i = 0; i < 50 && !(status.state === 'pending' && status.progress === 0.5); i++) status = await engine.poll(handle, request);
    expect(status).toEqual({ state: 'pending', progress: 0.5 });
    expect(fake.history.has(handle.requestId)).toBe(false);
    // While the socket reports the prompt running, poll needs nothing but the history.
    expect(fake.requestsTo('queue')).toHaveLength(queueReads);
    fake.release();
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(final)}`);
    expect(final.result).toEqual({ kind: 'url', url: expect.stringMatching(/\/view\?filename=flux2_00001_\.png&subfolder=atelier&type=output$/), seed: 7 });

    const bytes = await engine.fetchResult(final.result);
    const meta = await sharp(bytes).metadata();
    // 1000×760 rounds to the nearest multiples of 16 the latent allows.
    expect([meta.width, meta.height, meta.format]).toEqual([1008, 768, 'png']);

    const graph = submittedGraph();
    expect(classes(graph)).toEqual(['BasicGuider', 'CLIPLoader', 'CLIPTextEncode', 'EmptyFlux2LatentImage', 'Flux2Scheduler', 'FluxGuidance', 'KSamplerSelect', 'RandomNoise', 'SamplerCustomAdvanced', 'SaveImage', 'UNETLoader', 'VAEDecode', 'VAELoader']);
    expect(graph['8']?.inputs).toEqual({ steps: 4, width: 1008, height: 768 });
    expect(graph['5']?.inputs.guidance).toBe(3.5);
    expect(graph['9']?.inputs.noise_seed).toBe(7);
    expect(graph['4']?.inputs.text).toBe(request.prompt);
    expect(graph['1']?.inputs.unet_name).toBe('flux2_dev_fp8mixed.safetensors');
  });

  test('a null seed becomes a random 32-bit seed, sent to the graph and returned with the result', async () => {
    const engine = engineFor();
    const request = makeRequest({ seed: null });
    const handle = await engine.submit(request);
    const seed = Number(handle.extra?.seed);
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
    expect(submittedGraph()['9']?.inputs.noise_seed).toBe(seed);
    const { final } = await pollUntilSettled(engine, handle, request);
    expect(final).toMatchObject({ state: 'ready', result: { seed } });
    // A handle persisted before `extra` existed still polls: server and seed come from the history.
    const { final: again } = await pollUntilSettled(engine, { requestId: handle.requestId, pollingUrl: handle.pollingUrl }, request);
    expect(again).toMatchObject({ state: 'ready', result: { seed } });
  });

  test('klein uses its own models, CFGGuider at cfg 1 with a zeroed negative, and 4 steps by default', async () => {
    const engine = engineFor([fake.url], { models: { 'flux2-klein-4b': { unet: 'flux-2-klein-4b-fp8.safetensors' } } });
    const request = makeRequest({ engineModel: 'flux2-klein-4b', parameters: { guidance: 4 } });
    const { final } = await pollUntilSettled(engine, await engine.submit(request), request);
    expect(final.state).toBe('ready');
    const graph = submittedGraph();
    expect(classes(graph)).toContain('CFGGuider');
    expect(classes(graph)).toContain('ConditioningZeroOut');
    expect(classes(graph)).not.toContain('FluxGuidance');
    expect(graph['6']?.inputs).toMatchObject({ cfg: 1, positive: ['4', 0], negative: ['5', 0] });
    expect(graph['8']?.inputs.steps).toBe(4);
    expect(graph['2']?.inputs.clip_name).toBe('qwen_3_4b.safetensors');
  });

  test('tolerates unknown fields in ComfyUI answers', async () => {
    const engine = engineFor();
    const request = makeRequest();
    const real = await engine.submit(request);
    const { final } = await pollUntilSettled(engine, real, request);
    fake.scriptNext('prompt', { status: 200, body: { prompt_id: 'p-1', number: 12, node_errors: {}, queue_position: 3, server_build: 'x' } });
    expect(await engine.submit(request)).toMatchObject({ requestId: 'p-1' });
    const entry = fake.history.get(real.requestId)!;
    fake.scriptNext('history', { status: 200, body: { [real.requestId]: { ...entry, status: { ...entry.status, started_at: 1, worker: 'gpu-2' }, preview_url: null, outputs: { ...entry.outputs, '99': { text: ['ignored'] } } } } });
    expect(await engine.poll(real, request)).toEqual(final);
  });
});

describe('ComfyUI engine: reference images', () => {
  test('uploads each reference under a content hash and chains LoadImage → scale → VAEEncode → ReferenceLatent', async () => {
    const engine = engineFor();
    const refs = [await makeReference({ r: 200, g: 30, b: 30 }), await makeReference({ r: 30, g: 30, b: 200 }, 'jpeg')];
    const request = makeRequest({ references: refs });
    const handle = await engine.submit(request);

    const uploads = fake.requestsTo('upload');
    expect(uploads.map((u) => u.form?.fields)).toEqual([{ overwrite: 'true', type: 'input' }, { overwrite: 'true', type: 'input' }]);
    const names = refs.map((r, i) => `atelier-${createHash('sha256').update(r.bytes).digest('hex').slice(0, 32)}.${i === 0 ? 'png' : 'jpg'}`);
    expect(uploads.map((u) => u.form?.files.map((f) => [f.field, f.filename, f.contentType]))).toEqual([[['image', names[0], 'image/png']], [['image', names[1], 'image/jpeg']]]);
    expect(fake.inputs.get(names[1]!)?.equals(refs[1]!.bytes)).toBe(true);

    const graph = submittedGraph();
    expect(graph['100']).toEqual({ class_type: 'LoadImage', inputs: { image: names[0] } });
    expect(graph['101']?.inputs).toMatchObject({ image: ['100', 0], upscale_method: 'lanczos', megapixels: 1 });
    expect(graph['102']?.inputs).toEqual({ pixels: ['101', 0], vae: ['3', 0] });
    expect(graph['103']?.inputs).toEqual({ conditioning: ['5', 0], latent: ['102', 0] });
    expect(graph['110']?.inputs.image).toBe(names[1]);
    expect(graph['113']?.inputs).toEqual({ conditioning: ['103', 0], latent: ['112', 0] });
    expect(graph['6']?.inputs.conditioning).toEqual(['113', 0]);
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('klein edits carry the references on the negative too; a name the server renames is the one used', async () => {
    const engine = engineFor();
    const ref = await makeReference({ r: 10, g: 180, b: 10 });
    fake.scriptNext('upload', { status: 200, body: { name: 'renamed (1).png', subfolder: 'atelier-refs', type: 'input' } });
    const request = makeRequest({ engineModel: 'flux2-klein-9b', references: [ref] });
    await engineErrorOf(engine.submit(request)).then((err) => {
      // The scripted name does not exist on the server, so ComfyUI's LoadImage validation refuses it.
      expect(err).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining('Invalid image file: atelier-refs/renamed (1).png') });
    });
    const graph = submittedGraph();
    expect(graph['100']?.inputs.image).toBe('atelier-refs/renamed (1).png');
    expect(graph['104']?.inputs).toEqual({ conditioning: ['5', 0], latent: ['102', 0] });
    expect(graph['6']?.inputs).toMatchObject({ positive: ['103', 0], negative: ['104', 0] });
  });
});

describe('ComfyUI engine: several servers', () => {
  let second: FakeComfyUi;
  beforeEach(async () => {
    second = await startFakeComfyUi({ processingMs: 40 });
  });
  afterEach(async () => {
    await second.close();
  });

  test('submits to the server with the shorter queue; poll and cancel go to that server', async () => {
    fake.setScenario({ paused: true });
    fake.enqueueForeign(2);
    const engine = engineFor([fake.url, second.url]);
    const request = makeRequest();
    const handle = await engine.submit(request);
    expect(handle.extra?.server).toBe(second.url);
    expect(fake.requestsTo('queue_info')).toHaveLength(1);
    expect(fake.requestsTo('prompt')).toHaveLength(0);
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
    await engine.cancel(handle);
    expect(fake.requestsTo('history')).toHaveLength(0);
    expect(fake.requestsTo('queue')).toHaveLength(0);
    expect(second.requestsTo('queue')).not.toHaveLength(0);
  });

  test('equal queues take turns; an unreachable server is skipped; none reachable is retryable', async () => {
    const engine = engineFor([fake.url, second.url]);
    const servers = [];
    for (let i = 0; i < 4; i++) servers.push((await engine.submit(makeRequest({ parameters: { steps: 1 } }))).extra?.server);
    expect(servers.filter((s) => s === fake.url)).toHaveLength(2);

    await second.close();
    expect((await engine.submit(makeRequest())).extra?.server).toBe(fake.url);
    await fake.close();
    const err = await engineErrorOf(engine.submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_unavailable', retryable: true, message: expect.stringContaining('No ComfyUI server is reachable') });
    fake = await startFakeComfyUi();
    second = await startFakeComfyUi();
  });

  test('health asks /system_stats on every server and stays reachable while one is up', async () => {
    const engine = engineFor([fake.url, second.url]);
    expect(await engine.health!()).toEqual({ reachable: true, detail: expect.stringMatching(/^2\/2 servers reachable\. .*ComfyUI 0\.3\.66, cuda:0 NVIDIA/) });
    second.scriptNext('system_stats', { status: 503 });
    expect(await engine.health!()).toEqual({ reachable: true, detail: expect.stringContaining('1/2 servers reachable') });
    fake.scriptNext('system_stats', { destroySocket: true });
    second.scriptNext('system_stats', { status: 502 });
    expect(await engine.health!()).toMatchObject({ reachable: false });
  });
});

describe('ComfyUI engine: progress socket and cancel', () => {
  test('without the WebSocket, poll falls back to history and queue and still finishes', async () => {
    fake.setScenario({ refuseWebSockets: true, holdAtStep: 1 });
    const engine = engineFor();
    const request = makeRequest();
    const handle = await engine.submit(request);
    await fake.waitForEvent('progress', handle.requestId);
    expect(await engine.poll(handle, request)).toEqual({ state: 'pending', progress: null });
    expect(fake.requestsTo('queue')).toHaveLength(1);
    fake.release();
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
    expect(fake.connectedClients()).toEqual([]);
  });

  test('a dropped socket reconnects with the same client id and progress resumes', async () => {
    fake.setScenario({ paused: true, processingMs: 200 });
    const engine = engineFor();
    const request = makeRequest({ parameters: { steps: 10 } });
    const handle = await engine.submit(request);
    await eventually(() => fake.connectedClients().length === 1);
    const [clientId] = fake.connectedClients();
    fake.dropWebSockets();
    await eventually(() => fake.connectedClients().length === 0);
    await eventually(() => fake.connectedClients().length === 1, 5000);
    expect(fake.connectedClients()).toEqual([clientId]);
    fake.setScenario({ paused: false });
    const { final, seen } = await pollUntilSettled(engine, handle, request);
    expect(final.state).toBe('ready');
    expect(seen.some((s) => s.state === 'pending' && s.progress !== null && s.progress > 0)).toBe(true);
  });

  test('cancel interrupts a running prompt by id, and deletes a queued one', async () => {
    fake.setScenario({ holdAtStep: 1 });
    const engine = engineFor();
    const request = makeRequest();
    const running = await engine.submit(request);
    const queued = await engine.submit(request);
    await fake.waitForEvent('progress', running.requestId);

    await engine.cancel(queued);
    expect(fake.requestsTo('queue_edit').map((r) => r.body)).toEqual([{ delete: [queued.requestId] }]);
    expect(fake.queueState().pending).toEqual([]);
    expect(fake.requestsTo('interrupt')).toHaveLength(0);

    await engine.cancel(running);
    expect(fake.requestsTo('interrupt').map((r) => r.body)).toEqual([{ prompt_id: running.requestId }]);
    await fake.waitForEvent('execution_interrupted', running.requestId);
  });

  test('on a server whose /interrupt is global, cancelling a queued prompt leaves the running one alone', async () => {
    fake.setScenario({ targetedInterrupt: false, holdAtStep: 1 });
    fake.enqueueForeign(1);
    const engine = engineFor();
    const handle = await engine.submit(makeRequest());
    await engine.cancel(handle);
    expect(fake.requestsTo('interrupt')).toHaveLength(0);
    expect(fake.queueState()).toMatchObject({ running: expect.any(String), pending: [] });
    expect(fake.events.some((e) => e.type === 'execution_interrupted')).toBe(false);
  });
});

describe('ComfyUI engine: privacy', () => {
  test('sends the prompt and images only: no idempotency key, user ids or cookies, and an opaque client id', async () => {
    const engine = engineFor();
    const request = makeRequest({ references: [await makeReference({ r: 1, g: 2, b: 3 })] });
    const handle = await engine.submit(request);
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready') throw new Error('expected ready');
    await engine.fetchResult(final.result);
    await engine.cancel(handle);

    expect(Object.keys(fake.requestsTo('prompt')[0]?.body as object).sort()).toEqual(['client_id', 'prompt']);
    const clientId = (fake.requestsTo('prompt')[0]?.body as { client_id: string }).client_id;
    expect(clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(fake.requestsTo('ws').map((r) => r.query.clientId)).toContain(clientId);
    for (const r of fake.requests) {
      const everything = JSON.stringify([r.path, r.query, r.headers, r.rawBody, r.form]);
      expect(everything).not.toContain(request.idempotencyKey);
      expect(everything).not.toContain('gen_');
      expect(r.headers.cookie).toBeUndefined();
      expect(r.headers.authorization).toBeUndefined();
    }
  });
});
