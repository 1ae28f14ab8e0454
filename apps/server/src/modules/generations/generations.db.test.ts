import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation, GenerationPage } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

let server: TestServer;
let user: { cookie: string; userId: string };

beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server.app);
});
afterAll(() => server?.close());

const create = (body: unknown, headers: Record<string, string> = {}, cookie = user.cookie) =>
  server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(cookie, { 'content-type': 'application/json', ...headers }), payload: JSON.stringify(body) });
const get = (id: string, cookie = user.cookie) => server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(cookie) });
const countRows = async () => Number((await server.container.database.db.selectFrom('generations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const waitFor = (id: string, status: Generation['status']) =>
  eventually(async () => {
    const g = get(id).then((r) => r.json() as Generation);
    const value = await g;
    return value.status === status ? value : undefined;
  });

describe('text-to-image with the offline engine', () => {
  it('queues, runs and stores an encrypted image the owner can download in any format', async () => {
    const res = await create({ model: 'offline', prompt: 'A poster that says "Bonjour" in #3366FF', aspect_ratio: '3:2', seed: 7, output_format: 'jpeg' });
    expect(res.statusCode).toBe(202);
    const queued = res.json() as Generation;
    expect(queued).toMatchObject({ status: 'queued', model: 'offline', is_preview_engine: true, width: 1248, height: 832, seed: 7, output_format: 'jpeg', images: [] });

    const done = await waitFor(queued.id, 'succeeded');
    expect(done.images).toHaveLength(1);
    const image = done.images[0]!;
    expect(image).toMatchObject({ width: 1248, height: 832, format: 'jpeg' });

    const original = await server.app.inject({ method: 'GET', url: image.url, headers: studio(user.cookie) });
    expect(original.statusCode).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(original.headers['x-content-type-options']).toBe('nosniff');
    const meta = await sharp(original.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1248, 832]);
    expect(meta.xmp?.toString()).toContain('algorithmicMedia');

    const png = await server.app.inject({ method: 'GET', url: `${image.url}?format=png&download=1`, headers: studio(user.cookie) });
    expect(png.headers['content-disposition']).toMatch(/^attachment; filename="atelier-.*\.png"$/);
    expect((await sharp(png.rawPayload).metadata()).format).toBe('png');

    for (const [url, side] of [[image.thumbnail_url, 256], [image.preview_url, 768]] as const) {
      const thumb = await server.app.inject({ method: 'GET', url, headers: studio(user.cookie) });
      const m = await sharp(thumb.rawPayload).metadata();
      expect(m.format).toBe('webp');
      expect(Math.max(m.width!, m.height!)).toBe(side);
    }

    // At rest, the files are ciphertext: neither the JPEG nor its thumbnails are readable on disk, and no
    // run of their bytes appears there (32-byte slices: a chance match in random bytes is impossible).
    const dir = path.join(server.dataDir, 'files', 'images', queued.id, image.id);
    const plaintexts: Record<string, Buffer> = { original: original.rawPayload };
    for (const variant of ['thumbnail', 'preview'] as const) {
      plaintexts[variant] = (await server.app.inject({ method: 'GET', url: `${image.url}/${variant}`, headers: studio(user.cookie) })).rawPayload;
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['original', 'preview', 'thumbnail']);
    for (const [name, plain] of Object.entries(plaintexts)) {
      const raw = fs.readFileSync(path.join(dir, name));
      expect(raw.subarray(0, 4).toString()).toBe('ATL1');
      for (const at of [0, Math.floor(plain.length / 2), plain.length - 32]) expect(raw.includes(plain.subarray(at, at + 32))).toBe(false);
      await expect(sharp(raw).metadata()).rejects.toThrow();
    }
  });

  it('is deterministic: the same seed and prompt give the same bytes', async () => {
    const body = { model: 'offline', prompt: 'same "seed" same bytes', width: 512, height: 512, seed: 99, output_format: 'png' };
    const a = await waitFor((await create(body)).json<Generation>().id, 'succeeded');
    const b = await waitFor((await create(body)).json<Generation>().id, 'succeeded');
    const bytes = async (g: Generation) => (await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) })).rawPayload;
    expect((await bytes(a)).equals(await bytes(b))).toBe(true);
  });

  it('records the seed the engine chose, and that seed reproduces the image', async () => {
    const first = await waitFor((await create({ model: 'offline', prompt: 'no seed given', width: 256, height: 256 })).json<Generation>().id, 'succeeded');
    expect(first.seed).toEqual(expect.any(Number));
    const again = await waitFor((await create({ model: 'offline', prompt: 'no seed given', width: 256, height: 256, seed: first.seed! })).json<Generation>().id, 'succeeded');
    const bytes = async (g: Generation) => (await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) })).rawPayload;
    expect((await bytes(first)).equals(await bytes(again))).toBe(true);
  });

  it("answers 404 for another user's generation and images, and lists only your own", async () => {
    const mine = await waitFor((await create({ model: 'offline', prompt: 'private', width: 256, height: 256 })).json<Generation>().id, 'succeeded');
    const other = await signUp(server.app);
    expect((await get(mine.id, other.cookie)).statusCode).toBe(404);
    for (const url of [mine.images[0]!.url, mine.images[0]!.thumbnail_url, `${mine.images[0]!.url}?format=webp`]) {
      const r = await server.app.inject({ method: 'GET', url, headers: studio(other.cookie) });
      expect(r.statusCode).toBe(404);
    }
    const del = await server.app.inject({ method: 'DELETE', url: `/api/generations/${mine.id}`, headers: studio(other.cookie) });
    expect(del.statusCode).toBe(404);
    const cancel = await server.app.inject({ method: 'POST', url: `/api/generations/${mine.id}/cancel`, headers: studio(other.cookie, { 'content-type': 'application/json' }), payload: '{}' });
    expect(cancel.statusCode).toBe(404);
    const list = (await server.app.inject({ method: 'GET', url: '/api/generations', headers: studio(other.cookie) })).json<GenerationPage>();
    expect(list.data).toEqual([]);
    expect((await get(mine.id)).statusCode).toBe(200);
  });
});

describe('idempotency', () => {
  it('returns the same generation for the same key and body, and 409 for another body', async () => {
    const body = { model: 'offline', prompt: 'idempotent', width: 256, height: 256 };
    const first = await create(body, { 'idempotency-key': 'key-1' });
    const again = await create(body, { 'idempotency-key': 'key-1' });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(again.json<Generation>().id).toBe(first.json<Generation>().id);
    const before = await countRows();
    const conflict = await create({ ...body, prompt: 'something else' }, { 'idempotency-key': 'key-1' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ error: { code: 'idempotency_conflict' } });
    expect(await countRows()).toBe(before);
  });

  it('creates exactly one generation when the same key races', async () => {
    const body = { model: 'offline', prompt: 'race', width: 256, height: 256 };
    const results = await Promise.all(Array.from({ length: 8 }, () => create(body, { 'idempotency-key': 'race-key' })));
    const ids = new Set(results.map((r) => r.json<Generation>().id));
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 202)).toBe(true);
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.statusCode === 202)).toHaveLength(1);
  });

  it('keys are per user', async () => {
    const other = await signUp(server.app);
    const body = { model: 'offline', prompt: 'per user', width: 256, height: 256 };
    const a = await create(body, { 'idempotency-key': 'shared' });
    const b = await create(body, { 'idempotency-key': 'shared' }, other.cookie);
    expect(b.statusCode).toBe(202);
    expect(b.json<Generation>().id).not.toBe(a.json<Generation>().id);
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, unknown, string][] = [
    ['empty prompt', { model: 'offline', prompt: '   ' }, 'prompt'],
    ['prompt over 32 000 characters', { model: 'offline', prompt: 'x'.repeat(32_001) }, 'prompt'],
    ['unknown model', { model: 'flux-9000', prompt: 'hi' }, 'model'],
    ['width not a multiple of 16', { model: 'offline', prompt: 'hi', width: 1000, height: 1008 }, 'width'],
    ['size over 4 MP', { model: 'offline', prompt: 'hi', width: 2048, height: 2064 }, 'height'],
    ['too small', { model: 'offline', prompt: 'hi', width: 32, height: 512 }, 'width'],
    ['only width', { model: 'offline', prompt: 'hi', width: 512 }, 'height'],
    ['unknown format', { model: 'offline', prompt: 'hi', output_format: 'gif' }, 'output_format'],
    ['unknown aspect ratio', { model: 'offline', prompt: 'hi', aspect_ratio: '5:4' }, 'aspect_ratio'],
    ['unknown field', { model: 'offline', prompt: 'hi', steps: 50 }, ''],
    ['seed out of range', { model: 'offline', prompt: 'hi', seed: -1 }, 'seed'],
  ];
  it.each(cases)('%s → 400 with the field named', async (_name, body, field) => {
    const before = await countRows();
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    const err = res.json<{ error: { code: string; message: string; fields: { path: string; message: string }[] } }>().error;
    expect(err.code).toBe('validation_failed');
    expect(err.message.length).toBeGreaterThan(10);
    if (field) expect(err.fields.map((f) => f.path)).toContain(field);
    expect(await countRows()).toBe(before);
  });

  it('malformed JSON → 400 invalid_json; wrong content type → 415', async () => {
    const before = await countRows();
    const bad = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: '{"model": "offline", "prompt": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const text = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'text/plain' }), payload: 'make me a cat' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    expect(await countRows()).toBe(before);
  });

  it('a malformed id or cursor is a 400, not a 500', async () => {
    expect((await get('not-a-uuid')).statusCode).toBe(400);
    const r = await server.app.inject({ method: 'GET', url: '/api/generations?cursor=zzz', headers: studio(user.cookie) });
    expect(r.statusCode).toBe(400);
  });
});

describe('history, cancel and delete', () => {
  it('pages newest first with a keyset cursor', async () => {
    const fresh = await signUp(server.app);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ model: 'offline', prompt: `item ${i}`, width: 128, height: 128 }, {}, fresh.cookie)).json<Generation>().id);
    const page = async (cursor?: string) =>
      (await server.app.inject({ method: 'GET', url: `/api/generations?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: studio(fresh.cookie) })).json<GenerationPage>();
    const p1 = await page();
    const p2 = await page(p1.next_cursor!);
    const p3 = await page(p2.next_cursor!);
    expect([...p1.data, ...p2.data, ...p3.data].map((g) => g.id)).toEqual([...ids].reverse());
    expect(p3.next_cursor).toBeNull();
  });

  it('cancels a queued generation and refuses to cancel a finished one', async () => {
    // A server without workers keeps the generation queued.
    const idle = await startTestServer({ work: false });
    try {
      const u = await signUp(idle.app);
      const g = (await idle.app.inject({ method: 'POST', url: '/api/generations', headers: studio(u.cookie, { 'content-type': 'application/json' }), payload: { model: 'offline', prompt: 'cancel me' } })).json<Generation>();
      const cancel = () => idle.app.inject({ method: 'POST', url: `/api/generations/${g.id}/cancel`, headers: studio(u.cookie, { 'content-type': 'application/json' }), payload: '{}' });
      const first = await cancel();
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
      const second = await cancel();
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ error: { code: 'invalid_state' } });
    } finally {
      await idle.close();
    }
  });

  it('deletes a generation, its images and their files', async () => {
    const g = await waitFor((await create({ model: 'offline', prompt: 'delete me', width: 256, height: 256 })).json<Generation>().id, 'succeeded');
    const dir = path.join(server.dataDir, 'files', 'images', g.id);
    expect(fs.existsSync(dir)).toBe(true);
    const del = await server.app.inject({ method: 'DELETE', url: `/api/generations/${g.id}`, headers: studio(user.cookie) });
    expect(del.statusCode).toBe(204);
    expect((await get(g.id)).statusCode).toBe(404);
    expect((await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) })).statusCode).toBe(404);
    await eventually(async () => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length === 0);
  });
});
