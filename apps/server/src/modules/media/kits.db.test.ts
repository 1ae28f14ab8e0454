import crypto from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kitListSchema, kitSchema, type Generation, type Kit, type Upload } from '@atelier/contracts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { createKitRepository } from './kits.repository.ts';
import { createKitService } from './kits.service.ts';

/**
 * Named reference kits through the real app: a user's uploads and generated images saved under a name,
 * in order; renamed, reordered, deleted; nobody else's to see or to borrow from.
 */
let server: TestServer;
type User = { cookie: string; userId: string };
let ada: User;
let bob: User;

beforeAll(async () => {
  server = await startTestServer();
  [ada, bob] = await Promise.all([signUp(server.app), signUp(server.app)]);
});
afterAll(() => server?.close());

const json = (cookie: string) => studio(cookie, { 'content-type': 'application/json' });
const get = (user: User, url: string) => server.app.inject({ method: 'GET', url, headers: studio(user.cookie) });
const post = (user: User, url: string, payload: unknown) => server.app.inject({ method: 'POST', url, headers: json(user.cookie), payload: JSON.stringify(payload) });
const patch = (user: User, url: string, payload: unknown) => server.app.inject({ method: 'PATCH', url, headers: json(user.cookie), payload: JSON.stringify(payload) });
const del = (user: User, url: string) => server.app.inject({ method: 'DELETE', url, headers: studio(user.cookie) });

async function upload(user: User, width: number, height: number): Promise<Upload> {
  const png = await sharp({ create: { width, height, channels: 3, background: '#3366aa' } }).png().toBuffer();
  const boundary = `----kit${crypto.randomBytes(6).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="ref.png"\r\ncontent-type: image/png\r\n\r\n`),
    png,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await server.app.inject({ method: 'POST', url: '/api/uploads', headers: studio(user.cookie, { 'content-type': `multipart/form-data; boundary=${boundary}` }), payload });
  expect(res.statusCode).toBe(201);
  return res.json<Upload>();
}

async function generated(user: User): Promise<Generation> {
  const res = await post(user, '/api/generations', { model: 'offline', prompt: 'a kit image', width: 320, height: 256 });
  expect(res.statusCode).toBe(202);
  const id = res.json<Generation>().id;
  return eventually(async () => {
    const g = (await get(user, `/api/generations/${id}`)).json<Generation>();
    return g.status === 'succeeded' ? g : undefined;
  });
}

const createKit = async (user: User, name: string, references: string[]) => {
  const res = await post(user, '/api/kits', { name, references });
  expect(res.statusCode, res.body).toBe(201);
  return kitSchema.parse(res.json());
};
const listKits = async (user: User) => kitListSchema.parse((await get(user, '/api/kits')).json()).data;
const refIds = (kit: Kit) => kit.references.map((r) => r.id);

/** Everything stored about a user's kits, to prove a refused request changed nothing. */
async function snapshot(userId: string) {
  const db = server.container.database.db;
  const kits = await db.selectFrom('reference_kits').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  const items = kits.length
    ? await db.selectFrom('reference_kit_items').selectAll().where('kit_id', 'in', kits.map((k) => k.id)).orderBy('kit_id').orderBy('position').execute()
    : [];
  return { kits, items };
}

describe('reference kits', () => {
  let u1: Upload;
  let u2: Upload;
  let image: Generation['images'][number];

  beforeAll(async () => {
    [u1, u2] = [await upload(ada, 300, 200), await upload(ada, 200, 300)];
    image = (await generated(ada)).images[0]!;
  });

  it('saves uploads and generated images as a kit, in order, and lists it with thumbnails and sizes', async () => {
    const kit = await createKit(ada, '  Mara, the heroine  ', [u2.id, image.id, u1.id]);
    expect(kit.name).toBe('Mara, the heroine'); // trimmed
    expect(kit.references).toEqual([
      { id: u2.id, kind: 'upload', width: 200, height: 300, thumbnail_url: `/api/uploads/${u2.id}/thumbnail` },
      { id: image.id, kind: 'image', width: 320, height: 256, thumbnail_url: `/api/images/${image.id}/thumbnail` },
      { id: u1.id, kind: 'upload', width: 300, height: 200, thumbnail_url: `/api/uploads/${u1.id}/thumbnail` },
    ]);
    for (const ref of kit.references) expect((await get(ada, ref.thumbnail_url)).statusCode).toBe(200);

    expect((await get(ada, `/api/kits/${kit.id}`)).json()).toEqual(kit);
    expect((await listKits(ada)).find((k) => k.id === kit.id)).toEqual(kit);

    // The public API presents the same kit with its own links.
    const { key } = await server.container.apiKeys.create(ada.userId, { name: 'kits test', scopes: ['read'] });
    const v1 = await server.app.inject({ method: 'GET', url: `/v1/kits/${kit.id}`, headers: { authorization: `Bearer ${key}` } });
    expect(v1.statusCode).toBe(200);
    expect(v1.json<Kit>().references[0]!.thumbnail_url).toBe(`/v1/uploads/${u2.id}/thumbnail`);
  });

  it('lists kits by name, ignoring case', async () => {
    const user = await signUp(server.app);
    const ref = await upload(user, 64, 64);
    for (const name of ['brand', 'Apple', 'cactus']) await createKit(user, name, [ref.id]);
    expect((await listKits(user)).map((k) => k.name)).toEqual(['Apple', 'brand', 'cactus']);
  });

  it('renames a kit; a name already taken (in any case) is a 409 that changes nothing', async () => {
    const kit = await createKit(ada, 'Product shots', [u1.id]);
    await createKit(ada, 'Logo', [u2.id]);

    const renamed = await patch(ada, `/api/kits/${kit.id}`, { name: 'Product shots 2026' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json<Kit>()).toMatchObject({ id: kit.id, name: 'Product shots 2026', references: kit.references });
    expect(Date.parse(renamed.json<Kit>().updated_at)).toBeGreaterThanOrEqual(Date.parse(kit.updated_at));
    // Changing only the case of its own name is allowed.
    expect((await patch(ada, `/api/kits/${kit.id}`, { name: 'PRODUCT SHOTS 2026' })).json<Kit>().name).toBe('PRODUCT SHOTS 2026');

    const before = await snapshot(ada.userId);
    const clash = await patch(ada, `/api/kits/${kit.id}`, { name: 'logo' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already have a kit named “Logo”/), fields: [{ path: 'name', message: expect.any(String) }] });
    const duplicate = await post(ada, '/api/kits', { name: ' LOGO ', references: [u1.id] });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().error.code).toBe('conflict');
    expect(duplicate.json().error.message).toMatch(/already have a kit named “Logo”/);
    expect(await snapshot(ada.userId)).toEqual(before);
  });

  it('reorders, replaces and trims references', async () => {
    const kit = await createKit(ada, 'Reorder me', [u1.id, u2.id, image.id]);
    const reversed = (await patch(ada, `/api/kits/${kit.id}`, { references: [image.id, u2.id, u1.id] })).json<Kit>();
    expect(refIds(reversed)).toEqual([image.id, u2.id, u1.id]);
    expect(reversed.name).toBe('Reorder me');
    const fewer = (await patch(ada, `/api/kits/${kit.id}`, { references: [u2.id], name: 'Just one' })).json<Kit>();
    expect(fewer).toMatchObject({ name: 'Just one', references: [{ id: u2.id, kind: 'upload' }] });
    expect(refIds((await get(ada, `/api/kits/${kit.id}`)).json<Kit>())).toEqual([u2.id]);
  });

  it('deletes a kit and only the kit: its uploads and images stay', async () => {
    const kit = await createKit(ada, 'Short-lived', [u1.id, image.id]);
    expect((await del(ada, `/api/kits/${kit.id}`)).statusCode).toBe(204);
    expect((await get(ada, `/api/kits/${kit.id}`)).statusCode).toBe(404);
    expect((await del(ada, `/api/kits/${kit.id}`)).statusCode).toBe(404);
    expect((await listKits(ada)).map((k) => k.id)).not.toContain(kit.id);
    expect((await get(ada, u1.thumbnail_url)).statusCode).toBe(200);
    expect((await get(ada, image.thumbnail_url)).statusCode).toBe(200);
    expect(await server.container.database.db.selectFrom('reference_kit_items').select('kit_id').where('kit_id', '=', kit.id).execute()).toEqual([]);
  });

  it('refuses invalid requests with a message per field, and changes nothing', async () => {
    const kit = await createKit(ada, 'Stays as it is', [u1.id, u2.id]);
    const before = await snapshot(ada.userId);
    const cases: [body: unknown, path: string, message: RegExp][] = [
      [{ name: '', references: [u1.id] }, 'name', /give the kit a name/],
      [{ name: '    ', references: [u1.id] }, 'name', /give the kit a name/],
      [{ name: 'x'.repeat(81), references: [u1.id] }, 'name', /at most 80 characters/],
      [{ references: [u1.id] }, 'name', /.+/],
      [{ name: 'No refs', references: [] }, 'references', /at least one reference/],
      [{ name: 'Too many', references: Array.from({ length: 11 }, () => crypto.randomUUID()) }, 'references', /at most 10 references/],
      [{ name: 'Twice', references: [u1.id, u1.id] }, 'references', /listed twice/],
      [{ name: 'Not ids', references: ['nope'] }, 'references.0', /id of one of your uploads or images/],
      [{ name: 'Extra', references: [u1.id], colour: 'red' }, 'body', /Unrecognized key: "colour"/],
    ];
    for (const [body, path, message] of cases) {
      const res = await post(ada, '/api/kits', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      const error = res.json().error as { code: string; fields: { path: string; message: string }[] };
      expect(error.code).toBe('validation_failed');
      const field = error.fields.find((f) => f.path === path);
      expect(field, `no field ${path} in ${JSON.stringify(error)}`).toBeDefined();
      expect(field!.message).toMatch(message);
    }
    // An unknown id is refused at its position, as is a partial update that breaks a rule.
    const unknown = await post(ada, '/api/kits', { name: 'Ghost', references: [u1.id, crypto.randomUUID()] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.fields).toEqual([{ path: 'references.1', message: expect.stringMatching(/^reference 2 \(.+\) is not one of your uploads or images$/) }]);
    for (const body of [{}, { name: '' }, { references: [] }, { references: [u1.id, crypto.randomUUID()] }]) {
      expect((await patch(ada, `/api/kits/${kit.id}`, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await get(ada, '/api/kits/not-a-uuid')).statusCode).toBe(400);
    expect(await snapshot(ada.userId)).toEqual(before);
  });

  it('keeps each user’s kits to themselves, and will not hold another user’s upload or image', async () => {
    const kit = await createKit(ada, 'Private', [u1.id, image.id]);
    const bobsUpload = await upload(bob, 50, 50);
    const bobsKit = await createKit(bob, 'Private', [bobsUpload.id]); // the same name is fine for another user

    expect((await get(bob, `/api/kits/${kit.id}`)).statusCode).toBe(404);
    expect((await patch(bob, `/api/kits/${kit.id}`, { name: 'Mine now' })).statusCode).toBe(404);
    expect((await patch(bob, `/api/kits/${kit.id}`, { references: [bobsUpload.id] })).statusCode).toBe(404);
    expect((await del(bob, `/api/kits/${kit.id}`)).statusCode).toBe(404);
    expect((await listKits(bob)).map((k) => k.id)).toEqual([bobsKit.id]);
    expect((await listKits(ada)).map((k) => k.id)).not.toContain(bobsKit.id);

    const bobBefore = await snapshot(bob.userId);
    const borrowed = await post(bob, '/api/kits', { name: 'Borrowed', references: [bobsUpload.id, u1.id] });
    expect(borrowed.statusCode).toBe(400);
    expect(borrowed.json().error.message).toMatch(/^Reference 2 \(.+\) is not one of your uploads or images\. A kit can only hold your own uploads and generated images\.$/);
    const sneaked = await patch(bob, `/api/kits/${bobsKit.id}`, { references: [image.id] });
    expect(sneaked.statusCode).toBe(400);
    expect(sneaked.json().error.fields).toEqual([{ path: 'references.0', message: `reference 1 (${image.id}) is not one of your uploads or images` }]);
    expect(await snapshot(bob.userId)).toEqual(bobBefore);
    expect(refIds((await get(ada, `/api/kits/${kit.id}`)).json<Kit>())).toEqual([u1.id, image.id]);
  });

  it('drops a deleted upload or image from every kit that held it, keeping the rest in order', async () => {
    const user = await signUp(server.app);
    const [a, b] = [await upload(user, 40, 40), await upload(user, 41, 41)];
    const g = await generated(user);
    const one = await createKit(user, 'One', [a.id, g.images[0]!.id, b.id]);
    const two = await createKit(user, 'Two', [b.id, a.id]);

    expect((await del(user, `/api/uploads/${a.id}`)).statusCode).toBe(204);
    expect(refIds((await get(user, `/api/kits/${one.id}`)).json<Kit>())).toEqual([g.images[0]!.id, b.id]);
    expect(refIds((await get(user, `/api/kits/${two.id}`)).json<Kit>())).toEqual([b.id]);

    expect((await del(user, `/api/generations/${g.id}`)).statusCode).toBe(204);
    expect(refIds((await get(user, `/api/kits/${one.id}`)).json<Kit>())).toEqual([b.id]);

    // A kit whose references are all gone is still there, empty, for its owner to refill or delete.
    expect((await del(user, `/api/uploads/${b.id}`)).statusCode).toBe(204);
    expect((await listKits(user)).map((k) => [k.name, k.references.length])).toEqual([
      ['One', 0],
      ['Two', 0],
    ]);
    // And it can be refilled.
    const c = await upload(user, 42, 42);
    expect(refIds((await patch(user, `/api/kits/${one.id}`, { references: [c.id] })).json<Kit>())).toEqual([c.id]);
  });
});

describe('the per-user kit cap and concurrent writes', () => {
  it('allows at most the cap, exactly, even when creates race; a name can be taken once', async () => {
    const db = server.container.database.db;
    const kits = createKitService({ db, repository: createKitRepository(db), maxKits: 3 });
    const user = await signUp(server.app);
    const ref = await upload(user, 30, 30);

    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => kits.create(user.userId, { name: `Kit ${i}`, references: [ref.id] })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code: string; message: string }] : []));
    expect(refusals).toHaveLength(3);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: 'limit_reached', message: expect.stringMatching(/^You have 3 kits, the most one account can keep\. Delete a kit/) });
    expect(await kits.list(user.userId)).toHaveLength(3);

    const other = await signUp(server.app);
    const otherRef = await upload(other, 30, 30);
    const same = await Promise.allSettled(Array.from({ length: 4 }, () => kits.create(other.userId, { name: 'Same', references: [otherRef.id] })));
    expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(same.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['conflict', 'conflict', 'conflict']);
    expect(await kits.list(other.userId)).toHaveLength(1);
  });

  it('answers 409 with the limit when the account holds 200 kits', async () => {
    const user = await signUp(server.app);
    const ref = await upload(user, 30, 30);
    const db = server.container.database.db;
    const now = new Date();
    const rows = Array.from({ length: 200 }, (_, i) => ({ id: crypto.randomUUID(), user_id: user.userId, name: `Kit ${i}`, created_at: now, updated_at: now }));
    await db.insertInto('reference_kits').values(rows).execute();
    const res = await post(user, '/api/kits', { name: 'One too many', references: [ref.id] });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('limit_reached');
    expect(res.json().error.message).toMatch(/You have 200 kits, the most one account can keep/);
    expect(await listKits(user)).toHaveLength(200);
  });
});
