import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, GenerationPage } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * History search over 100 000 generations of one user (plus another user's, which must never show):
 * every filter and the keyset cursor return exactly the rows a plain computation over the same data
 * expects, in order, on both databases. Speed is measured by bench/history, not here.
 */
const N = 100_000;
const COLORS = ['red', 'blue', 'green', 'amber', 'violet'];
const SUBJECTS = ['fox', 'whale', 'lighthouse', 'teapot', 'dragon', 'city', 'forest'];
const STYLES = ['watercolor', 'photograph', 'poster', 'sketch', 'render', 'collage', 'mosaic', 'etching', 'mural', 'cartoon', 'linocut'];
const MODELS = ['offline', 'flux-2-pro', 'flux-2-max'];
const BASE = Date.parse('2025-01-01T00:00:00Z');

// The same formulas in SQL (seeding) and in JS (expectations).
const promptOf = (n: number) => `${COLORS[n % 5]} ${SUBJECTS[Math.floor(n / 5) % 7]} ${STYLES[Math.floor(n / 35) % 11]}${n % 997 === 0 ? ' zebra' : ''}`;
const row = (n: number) => ({
  n,
  id: idOf(n),
  prompt: promptOf(n),
  model: MODELS[n % 3]!,
  workflow: n % 4 === 0 ? 'image-to-image' : 'text-to-image',
  favorite: n % 50 === 0,
  createdAt: BASE + n * 5 * 60_000,
});
/** A UUIDv7 of the row's creation time, as the app's ids are (the date filter relies on it). */
const idOf = (n: number, prefix = '8000') => {
  const hex = (BASE + n * 5 * 60_000).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-${prefix}-${n.toString(16).padStart(12, '0')}`;
};
const cursorOf = (id: string) => Buffer.from(id).toString('base64url');
const ALL = Array.from({ length: N }, (_, i) => row(i + 1)).reverse(); // newest first

let server: TestServer;
let user: { cookie: string; userId: string };

async function seed(userId: string, count: number, prefix: string) {
  await sql`
    insert into generations (id, user_id, status, model_id, engine, engine_model, prompt, width, height, output_format, request_hash, workflow, favorite, created_at, completed_at)
    select (substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || ${`-7000-${prefix}-`} || lpad(to_hex(n), 12, '0'))::uuid, ${userId}, 'succeeded',
      (array['offline','flux-2-pro','flux-2-max'])[1 + n % 3], 'offline', 'offline',
      (array['red','blue','green','amber','violet'])[1 + n % 5] || ' ' ||
      (array['fox','whale','lighthouse','teapot','dragon','city','forest'])[1 + (n / 5) % 7] || ' ' ||
      (array['watercolor','photograph','poster','sketch','render','collage','mosaic','etching','mural','cartoon','linocut'])[1 + (n / 35) % 11] ||
      case when n % 997 = 0 then ' zebra' else '' end,
      512, 512, 'png', 'seeded', case when n % 4 = 0 then 'image-to-image' else 'text-to-image' end, n % 50 = 0,
      timestamptz '2025-01-01 00:00:00+00' + n * interval '5 minutes', timestamptz '2025-01-01 00:00:00+00' + n * interval '5 minutes'
    from generate_series(1, ${count}) as n,
      lateral (select lpad(to_hex((extract(epoch from timestamptz '2025-01-01 00:00:00+00' + n * interval '5 minutes') * 1000)::bigint), 12, '0') as ms) t`.execute(server.container.database.db);
}

beforeAll(async () => {
  server = await startTestServer({ work: false });
  user = await signUp(server.app);
  const other = await signUp(server.app);
  await seed(user.userId, N, '8000');
  await seed(other.userId, 5_000, '9000'); // the same prompts: must never show up
}, 300_000);
afterAll(() => server?.close());

const get = async (query: Record<string, string | number>) => {
  const res = await server.app.inject({ method: 'GET', url: '/api/generations', query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])), headers: studio(user.cookie) });
  return res;
};
const page = async (query: Record<string, string | number>) => {
  const res = await get(query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<GenerationPage>();
};
/** Every page of a query, following next_cursor. */
const walk = async (query: Record<string, string | number>) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const p: GenerationPage = await page({ ...query, limit: 100, ...(cursor ? { cursor } : {}) });
    ids.push(...p.data.map((g) => g.id));
    cursor = p.next_cursor;
  } while (cursor);
  return ids;
};
const words = (q: string) => q.toLowerCase().split(/\s+/).filter(Boolean);
const matches = (prompt: string, q: string) => words(q).every((w) => prompt.split(' ').some((t) => t.startsWith(w)));

describe('history search over 100 000 generations', () => {
  it('pages newest first, the first page and a deep page exactly', async () => {
    const first = await page({ limit: 30 });
    expect(first.data.map((g) => g.id)).toEqual(ALL.slice(0, 30).map((r) => r.id));
    expect(first.data[0]).toMatchObject({ prompt: ALL[0]!.prompt, model: ALL[0]!.model, workflow: ALL[0]!.workflow, favorite: ALL[0]!.favorite, collection_ids: [] });
    const deep = await page({ limit: 30, cursor: cursorOf(ALL[70_000]!.id) });
    expect(deep.data.map((g) => g.id)).toEqual(ALL.slice(70_001, 70_031).map((r) => r.id));
    const last = await page({ limit: 30, cursor: cursorOf(ALL[N - 11]!.id) });
    expect(last.data.map((g) => g.id)).toEqual(ALL.slice(N - 10).map((r) => r.id));
    expect(last.next_cursor).toBeNull();
  });

  it('finds a rare word and walks every page of it', async () => {
    const expected = ALL.filter((r) => matches(r.prompt, 'zebra')).map((r) => r.id);
    expect(expected.length).toBe(100);
    expect(await walk({ q: 'zebra' })).toEqual(expected);
    expect(await walk({ q: 'ZEBRA' })).toEqual(expected); // case-insensitive
  });

  it('matches every word, by prefix, in any order', async () => {
    const expected = ALL.filter((r) => matches(r.prompt, 'fox wat re')).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(await walk({ q: 'wat  FOX re' })).toEqual(expected);
    // A common word: first page and a deep page.
    const common = ALL.filter((r) => matches(r.prompt, 'lighthouse'));
    expect((await page({ q: 'lighthouse', limit: 30 })).data.map((g) => g.id)).toEqual(common.slice(0, 30).map((r) => r.id));
    const deep = await page({ q: 'lighthouse', limit: 30, cursor: cursorOf(common[10_000]!.id) });
    expect(deep.data.map((g) => g.id)).toEqual(common.slice(10_001, 10_031).map((r) => r.id));
    // Words that are not there, and punctuation only (no words: no text filter).
    expect((await page({ q: 'unicorn' })).data).toEqual([]);
    expect((await page({ q: '!!! ...', limit: 5 })).data.map((g) => g.id)).toEqual(ALL.slice(0, 5).map((r) => r.id));
    // tsquery syntax in the search box is just text, never an error or an injection.
    expect((await get({ q: "fox & !whale | (') :*" })).statusCode).toBe(200);
  });

  it('combines filters: model, workflow, favourites, date range', async () => {
    const from = '2025-06-01';
    const to = '2025-06-30';
    const fromMs = Date.parse('2025-06-01T00:00:00Z');
    const toMs = Date.parse('2025-07-01T00:00:00Z'); // a date "to" covers that whole day
    const expected = ALL.filter((r) => r.model === 'flux-2-pro' && r.workflow === 'text-to-image' && r.createdAt >= fromMs && r.createdAt < toMs).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(500);
    expect(await walk({ model: 'flux-2-pro', workflow: 'text-to-image', from, to })).toEqual(expected);

    const favourites = ALL.filter((r) => r.favorite && matches(r.prompt, 'dragon')).map((r) => r.id);
    expect(await walk({ favorite: 'true', q: 'dragon' })).toEqual(favourites);
    const notFavourite = ALL.filter((r) => !r.favorite && r.model === 'offline' && matches(r.prompt, 'zebra')).map((r) => r.id);
    expect(await walk({ favorite: 'false', model: 'offline', q: 'zebra' })).toEqual(notFavourite);

    const instant = new Date(BASE + 99_990 * 5 * 60_000).toISOString();
    expect((await page({ from: instant })).data.map((g) => g.id)).toEqual(ALL.slice(0, 11).map((r) => r.id));
  });

  it('filters by collection', async () => {
    const created = await server.app.inject({ method: 'POST', url: '/api/collections', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { name: 'Foxes' } });
    expect(created.statusCode).toBe(201);
    const collection = created.json<Collection>();
    const chosen = ALL.filter((r) => r.n % 331 === 0).map((r) => r.id); // spread across the whole history
    const bulk = await server.app.inject({ method: 'POST', url: '/api/generations/bulk', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { action: 'add_to_collection', ids: chosen, collection_id: collection.id } });
    expect(bulk.json()).toEqual({ affected: chosen.length });
    expect(await walk({ collection: collection.id })).toEqual(chosen);
    const withQ = ALL.filter((r) => r.n % 331 === 0 && matches(r.prompt, 'red')).map((r) => r.id);
    expect(await walk({ collection: collection.id, q: 'red' })).toEqual(withQ);
  });

  it('refuses bad filters with a specific message', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ q: 'x'.repeat(201) }, 'q'],
      [{ from: '2025-13-01' }, 'from'],
      [{ from: '2025-06-02', to: '2025-06-01' }, 'to'],
      [{ favorite: 'yes' }, 'favorite'],
      [{ workflow: 'painting' }, 'workflow'],
      [{ collection: 'nope' }, 'collection'],
      [{ cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'],
    ];
    for (const [query, path] of cases) {
      const res = await get(query);
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(JSON.stringify(res.json())).toContain(path);
    }
    const unknown = await get({ collection: crypto.randomUUID() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'not_found', message: 'Collection not found' } });
  });
});
