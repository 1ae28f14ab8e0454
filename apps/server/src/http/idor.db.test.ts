import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, CreateGenerationResponse, Generation, Upload } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Object-level authorisation sweep (reliability.md T-SEC-10): user B calls every registered route that
 * takes an id with each of user A's ids — a generation, an image, an upload, a collection, a kit — and
 * with plausible bodies. Nothing answers 2xx, nothing of A's leaks into a body, and A's data is
 * unchanged afterwards. New routes are swept automatically.
 */
let server: TestServer;
let a: { cookie: string; userId: string };
let b: { cookie: string; userId: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  a = await signUp(server.app);
  b = await signUp(server.app);
  const json = studio(a.cookie, { 'content-type': 'application/json' });
  const created = (await server.app.inject({ method: 'POST', url: '/api/generations', headers: json, payload: { model: 'offline', prompt: 'secret of A', width: 256, height: 256 } })).json<CreateGenerationResponse>();
  const done = await eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${created.id}`, headers: studio(a.cookie) })).json<Generation>();
    return g.status === 'succeeded' ? g : undefined;
  });
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer();
  const boundary = 'sweep';
  const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), png, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const upload = (await server.app.inject({ method: 'POST', url: '/api/uploads', headers: studio(a.cookie, { 'content-type': `multipart/form-data; boundary=${boundary}` }), payload: body })).json<Upload>();
  const collection = (await server.app.inject({ method: 'POST', url: '/api/collections', headers: json, payload: { name: 'A board' } })).json<Collection>();
  ids.generation = done.id;
  ids.image = done.images[0]!.id;
  ids.upload = upload.id;
  ids.collection = collection.id;
  const kit = await server.app.inject({ method: 'POST', url: '/api/kits', headers: json, payload: { name: 'A kit', references: [upload.id] } });
  expect(kit.statusCode, kit.body).toBe(201);
  ids.kit = kit.json<{ id: string }>().id;
  for (const id of Object.values(ids)) expect(id).toMatch(/^[0-9a-f-]{36}$/);
}, 60_000);
afterAll(() => server?.close());

const BODIES = [{}, { favorite: true }, { name: 'hijacked' }, { references: [] as string[] }];

describe('IDOR sweep', () => {
  it("B gets no 2xx and none of A's data from any route given A's ids", async () => {
    const routes = server.app.declaredRoutes.filter((r) => r.auth !== 'public' && r.url.includes(':id') && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(10);
    let calls = 0;
    for (const route of routes) {
      if (!route.url.startsWith('/api/')) continue; // /v1 shares the services; swept through /api with B's session
      for (const id of Object.values(ids)) {
        for (const payload of route.method === 'GET' || route.method === 'DELETE' ? [undefined] : BODIES) {
          const res = await server.app.inject({
            method: route.method as 'GET',
            url: route.url.replace(':id', id),
            headers: studio(b.cookie, payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...(payload === undefined ? {} : { payload }),
          });
          calls++;
          const where = `${route.method} ${route.url} with A's ${Object.entries(ids).find(([, v]) => v === id)![0]} ${JSON.stringify(payload ?? '')}`;
          expect(res.statusCode, where).toBeGreaterThanOrEqual(400);
          expect(res.body, where).not.toContain('secret of A');
          expect(res.body, where).not.toContain('A board');
        }
      }
    }
    expect(calls).toBeGreaterThan(50);
  });

  it("B cannot reach A's objects through bodies and queries either", async () => {
    const json = studio(b.cookie, { 'content-type': 'application/json' });
    const post = (url: string, payload: Record<string, unknown>) => server.app.inject({ method: 'POST', url, headers: json, payload });
    expect((await post('/api/generations', { model: 'offline', prompt: 'x', references: [ids.image] })).statusCode).toBe(400);
    expect((await post('/api/generations', { model: 'offline', prompt: 'x', references: [ids.upload] })).statusCode).toBe(400);
    expect((await post('/api/generations', { model: 'offline', prompt: 'x', parent: ids.generation })).statusCode).toBe(400);
    expect((await post('/api/generations/bulk', { action: 'delete', ids: [ids.generation] })).json()).toEqual({ affected: 0 });
    expect((await post('/api/generations/bulk', { action: 'favorite', ids: [ids.generation] })).json()).toEqual({ affected: 0 });
    expect((await post('/api/generations/bulk', { action: 'add_to_collection', ids: [ids.generation], collection_id: ids.collection })).statusCode).toBe(404);
    const theirs = (await post('/api/collections', { name: 'B board' })).json<Collection>();
    expect((await post('/api/generations/bulk', { action: 'add_to_collection', ids: [ids.generation], collection_id: theirs.id })).json()).toEqual({ affected: 0 });
    expect((await server.app.inject({ method: 'GET', url: `/api/generations?collection=${ids.collection}`, headers: studio(b.cookie) })).statusCode).toBe(404);
    const zip = await server.app.inject({ method: 'GET', url: `/api/generations/download?ids=${ids.generation}`, headers: studio(b.cookie) });
    expect(zip.rawPayload.includes(Buffer.from('secret of A'))).toBe(false);
    expect((await post('/api/kits', { name: 'B kit', references: [ids.upload] })).statusCode).toBe(400);
    const list = (await server.app.inject({ method: 'GET', url: '/api/generations?q=secret', headers: studio(b.cookie) })).json<{ data: unknown[] }>();
    expect(list.data).toEqual([]);
  });

  it("A's data is unchanged after the sweep", async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${ids.generation}`, headers: studio(a.cookie) })).json<Generation>();
    expect(g).toMatchObject({ status: 'succeeded', favorite: false, collection_ids: [], prompt: 'secret of A' });
    expect((await server.app.inject({ method: 'GET', url: `/api/images/${ids.image}`, headers: studio(a.cookie) })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: `/api/uploads/${ids.upload}/thumbnail`, headers: studio(a.cookie) })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: `/api/collections/${ids.collection}`, headers: studio(a.cookie) })).json<Collection>().name).toBe('A board');
    expect((await server.app.inject({ method: 'GET', url: `/api/kits/${ids.kit}`, headers: studio(a.cookie) })).json<{ name: string }>().name).toBe('A kit');
  });
});
