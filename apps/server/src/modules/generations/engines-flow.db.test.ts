import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation, GenerationRouting } from '@atelier/contracts';
import { falFaults, startFakeFal, type FakeFal } from '#test/fakes/fake-fal.ts';
import { startFakeReplicate, type FakeReplicate } from '#test/fakes/fake-replicate.ts';
import { startFakeComfyUi, type FakeComfyUi } from '#test/fakes/fake-comfyui.ts';
import { startFakeOpenAi, type FakeOpenAi } from '#test/fakes/fake-openai.ts';
import { freePort } from '#test/support/process.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { signUpStaff } from '#test/support/staff.ts';

/**
 * Every engine end to end through the generation flow, each against its contract-faithful fake server:
 * the job submits through the adapter, the result is stored, and the image is served.
 */
let openai: FakeOpenAi;
let fal: FakeFal;
let replicate: FakeReplicate;
let comfy: [FakeComfyUi, FakeComfyUi];
let server: TestServer;
let user: { cookie: string; userId: string; email: string };
let staffCookie: string;

beforeAll(async () => {
  openai = await startFakeOpenAi();
  fal = await startFakeFal({ processingMs: 400 });
  replicate = await startFakeReplicate({ processingMs: 400 });
  comfy = [await startFakeComfyUi({ processingMs: 400 }), await startFakeComfyUi({ processingMs: 400 })];
  // Listening for real, so the fakes can deliver webhooks; the backstop poll is a minute away.
  const port = await freePort();
  server = await startTestServer({
    env: {
      OPENAI_IMAGES_API_KEY: openai.apiKey,
      OPENAI_IMAGES_BASE_URL: openai.url,
      FAL_KEY: fal.apiKey,
      FAL_BASE_URL: fal.url,
      FAL_JWKS_URL: fal.jwksUrl,
      REPLICATE_API_TOKEN: replicate.apiToken,
      REPLICATE_BASE_URL: replicate.url,
      COMFYUI_URLS: comfy.map((c) => c.url).join(','),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ENGINE_WEBHOOKS: 'on',
    },
    runner: { pollStartMs: 60_000, pollMaxMs: 60_000 },
  });
  await server.app.listen({ port, host: '127.0.0.1' });
  user = await signUp(server.app);
  staffCookie = (await signUpStaff(server, 'admin', { email: 'ops@example.com' })).cookie;
});
afterAll(async () => {
  await server?.close();
  await openai?.close();
  await fal?.close();
  await replicate?.close();
  for (const c of comfy ?? []) await c.close();
});

const create = async (body: Record<string, unknown>) => {
  const res = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: body });
  expect(res.statusCode).toBe(202);
  return res.json<Generation>();
};
const settled = (id: string) =>
  eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
    return ['succeeded', 'failed', 'blocked', 'canceled'].includes(g.status) ? g : undefined;
  });

describe('OpenAI-compatible images API', () => {
  it('generates synchronously and stores the image', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { model: 'openai-image', prompt: 'a teapot "hello"', width: 1024, height: 1024, output_format: 'webp' } });
    expect(res.statusCode).toBe(202);
    const g = await settled(res.json<Generation>().id);
    expect(g).toMatchObject({ status: 'succeeded', engine: 'openai' });
    const image = await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) });
    const meta = await sharp(image.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 1024, 1024]);
    const [call] = openai.requestsTo('generations');
    expect(call!.json).toMatchObject({ model: 'gpt-image-1', prompt: 'a teapot "hello"', size: '1024x1024', n: 1 });
    expect(openai.requests.map((r) => r.rawBody.toString()).join('')).not.toContain(user.email);
    const routing = (await server.app.inject({ method: 'GET', url: `/api/admin/generations/${g.id}/routing`, headers: studio(staffCookie) })).json<GenerationRouting>();
    expect(routing.engine_request_id).toMatch(/^openai-/);
  });
});

describe('fal.ai', () => {
  it('completes on fal\'s signed webhook, long before the next poll, and refuses a tampered one', async () => {
    // FLUX.2 [pro]'s only configured route here is fal (no BFL key).
    const g = await create({ model: 'flux-2-pro', prompt: 'a kite over dunes', width: 1024, height: 768 });
    const done = await settled(g.id);
    expect(done).toMatchObject({ status: 'succeeded', engine: 'fal', width: 1024, height: 768 });
    await fal.webhooksSettled();
    const delivered = fal.webhookDeliveries.filter((d) => d.variant === 'valid');
    expect(delivered.map((d) => d.status)).toContain(204);
    const [submit] = fal.requestsTo('submit');
    expect(submit!.path).toBe('/fal-ai/flux-2-pro');
    expect(submit!.body).toMatchObject({ prompt: 'a kite over dunes', image_size: { width: 1024, height: 768 } });

    const requestId = delivered[0]!.requestId;
    const [tampered] = await fal.deliverWebhook(requestId, 'tampered');
    expect(tampered!.status).toBe(401);
    const [replayed] = await fal.deliverWebhook(requestId, 'replayed');
    expect(replayed!.status).toBe(401);
  });
});

describe('fail-over from fal.ai to Replicate', () => {
  it('moves a generation to Replicate when fal keeps answering 503, and completes on Replicate\'s signed webhook', async () => {
    fal.scriptNext('submit', falFaults.serverError(503), 50);
    const g = await create({ model: 'flux-2-max', prompt: 'a red bicycle against a blue wall', width: 1024, height: 1024, output_format: 'jpeg' });
    const done = await settled(g.id);
    expect(done).toMatchObject({ status: 'succeeded', engine: 'replicate' });
    const [create_] = replicate.requestsTo('create');
    expect(create_!.path).toBe('/v1/models/black-forest-labs/flux-2-max/predictions');
    expect(create_!.body).toMatchObject({ input: { prompt: 'a red bicycle against a blue wall', width: 1024, height: 1024, output_format: 'jpg' } });
    await replicate.settleWebhooks();
    const statuses = replicate.webhookDeliveries.flatMap((d) => d.attempts.map((a) => a.status));
    expect(statuses).toContain(204);
    const routing = (await server.app.inject({ method: 'GET', url: `/api/admin/generations/${g.id}/routing`, headers: studio(staffCookie) })).json<GenerationRouting>();
    expect(routing.route_history).toEqual([expect.objectContaining({ engine: 'fal', outcome: 'failed_over' })]);
  });
});

describe('ComfyUI on your own GPUs', () => {
  it('runs FLUX.2 [dev] on the server with the shorter queue, with live progress', async () => {
    comfy[0].enqueueForeign(3); // the first server is busy
    comfy[1].setScenario({ holdAtStep: 10 });
    const g = await create({ model: 'flux-2-dev', prompt: 'a lighthouse, "KEEP OUT"', width: 1024, height: 1024, seed: 7 });
    // Step 10 of 20, reported over ComfyUI's WebSocket, reaches the generation: the backstop poll is a
    // minute away, so only the socket's push can have woken the worker.
    const midway = await eventually(async () => {
      const current = (await server.app.inject({ method: 'GET', url: `/api/generations/${g.id}`, headers: studio(user.cookie) })).json<Generation>();
      return current.progress !== null && current.progress >= 0.45 ? current : undefined;
    }, { timeoutMs: 15_000 });
    comfy[1].release();
    comfy[1].setScenario({ holdAtStep: null });
    const done = await settled(g.id);
    expect(done).toMatchObject({ status: 'succeeded', engine: 'comfyui', seed: 7 });
    expect(comfy[1].requestsTo('prompt')).toHaveLength(1);
    expect(comfy[0].requestsTo('prompt')).toHaveLength(0);
    const graph = (comfy[1].requestsTo('prompt')[0]!.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }).prompt;
    expect(Object.values(graph).find((n) => n.class_type === 'CLIPTextEncode')!.inputs.text).toBe('a lighthouse, "KEEP OUT"');
    expect(Object.values(graph).find((n) => n.class_type === 'RandomNoise')!.inputs.noise_seed).toBe(7);
    expect(midway.status).toBe('running');
  });
});
