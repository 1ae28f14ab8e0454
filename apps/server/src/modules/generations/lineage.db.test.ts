import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation, GenerationVersions } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Reference images and refinement: a generation made from earlier outputs carries them in order to the
 * engine (the offline engine composites them), records its parent, and the version graph links it all.
 */
let server: TestServer;
let user: { cookie: string; userId: string };

beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server.app);
});
afterAll(() => server?.close());

const create = (body: Record<string, unknown>, cookie = user.cookie) =>
  server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(cookie, { 'content-type': 'application/json' }), payload: body });
const done = async (body: Record<string, unknown>) => {
  const res = await create(body);
  expect(res.statusCode).toBe(202);
  const id = res.json<Generation>().id;
  return eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
    return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
  });
};
const pixels = async (g: Generation) => {
  const res = await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) });
  return sharp(res.rawPayload).removeAlpha().resize(64, 64, { fit: 'fill' }).raw().toBuffer();
};

describe('references and refinement', () => {
  it('uses earlier outputs as references, in order, and records them', async () => {
    const red = await done({ model: 'offline', prompt: 'solid #DD2222', width: 512, height: 512, seed: 1 });
    const blue = await done({ model: 'offline', prompt: 'solid #2244DD', width: 512, height: 512, seed: 2 });
    const edit = await done({ model: 'offline', prompt: 'combine image 1 and image 2', width: 768, height: 512, seed: 3, references: [red.images[0]!.id, blue.images[0]!.id] });
    expect(edit.status).toBe('succeeded');
    expect(edit.references).toEqual([
      { id: red.images[0]!.id, kind: 'image', thumbnail_url: `/api/images/${red.images[0]!.id}/thumbnail` },
      { id: blue.images[0]!.id, kind: 'image', thumbnail_url: `/api/images/${blue.images[0]!.id}/thumbnail` },
    ]);
    // The same request without the references renders differently: the references reached the engine.
    const plain = await done({ model: 'offline', prompt: 'combine image 1 and image 2', width: 768, height: 512, seed: 3 });
    expect((await pixels(edit)).equals(await pixels(plain))).toBe(false);
  });

  it('refuses references that are not yours, too many, or twice the same — and writes nothing', async () => {
    const mine = await done({ model: 'offline', prompt: 'mine', width: 256, height: 256 });
    const other = await signUp(server.app);
    const before = (await server.container.database.db.selectFrom('generations').select('id').execute()).length;
    const foreign = await create({ model: 'offline', prompt: 'x', references: [mine.images[0]!.id] }, other.cookie);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({ error: { code: 'validation_failed', fields: [{ path: 'references.0' }] } });
    const unknown = await create({ model: 'offline', prompt: 'x', references: ['01a20127-2b33-755e-a36b-44e9ba860e1f'] });
    expect(unknown.json()).toMatchObject({ error: { fields: [{ path: 'references.0', message: expect.stringContaining('not one of your uploads or images') }] } });
    const twice = await create({ model: 'offline', prompt: 'x', references: [mine.images[0]!.id, mine.images[0]!.id] });
    expect(twice.statusCode).toBe(400);
    const tooMany = await create({ model: 'offline', prompt: 'x', references: Array.from({ length: 11 }, () => crypto.randomUUID()) });
    expect(tooMany.statusCode).toBe(400);
    const badParent = await create({ model: 'offline', prompt: 'x', parent: mine.id }, other.cookie);
    expect(badParent.json()).toMatchObject({ error: { fields: [{ path: 'parent' }] } });
    expect((await server.container.database.db.selectFrom('generations').select('id').execute()).length).toBe(before);
  });

  it('refines twice and returns the version graph from any version', async () => {
    const root = await done({ model: 'offline', prompt: 'a poster "v1"', width: 512, height: 512 });
    const v2 = await done({ model: 'offline', prompt: 'a poster "v2"', width: 512, height: 512, parent: root.id, references: [root.images[0]!.id] });
    const v3 = await done({ model: 'offline', prompt: 'a poster "v3"', width: 512, height: 512, parent: v2.id, references: [v2.images[0]!.id] });
    const fork = await done({ model: 'offline', prompt: 'a poster "v2b"', width: 512, height: 512, parent: root.id });
    expect(v3.parent_id).toBe(v2.id);
    for (const id of [root.id, v3.id, fork.id]) {
      const graph = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}/versions`, headers: studio(user.cookie) })).json<GenerationVersions>();
      expect(graph.data.map((g) => g.id).sort()).toEqual([root.id, v2.id, v3.id, fork.id].sort());
      expect(graph.edges).toEqual(expect.arrayContaining([{ parent: root.id, child: v2.id }, { parent: v2.id, child: v3.id }, { parent: root.id, child: fork.id }]));
    }
    const stranger = await signUp(server.app);
    expect((await server.app.inject({ method: 'GET', url: `/api/generations/${v2.id}/versions`, headers: studio(stranger.cookie) })).statusCode).toBe(404);
  });

  it('fails a queued generation clearly when one of its references is deleted before it runs', async () => {
    // A server without workers, so the test decides when the job runs.
    const idle = await startTestServer({ work: false });
    try {
      const u = await signUp(idle.app);
      const db = idle.container.database.db;
      // A finished source generation with an image, made by a factory.
      const sourceId = crypto.randomUUID();
      const imageId = crypto.randomUUID();
      await db.insertInto('generations').values({ id: sourceId, user_id: u.userId, status: 'succeeded', model_id: 'offline', engine: 'offline', engine_model: 'offline', prompt: 'src', width: 256, height: 256, aspect_ratio: null, seed: 1, output_format: 'png', idempotency_key: null, request_hash: 'x' }).execute();
      await db.insertInto('images').values({ id: imageId, generation_id: sourceId, user_id: u.userId, width: 256, height: 256, format: 'png', bytes: 1, original_key: 'images/x/o', thumbnail_key: 'images/x/t', preview_key: 'images/x/p' }).execute();
      const edit = await idle.app.inject({ method: 'POST', url: '/api/generations', headers: studio(u.cookie, { 'content-type': 'application/json' }), payload: { model: 'offline', prompt: 'edit', references: [imageId] } });
      expect(edit.statusCode).toBe(202);
      await db.deleteFrom('images').where('id', '=', imageId).execute();
      await idle.container.runner.run(edit.json<Generation>().id);
      const g = (await idle.app.inject({ method: 'GET', url: `/api/generations/${edit.json<Generation>().id}`, headers: studio(u.cookie) })).json<Generation>();
      expect(g).toMatchObject({ status: 'failed', error: { code: 'engine_rejected_request' }, references: [] });
      const detail = await db.selectFrom('generations').select('error_detail').where('id', '=', g.id).executeTakeFirstOrThrow();
      expect(detail.error_detail).toBe('reference image 1 was deleted before the generation ran');
    } finally {
      await idle.close();
    }
  });

});
