import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipManifestSchema, type Collection, type CreateGenerationResponse, type Generation, type GenerationPage } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { readZip } from '#test/support/zip.ts';

/** Collections, favourites, bulk actions, variations and ZIP downloads, through the HTTP API on real generations. */
let server: TestServer;
let user: { cookie: string; userId: string };

beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server.app);
});
afterAll(() => server?.close());

const json = (cookie = user.cookie) => studio(cookie, { 'content-type': 'application/json' });
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, cookie = user.cookie) =>
  server.app.inject({ method, url, headers: payload === undefined ? studio(cookie) : json(cookie), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
const settled = (id: string, cookie = user.cookie) =>
  eventually(async () => {
    const g = (await api('GET', `/api/generations/${id}`, undefined, cookie)).json<Generation>();
    return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
  });
const generate = async (body: Record<string, unknown>, cookie = user.cookie) => {
  const res = await api('POST', '/api/generations', { model: 'offline', width: 256, height: 256, ...body }, cookie);
  expect(res.statusCode, res.body).toBe(202);
  const created = res.json<CreateGenerationResponse>();
  return Promise.all(created.batch.map((id) => settled(id, cookie)));
};
const collection = async (name: string, cookie = user.cookie) => {
  const res = await api('POST', '/api/collections', { name }, cookie);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Collection>();
};
const list = async (query: string) => (await api('GET', `/api/generations?${query}`)).json<GenerationPage>().data.map((g) => g.id);

describe('variations', () => {
  it('makes N generations with consecutive seeds in one request, and replays them as one', async () => {
    const res = await api('POST', '/api/generations', { model: 'offline', prompt: 'four tiles', width: 256, height: 256, seed: 4_294_967_294, count: 3 });
    expect(res.statusCode).toBe(202);
    const created = res.json<CreateGenerationResponse>();
    expect(created.batch).toHaveLength(3);
    expect(created.batch[0]).toBe(created.id);
    const done = await Promise.all(created.batch.map((id) => settled(id)));
    expect(done.map((g) => g.seed)).toEqual([4_294_967_294, 4_294_967_295, 0]); // wraps within the seed range
    expect(new Set(done.map((g) => g.batch_id)).size).toBe(1);
    expect(done.every((g) => g.status === 'succeeded' && g.workflow === 'text-to-image')).toBe(true);

    const key = { 'idempotency-key': `batch-${crypto.randomUUID()}` };
    const body = { model: 'offline', prompt: 'twice', width: 256, height: 256, count: 2 };
    const first = await server.app.inject({ method: 'POST', url: '/api/generations', headers: { ...json(), ...key }, payload: body });
    const again = await server.app.inject({ method: 'POST', url: '/api/generations', headers: { ...json(), ...key }, payload: body });
    expect(again.statusCode).toBe(200);
    expect(again.json<CreateGenerationResponse>().batch).toEqual(first.json<CreateGenerationResponse>().batch);
    // Without a seed the variations still differ, and their seeds are recorded for re-runs.
    const seeds = (await Promise.all(first.json<CreateGenerationResponse>().batch.map((id) => settled(id)))).map((g) => g.seed);
    expect(seeds[1]).toBe((seeds[0]! + 1) % 4_294_967_296);

    for (const count of [0, 5, 1.5]) expect((await api('POST', '/api/generations', { model: 'offline', prompt: 'x', count })).statusCode).toBe(400);
  });

  it('quotes the price of a request without creating anything', async () => {
    const before = (await list('limit=100')).length;
    const res = await api('POST', '/api/generations/quote', { model: 'offline', prompt: 'x', width: 2048, height: 2048, count: 4 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ credits: 16, per_image: 4, count: 4, output_megapixels: 4 }); // 1 credit per started MP on the offline model
    expect((await list('limit=100')).length).toBe(before);
    expect((await api('POST', '/api/generations/quote', { model: 'nope', prompt: 'x' })).statusCode).toBe(400);
  });
});

describe('favourites, collections and bulk actions', () => {
  it('favourites one generation and filters by it', async () => {
    const [g] = await generate({ prompt: 'a favourite teapot' });
    const res = await api('PATCH', `/api/generations/${g!.id}`, { favorite: true });
    expect(res.json<Generation>().favorite).toBe(true);
    expect(await list('favorite=true')).toContain(g!.id);
    expect((await api('PATCH', `/api/generations/${g!.id}`, {})).statusCode).toBe(400);
    const other = await signUp(server.app);
    expect((await api('PATCH', `/api/generations/${g!.id}`, { favorite: false }, other.cookie)).statusCode).toBe(404);
    expect((await api('GET', `/api/generations/${g!.id}`)).json<Generation>().favorite).toBe(true);
  });

  it('creates, renames and deletes collections; names are unique per user, case-insensitively', async () => {
    const c = await collection('Brand kit');
    expect(c).toMatchObject({ name: 'Brand kit', count: 0, cover_thumbnail_url: null });
    const dup = await api('POST', '/api/collections', { name: 'BRAND KIT' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('already have a collection named') } });
    expect((await api('POST', '/api/collections', { name: '   ' })).statusCode).toBe(400);
    expect((await api('PATCH', `/api/collections/${c.id}`, { name: 'Brand' })).json<Collection>().name).toBe('Brand');
    const other = await signUp(server.app);
    await collection('Brand kit', other.cookie); // another user's names are theirs
    expect((await api('GET', `/api/collections/${c.id}`, undefined, other.cookie)).statusCode).toBe(404);
    expect((await api('DELETE', `/api/collections/${c.id}`, undefined, other.cookie)).statusCode).toBe(404);
    expect((await api('DELETE', `/api/collections/${c.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/collections/${c.id}`)).statusCode).toBe(404);
  });

  it('adds, moves and removes in bulk; ignores ids that are not yours; deleting a collection keeps its generations', async () => {
    const gens = await generate({ prompt: 'bulk item', count: 4 });
    const ids = gens.map((g) => g.id);
    const a = await collection('Board A');
    const b = await collection('Board B');
    const stranger = await signUp(server.app);
    const [theirs] = await generate({ prompt: 'not yours' }, stranger.cookie);

    const add = await api('POST', '/api/generations/bulk', { action: 'add_to_collection', ids: [...ids, theirs!.id], collection_id: a.id });
    expect(add.json()).toEqual({ affected: 4 });
    expect((await api('POST', '/api/generations/bulk', { action: 'add_to_collection', ids, collection_id: a.id })).json()).toEqual({ affected: 0 }); // already there
    const listed = (await api('GET', '/api/collections')).json<{ data: Collection[] }>().data.find((c) => c.id === a.id)!;
    expect(listed.count).toBe(4);
    expect(listed.cover_thumbnail_url).toMatch(/^\/api\/images\/.+\/thumbnail$/);
    expect((await api('GET', `/api/generations/${ids[0]}`)).json<Generation>().collection_ids).toEqual([a.id]);

    const move = await api('POST', '/api/generations/bulk', { action: 'move_to_collection', ids: ids.slice(0, 2), collection_id: b.id, from_collection_id: a.id });
    expect(move.json()).toEqual({ affected: 2 });
    expect((await list(`collection=${a.id}`)).sort()).toEqual(ids.slice(2).sort());
    expect((await list(`collection=${b.id}`)).sort()).toEqual(ids.slice(0, 2).sort());

    expect((await api('POST', '/api/generations/bulk', { action: 'remove_from_collection', ids: [ids[2]], collection_id: a.id })).json()).toEqual({ affected: 1 });
    expect((await api('POST', '/api/generations/bulk', { action: 'favorite', ids })).json()).toEqual({ affected: 4 });

    // A collection of someone else is refused and nothing changes.
    const theirBoard = await collection('Theirs', stranger.cookie);
    const foreign = await api('POST', '/api/generations/bulk', { action: 'add_to_collection', ids, collection_id: theirBoard.id });
    expect(foreign.statusCode).toBe(404);
    expect((await api('GET', `/api/collections/${theirBoard.id}`, undefined, stranger.cookie)).json<Collection>().count).toBe(0);
    // Malformed bulk requests.
    for (const body of [{ action: 'paint', ids }, { action: 'delete', ids: [] }, { action: 'add_to_collection', ids }, { action: 'delete', ids: Array.from({ length: 501 }, () => crypto.randomUUID()) }]) {
      expect((await api('POST', '/api/generations/bulk', body)).statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
    }

    expect((await api('DELETE', `/api/collections/${b.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/generations/${ids[0]}`)).statusCode).toBe(200);

    // Bulk delete: mine go (with their collection links), the stranger's stays.
    const del = await api('POST', '/api/generations/bulk', { action: 'delete', ids: [...ids, theirs!.id] });
    expect(del.json()).toEqual({ affected: 4 });
    for (const id of ids) expect((await api('GET', `/api/generations/${id}`)).statusCode).toBe(404);
    expect((await api('GET', `/api/generations/${theirs!.id}`, undefined, stranger.cookie)).statusCode).toBe(200);
    expect((await api('GET', `/api/collections/${a.id}`)).json<Collection>().count).toBe(0);
  });
});

describe('downloads', () => {
  it('downloads a collection as a ZIP whose manifest describes every image', async () => {
    const gens = [...(await generate({ prompt: 'Ünïcode "poster" / slash', seed: 11 })), ...(await generate({ prompt: 'second image', seed: 12, width: 320, height: 192 }))];
    const board = await collection('Café posters ☕');
    await api('POST', '/api/generations/bulk', { action: 'add_to_collection', ids: gens.map((g) => g.id), collection_id: board.id });

    const res = await api('GET', `/api/collections/${board.id}/download`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toContain("filename*=UTF-8''Caf%C3%A9%20posters%20%E2%98%95.zip");
    const entries = await readZip(res.rawPayload);
    const manifest = zipManifestSchema.parse(JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')));
    expect(manifest.collection).toEqual({ id: board.id, name: 'Café posters ☕' });
    expect(manifest.images.map((i) => i.generation_id)).toEqual([gens[1]!.id, gens[0]!.id]); // newest first
    expect(entries.map((e) => e.name)).toEqual([...manifest.images.map((i) => i.file), 'manifest.json']);
    expect(manifest.images[1]!.file).toMatch(/^002-unicode-poster-slash-[0-9a-f]{8}\.png$/);
    for (const [i, entry] of manifest.images.entries()) {
      const meta = await sharp(entries[i]!.data).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: entry.width, height: entry.height });
      expect(entry).toMatchObject({ seed: i === 0 ? 12 : 11, model: 'offline' });
    }
    // The bytes are the stored images', decrypted.
    const single = await api('GET', gens[0]!.images[0]!.url);
    expect(entries[1]!.data.equals(single.rawPayload)).toBe(true);

    const webp = await readZip((await api('GET', `/api/collections/${board.id}/download?format=webp`)).rawPayload);
    expect((await sharp(webp[0]!.data).metadata()).format).toBe('webp');
    expect(webp[0]!.name).toMatch(/\.webp$/);
  });

  it('downloads chosen generations as a ZIP; never another user’s', async () => {
    const mine = await generate({ prompt: 'chosen', count: 2 });
    const stranger = await signUp(server.app);
    const [theirs] = await generate({ prompt: 'secret' }, stranger.cookie);
    const res = await api('GET', `/api/generations/download?ids=${[...mine.map((g) => g.id), theirs!.id].join(',')}`);
    expect(res.statusCode).toBe(200);
    const entries = await readZip(res.rawPayload);
    const manifest = zipManifestSchema.parse(JSON.parse(entries.at(-1)!.data.toString('utf8')));
    expect(manifest.images.map((i) => i.generation_id).sort()).toEqual(mine.map((g) => g.id).sort());
    expect(JSON.stringify(manifest)).not.toContain('secret');
    expect((await api('GET', '/api/generations/download?ids=')).statusCode).toBe(400);
    expect((await api('GET', '/api/generations/download?ids=abc')).statusCode).toBe(400);
  });

  it('converts and downsizes a single image on download', async () => {
    const [g] = await generate({ prompt: 'resize me', width: 512, height: 256 });
    const res = await api('GET', `${g!.images[0]!.url}?format=jpeg&width=128&download=1`);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="atelier-.+-128w\.jpg"$/);
    const meta = await sharp(res.rawPayload).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'jpeg', width: 128, height: 64 });
    // Never enlarged.
    const big = await sharp((await api('GET', `${g!.images[0]!.url}?width=4096`)).rawPayload).metadata();
    expect(big.width).toBe(512);
    expect((await api('GET', `${g!.images[0]!.url}?width=8`)).statusCode).toBe(400);
  });
});
