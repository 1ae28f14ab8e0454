import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { startFakeComfyUi } from './fake-comfyui.ts';
import type { FakeComfyUi } from './fake-comfyui.ts';

/** The fake itself, spoken to with plain fetch and a `ws` client, checked against providers.md §4 and §7. */

let fake: FakeComfyUi;
beforeEach(async () => {
  fake = await startFakeComfyUi({ processingMs: 40 });
});
afterEach(async () => {
  await fake.close();
});

/** The minimal FLUX.2 text-to-image graph of providers.md §4.3. */
function t2iGraph(overrides: { width?: number; height?: number; steps?: number; seed?: number } = {}) {
  const { width = 512, height = 384, steps = 4, seed = 42 } = overrides;
  return {
    '1': { class_type: 'UNETLoader', inputs: { unet_name: 'flux2_dev_fp8mixed.safetensors', weight_dtype: 'default' } },
    '2': { class_type: 'CLIPLoader', inputs: { clip_name: 'mistral_3_small_flux2_bf16.safetensors', type: 'flux2', device: 'default' } },
    '3': { class_type: 'VAELoader', inputs: { vae_name: 'flux2-vae.safetensors' } },
    '4': { class_type: 'CLIPTextEncode', inputs: { clip: ['2', 0], text: 'a fox' } },
    '5': { class_type: 'FluxGuidance', inputs: { conditioning: ['4', 0], guidance: 4 } },
    '6': { class_type: 'BasicGuider', inputs: { model: ['1', 0], conditioning: ['5', 0] } },
    '7': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler' } },
    '8': { class_type: 'Flux2Scheduler', inputs: { steps, width, height } },
    '9': { class_type: 'RandomNoise', inputs: { noise_seed: seed } },
    '10': { class_type: 'EmptyFlux2LatentImage', inputs: { width, height, batch_size: 1 } },
    '11': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['9', 0], guider: ['6', 0], sampler: ['7', 0], sigmas: ['8', 0], latent_image: ['10', 0] } },
    '12': { class_type: 'VAEDecode', inputs: { samples: ['11', 0], vae: ['3', 0] } },
    '13': { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: 'flux2' } },
  } as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}
const getJson = async (path: string) => (await fetch(`${fake.url}${path}`)).json() as Promise<Record<string, unknown>>;

function connect(clientId: string): Promise<{ ws: WebSocket; frames: { type: string; data: Record<string, unknown> }[] }> {
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
  const frames: { type: string; data: Record<string, unknown> }[] = [];
  ws.on('message', (data, isBinary) => { if (!isBinary) frames.push(JSON.parse(String(data)) as (typeof frames)[number]); });
  return new Promise((resolve, reject) => { ws.once('open', () => resolve({ ws, frames })); ws.once('error', reject); });
}

describe('fake ComfyUI: POST /prompt validates like execution.validate_prompt', () => {
  test('an unknown class_type is invalid_prompt with empty node_errors', async () => {
    const graph = { ...t2iGraph(), '14': { class_type: 'Flux2ProMagic', inputs: {} } };
    expect(await post('/prompt', { prompt: graph })).toEqual({
      status: 400,
      body: { error: { type: 'invalid_prompt', message: 'Cannot execute because node Flux2ProMagic does not exist.', details: "Node ID '#14'", extra_info: {} }, node_errors: {} },
    });
  });

  test('a missing required input and an uninstalled model are reported per node', async () => {
    const graph = t2iGraph();
    delete graph['8']!.inputs.steps;
    graph['1']!.inputs.unet_name = 'flux2_dev_fp16.safetensors';
    const { status, body } = await post('/prompt', { prompt: graph });
    expect(status).toBe(400);
    expect(body?.error).toMatchObject({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation' });
    expect(body?.node_errors).toEqual({
      '8': { class_type: 'Flux2Scheduler', dependent_outputs: ['13'], errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'steps', extra_info: { input_name: 'steps' } }] },
      '1': { class_type: 'UNETLoader', dependent_outputs: ['13'], errors: [expect.objectContaining({ type: 'value_not_in_list', details: expect.stringContaining("unet_name: 'flux2_dev_fp16.safetensors' not in [") })] },
    });
  });

  test.each([
    ['a wrong link type', (g: ReturnType<typeof t2iGraph>) => { g['6']!.inputs.model = ['3', 0]; }, 'return_type_mismatch'],
    ['a value above max', (g: ReturnType<typeof t2iGraph>) => { g['10']!.inputs.width = 20_000; }, 'value_bigger_than_max'],
    ['a link to a missing node', (g: ReturnType<typeof t2iGraph>) => { g['12']!.inputs.vae = ['99', 0]; }, 'exception_during_validation'],
    ['an unknown input image', (g: ReturnType<typeof t2iGraph>) => { g['20'] = { class_type: 'LoadImage', inputs: { image: 'nope.png' } }; g['21'] = { class_type: 'SaveImage', inputs: { images: ['20', 0], filename_prefix: 'x' } }; }, 'custom_validation_failed'],
  ])('%s is rejected (%s)', async (_name, mutate, type) => {
    const graph = t2iGraph();
    mutate(graph);
    const { status, body } = await post('/prompt', { prompt: graph });
    // With another output (13) still valid, ComfyUI queues the prompt and reports the bad node alongside.
    expect(status).toBe(type === 'custom_validation_failed' ? 200 : 400);
    expect(JSON.stringify(body?.node_errors)).toContain(`"type":"${type}"`);
  });

  test('no prompt and no output node have their own error types', async () => {
    expect((await post('/prompt', { client_id: 'x' })).body?.error).toMatchObject({ type: 'no_prompt' });
    expect((await post('/prompt', { prompt: { '1': { class_type: 'VAELoader', inputs: { vae_name: 'flux2-vae.safetensors' } } } })).body?.error).toMatchObject({ type: 'prompt_no_outputs' });
  });
});

describe('fake ComfyUI: execution, events, history and /view', () => {
  test('events go only to the prompt’s client and end with executing {node: null}; then history and /view have the image', async () => {
    const mine = await connect('client-a');
    const other = await connect('client-b');
    const { body } = await post('/prompt', { prompt: t2iGraph({ width: 520, height: 384, steps: 4, seed: 7 }), client_id: 'client-a' });
    const promptId = String(body?.prompt_id);
    expect(await getJson(`/history/${promptId}`)).toEqual({});
    await fake.waitForEvent('executing', promptId).then(() => fake.waitForEvent('execution_success', promptId));
    await new Promise((r) => setTimeout(r, 50));

    const types = mine.frames.filter((f) => f.data.prompt_id === promptId).map((f) => f.type);
    expect(types.slice(0, 2)).toEqual(['execution_start', 'execution_cached']);
    expect(types.filter((t) => t === 'progress')).toHaveLength(4);
    expect(types.slice(-3)).toEqual(['executed', 'execution_success', 'executing']);
    expect(mine.frames.at(-1)).toEqual({ type: 'executing', data: { node: null, prompt_id: promptId } });
    expect(mine.frames[0]).toMatchObject({ type: 'status', data: { sid: 'client-a' } });
    expect(other.frames.filter((f) => f.data.prompt_id === promptId)).toEqual([]);

    const history = (await getJson(`/api/history/${promptId}`))[promptId] as Record<string, unknown>;
    expect(history.status).toMatchObject({ status_str: 'success', completed: true });
    const image = (history.outputs as Record<string, { images: { filename: string; subfolder: string; type: string }[] }>)['13']!.images[0]!;
    expect(image).toEqual({ filename: 'flux2_00001_.png', subfolder: '', type: 'output' });
    const res = await fetch(`${fake.url}/view?filename=${image.filename}&subfolder=&type=output`);
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([512, 384]); // 520 → the latent's multiple of 16
    expect((await fetch(`${fake.url}/view?filename=../secrets&type=output`)).status).toBe(400);
    expect((await fetch(`${fake.url}/view?filename=missing.png&type=output`)).status).toBe(404);
    mine.ws.close();
    other.ws.close();
  });

  test('one prompt runs at a time; /queue and queue_remaining show the rest; delete and targeted interrupt', async () => {
    fake.setScenario({ holdAtStep: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(String((await post('/prompt', { prompt: t2iGraph() })).body?.prompt_id));
    expect(await getJson('/prompt')).toEqual({ exec_info: { queue_remaining: 3 } });
    const queue = await getJson('/queue') as { queue_running: unknown[][]; queue_pending: unknown[][] };
    expect(queue.queue_running.map((q) => q[1])).toEqual([ids[0]]);
    expect(queue.queue_pending.map((q) => q[1])).toEqual([ids[1], ids[2]]);

    expect((await post('/queue', { delete: [ids[2]] })).status).toBe(200);
    expect(fake.queueState().pending).toEqual([ids[1]]);
    // A targeted interrupt of a prompt that is not running does nothing.
    await post('/interrupt', { prompt_id: ids[1] });
    await post('/interrupt', { prompt_id: ids[0] });
    await fake.waitForEvent('execution_interrupted', ids[0]);
    fake.setScenario({ holdAtStep: null });
    await fake.waitForEvent('execution_success', ids[1]);
    const entry = (await getJson(`/history/${ids[0]}`))[ids[0]!] as { status: { status_str: string; messages: [string, unknown][] } };
    expect(entry.status.status_str).toBe('error');
    expect(entry.status.messages.map(([e]) => e)).toContain('execution_interrupted');
    expect(await getJson(`/history/${ids[2]}`)).toEqual({});
  });
});

describe('fake ComfyUI: uploads, proxy auth and the origin check', () => {
  async function upload(name: string, bytes: Buffer, fields: Record<string, string> = {}) {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${fake.url}/upload/image`, { method: 'POST', body: form });
    return { status: res.status, body: res.status === 200 ? await res.json() : undefined };
  }

  test('identical content reuses the name, different content gets "name (1)", overwrite replaces', async () => {
    const a = Buffer.from('first image'), b = Buffer.from('second image');
    expect(await upload('ref.png', a)).toEqual({ status: 200, body: { name: 'ref.png', subfolder: '', type: 'input' } });
    expect((await upload('ref.png', a)).body).toMatchObject({ name: 'ref.png' });
    expect((await upload('ref.png', b)).body).toMatchObject({ name: 'ref (1).png' });
    expect((await upload('ref.png', b, { overwrite: 'true' })).body).toMatchObject({ name: 'ref.png' });
    expect(fake.inputs.get('ref.png')?.equals(b)).toBe(true);
    expect(fake.requestsTo('upload')[0]?.form?.files[0]).toMatchObject({ field: 'image', filename: 'ref.png', size: a.length });
    const empty = await fetch(`${fake.url}/upload/image`, { method: 'POST', body: new FormData() });
    expect(empty.status).toBe(400);
  });

  test('a proxy’s credentials are demanded from HTTP and WebSocket alike; a foreign Origin is refused', async () => {
    fake.setScenario({ requireAuthorization: 'Bearer proxy-token' });
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(401);
    expect((await fetch(`${fake.url}/system_stats`, { headers: { authorization: 'Bearer proxy-token' } })).status).toBe(200);
    await expect(connect('x')).rejects.toThrow(/401/);
    fake.setScenario({ requireAuthorization: null });
    expect((await fetch(`${fake.url}/prompt`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
  });
});
