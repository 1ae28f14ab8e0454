import crypto from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation, GenerationVersions } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Upscale ×2/×4 as a new version: the built-in upscale models run the local ESRGAN upscaler in the
 * offline engine on the user's image, as stored (not fitted to the 2048 px engines usually get), and
 * the result joins the source's version graph.
 */
let server: TestServer;
let user: { cookie: string; userId: string };

beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server.app);
});
afterAll(() => server?.close());

const create = (body: Record<string, unknown>) =>
  server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: body });
const get = async (id: string) => (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
/** Upscaling runs on the CPU: allow it longer than a render. */
const settled = (id: string) => eventually(async () => {
  const g = await get(id);
  return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
}, { timeoutMs: 50_000, intervalMs: 100 });
const done = async (body: Record<string, unknown>) => {
  const res = await create(body);
  expect(res.statusCode, res.body).toBe(202);
  return settled(res.json<Generation>().id);
};
const imageBytes = async (g: Generation) => (await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) })).rawPayload;
const generationCount = async () => (await server.container.database.db.selectFrom('generations').select('id').execute()).length;

async function upload(width: number, height: number): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#0f766e"/><rect x="${width / 3}" width="${width / 3}" height="${height}" fill="#fde047"/></svg>`;
  const data = await sharp(Buffer.from(svg)).png().toBuffer();
  const boundary = `----atelier${crypto.randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="wide.png"\r\ncontent-type: image/png\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await server.app.inject({ method: 'POST', url: '/api/uploads', headers: studio(user.cookie, { 'content-type': `multipart/form-data; boundary=${boundary}` }), payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

describe('upscale models', () => {
  it('upscales an output ×2 as a new version of it', async () => {
    const source = await done({ model: 'offline', prompt: 'a lighthouse "v1" #1E3A8A', width: 256, height: 192, seed: 5 });
    expect(source.status).toBe('succeeded');
    const upscaled = await done({ model: 'upscale-2x', prompt: source.prompt, references: [source.images[0]!.id], parent: source.id });
    expect(upscaled).toMatchObject({ status: 'succeeded', model: 'upscale-2x', width: 512, height: 384, parent_id: source.id });
    expect(upscaled.images[0]).toMatchObject({ width: 512, height: 384, format: 'png' });
    expect(await sharp(await imageBytes(upscaled)).metadata()).toMatchObject({ width: 512, height: 384 });

    // Shrunk back, it is the source again (the network adds detail, it does not repaint).
    const back = await sharp(await imageBytes(upscaled)).resize(256, 192).removeAlpha().raw().toBuffer();
    const original = await sharp(await imageBytes(source)).removeAlpha().raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < back.length; i++) diff += Math.abs(back[i]! - original[i]!);
    expect(diff / back.length).toBeLessThan(12);

    for (const id of [source.id, upscaled.id]) {
      const graph = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}/versions`, headers: studio(user.cookie) })).json<GenerationVersions>();
      expect(graph.data.map((g) => g.id).sort()).toEqual([source.id, upscaled.id].sort());
      expect(graph.edges).toEqual([{ parent: source.id, child: upscaled.id }]);
    }
  });

  it('gets the original image, not the 2048 px copy other engines get', async () => {
    const wide = await upload(2100, 24);
    const upscaled = await done({ model: 'upscale-2x', prompt: 'a wide strip', references: [wide], output_format: 'webp' });
    expect(upscaled.status, JSON.stringify(upscaled.error)).toBe('succeeded');
    expect(upscaled.images[0]).toMatchObject({ width: 4200, height: 48, format: 'webp' });
  });

  it('refuses requests an upscaler cannot honour, with a reason, and creates nothing', async () => {
    const source = await done({ model: 'offline', prompt: 'a small source', width: 128, height: 128 });
    const id = source.images[0]!.id;
    const huge = await upload(4100, 16);
    const before = await generationCount();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ model: 'upscale-2x', prompt: 'x', references: [id, huge] }, 'references', 'Upscale ×2 takes exactly one image to upscale (got 2)'],
      [{ model: 'upscale-4x', prompt: 'x' }, 'references', 'Upscale ×4 takes exactly one image to upscale (got 0)'],
      [{ model: 'upscale-2x', prompt: 'x', references: [huge] }, 'references.0', 'this 4100×16 image would become 8200×32 (0.25 MP); Upscale ×2 makes at most 32 MP and 8192 pixels a side'],
      [{ model: 'upscale-2x', prompt: 'x', references: [id], width: 512, height: 512 }, 'width', 'Upscale ×2 makes the image 2× the size of its source; leave out width'],
      [{ model: 'upscale-4x', prompt: 'x', references: [id], count: 2 }, 'count', 'Upscale ×4 makes one image per request (got count 2)'],
      [{ model: 'upscale-2x', prompt: 'x', references: [crypto.randomUUID()] }, 'references.0', 'is not one of your uploads or images'],
    ];
    for (const [body, path, message] of cases) {
      const res = await create(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'validation_failed', fields: expect.arrayContaining([{ path, message: expect.stringContaining(message) }]) } });
    }
    expect(await generationCount()).toBe(before);
  });
});
