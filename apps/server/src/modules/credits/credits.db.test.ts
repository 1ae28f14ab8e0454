import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account, CreditTransaction, Generation } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';
import { reconcileLedger } from './credits.reconcile.ts';
import { bflFaults, startFakeBfl, type FakeBfl } from '#test/fakes/fake-bfl.ts';
import { eventually, signUp, startTestServer, studio, testDbKind, type TestServer } from '#test/support/harness.ts';

/**
 * The credits ledger end to end: sign-up credits and the monthly allowance, a generation's price held
 * at admission and charged on success, given back when it fails, is blocked or is canceled; exact
 * admission under concurrency; append-only, balanced books; expiring credits spent first; staff
 * adjustments; reconciliation. Runs on PGlite and on the PostgreSQL server.
 */
let dir: string;
let bfl: FakeBfl;
let server: TestServer; // workers on: generations run
let idle: TestServer; // no workers: admitted generations stay queued (the admission race)

const CATALOGUE = {
  models: [
    { id: 'ten', label: 'Ten-credit model', price_credits: 10, routes: [{ engine: 'offline', engine_model: 'offline' }] },
    { id: 'remote', label: 'Remote model', price_credits: 3, routes: [{ engine: 'bfl', engine_model: 'flux-2-pro' }] },
  ],
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-credits-'));
  const file = path.join(dir, 'catalogue.json');
  fs.writeFileSync(file, JSON.stringify(CATALOGUE));
  bfl = await startFakeBfl({ processingMs: 50 });
  const env = { CATALOGUE_FILE: file, BFL_API_KEY: bfl.apiKey, BFL_BASE_URL: bfl.url, SIGNUP_CREDITS: '25', FREE_MONTHLY_CREDITS: '100', FREE_MAX_CONCURRENT: '1000', ENGINE_MAX_ATTEMPTS: '1' };
  [server, idle] = await Promise.all([startTestServer({ env }), startTestServer({ env: { ...env, SIGNUP_CREDITS: '0', FREE_MONTHLY_CREDITS: '0' }, work: false })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), idle?.close()]);
  await bfl?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const json = { 'content-type': 'application/json' };
const account = async (s: TestServer, cookie: string) => (await s.app.inject({ method: 'GET', url: '/api/account', headers: studio(cookie) })).json<Account>();
const transactions = async (s: TestServer, cookie: string) => (await s.app.inject({ method: 'GET', url: '/api/credits/transactions?limit=100', headers: studio(cookie) })).json<{ data: CreditTransaction[] }>().data;
const generate = (s: TestServer, cookie: string, body: Record<string, unknown>) => s.app.inject({ method: 'POST', url: '/api/generations', headers: studio(cookie, json), payload: { width: 512, height: 512, ...body } });
const settled = (s: TestServer, cookie: string, id: string) =>
  eventually(async () => {
    const g = (await s.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(cookie) })).json<Generation>();
    return ['succeeded', 'failed', 'blocked', 'canceled'].includes(g.status) ? g : undefined;
  });
const holdState = async (s: TestServer, generationId: string) =>
  (await s.container.database.db.selectFrom('credit_holds').select(['state', 'amount']).where('generation_id', '=', generationId).executeTakeFirst()) ?? null;
const grant = (s: TestServer, userId: string, amount: number, key = crypto.randomUUID()) => s.container.creditAdjustments.adjust({ userId, amount, reason: 'test grant', actorId: null, actorIp: null, key });

describe('balance', () => {
  it('starts with the sign-up credits and this month’s allowance, once each', async () => {
    const user = await signUp(server.app);
    const a = await account(server, user.cookie);
    expect(a.credits).toEqual({ available: 125, held: 0 });
    expect(a.plan).toMatchObject({ id: 'free', status: 'free' });
    expect((await account(server, user.cookie)).credits.available).toBe(125);
    const kinds = (await transactions(server, user.cookie)).map((t) => [t.kind, t.available_change]);
    expect(kinds).toEqual(expect.arrayContaining([['signup_grant', 25], ['allowance', 100]]));
    expect(kinds).toHaveLength(2);
    const allowance = (await transactions(server, user.cookie)).find((t) => t.kind === 'allowance')!;
    const now = new Date();
    expect(allowance.expires_at).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    expect(allowance.description).toMatch(/^Free credits for \w+ \d{4}$/);
  });
});

describe('a generation’s price', () => {
  it('is held when admitted and charged when the generation succeeds', async () => {
    const user = await signUp(server.app);
    const quote = (await server.app.inject({ method: 'POST', url: '/api/generations/quote', headers: studio(user.cookie, json), payload: { model: 'ten', prompt: 'q', width: 512, height: 512, count: 2 } })).json<{ credits: number }>();
    expect(quote.credits).toBe(20);
    const res = await generate(server, user.cookie, { model: 'ten', prompt: 'two lighthouses', count: 2 });
    expect(res.statusCode).toBe(202);
    const { batch } = res.json<{ batch: string[] }>();
    for (const id of batch) expect((await settled(server, user.cookie, id)).status).toBe('succeeded');
    await eventually(async () => (await account(server, user.cookie)).credits.held === 0);
    expect((await account(server, user.cookie)).credits).toEqual({ available: 125 - 20, held: 0 });
    for (const id of batch) expect(await holdState(server, id)).toEqual({ state: 'captured', amount: 10 });
    const moves = (await transactions(server, user.cookie)).filter((t) => t.generation_id === batch[0]).map((t) => [t.kind, t.available_change, t.held_change]);
    expect(moves).toEqual([
      ['capture', 0, -10],
      ['hold', -10, 10],
    ]);
  });

  it('is given back when the engine fails the generation or blocks it', async () => {
    const user = await signUp(server.app);
    bfl.scriptNext('submit', bflFaults.validation([{ loc: ['body', 'prompt'], msg: 'bad', type: 'value_error' }]));
    const failed = await settled(server, user.cookie, (await generate(server, user.cookie, { model: 'remote', prompt: 'fails' })).json<Generation>().id);
    expect(failed.status).toBe('failed');
    bfl.nextTaskOutcome({ kind: 'request_moderated' });
    const blocked = await settled(server, user.cookie, (await generate(server, user.cookie, { model: 'remote', prompt: 'blocked' })).json<Generation>().id);
    expect(blocked.status).toBe('blocked');
    expect((await account(server, user.cookie)).credits).toEqual({ available: 125, held: 0 });
    expect(await holdState(server, failed.id)).toEqual({ state: 'released', amount: 3 });
    const release = (await transactions(server, user.cookie)).find((t) => t.kind === 'release' && t.generation_id === blocked.id)!;
    expect(release).toMatchObject({ available_change: 3, held_change: -3, description: 'Returned: the generation was blocked' });
  });

  it('is given back when a queued generation is canceled or deleted', async () => {
    const user = await signUp(idle.app);
    await grant(idle, user.userId, 30);
    const a = (await generate(idle, user.cookie, { model: 'ten', prompt: 'cancel me' })).json<Generation>();
    const b = (await generate(idle, user.cookie, { model: 'ten', prompt: 'delete me' })).json<Generation>();
    expect((await account(idle, user.cookie)).credits).toEqual({ available: 10, held: 20 });
    expect((await idle.app.inject({ method: 'POST', url: `/api/generations/${a.id}/cancel`, headers: studio(user.cookie) })).statusCode).toBe(200);
    expect((await idle.app.inject({ method: 'DELETE', url: `/api/generations/${b.id}`, headers: studio(user.cookie) })).statusCode).toBe(204);
    expect((await account(idle, user.cookie)).credits).toEqual({ available: 30, held: 0 });
    expect((await holdState(idle, a.id))?.state).toBe('released');
    expect((await holdState(idle, b.id))?.state).toBe('released');
  });

  it('is refused with a clear 402 when the balance does not cover it, and nothing is created', async () => {
    const user = await signUp(idle.app);
    await grant(idle, user.userId, 15);
    const before = Number((await sql<{ n: number }>`select count(*)::int as n from generations where user_id = ${user.userId}`.execute(idle.container.database.db)).rows[0]!.n);
    const res = await generate(idle, user.cookie, { model: 'ten', prompt: 'too dear', count: 2 });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ error: { code: 'insufficient_credits', message: expect.stringContaining('this costs 20 and you have 15 available'), details: { required: 20, available: 15 } } });
    const after = Number((await sql<{ n: number }>`select count(*)::int as n from generations where user_id = ${user.userId}`.execute(idle.container.database.db)).rows[0]!.n);
    expect(after).toBe(before);
    expect((await account(idle, user.cookie)).credits).toEqual({ available: 15, held: 0 });
  });

  it('capture and release exclude each other and repeat harmlessly (T-LED-2)', async () => {
    const user = await signUp(idle.app);
    await grant(idle, user.userId, 10);
    const g = (await generate(idle, user.cookie, { model: 'ten', prompt: 'settle twice' })).json<Generation>();
    const { credits, database } = idle.container;
    const settle = (fn: 'capture' | 'release') => database.db.transaction().execute((trx) => (fn === 'capture' ? credits.capture(trx, g.id) : credits.release(trx, g.id, 'failed')));
    expect(await settle('release')).toBe('released');
    expect(await settle('release')).toBe('released');
    expect(await settle('capture')).toBe('released');
    expect((await account(idle, user.cookie)).credits).toEqual({ available: 10, held: 0 });
    expect((await transactions(idle, user.cookie)).filter((t) => t.generation_id === g.id).map((t) => t.kind)).toEqual(['release', 'hold']);
  });
});

describe('admission under concurrency (T-LED-1)', () => {
  it('admits exactly 50 of 200 concurrent 10-credit generations against 500 credits, every time', async () => {
    // PGlite serialises every transaction anyway; the race that matters is on the PostgreSQL server.
    const rounds = testDbKind() === 'postgres' ? 5 : 2;
    for (let round = 0; round < rounds; round++) {
      const user = await signUp(idle.app);
      await grant(idle, user.userId, 500);
      const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => idle.container.generations.create(user.userId, { model: 'ten', prompt: `race ${round}.${i}`, width: 512, height: 512 })));
      const admitted = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(admitted).toBe(50);
      expect(refused).toHaveLength(150);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(AppError);
        expect((r.reason as AppError).code).toBe('insufficient_credits');
      }
      expect(await idle.container.credits.peekBalance(user.userId)).toEqual({ available: 0, held: 500 });
    }
    const check = await reconcileLedger({ repository: idle.container.credits.repository, logger: idle.container.logger });
    expect(check.problems).toEqual([]);
  });
});

describe('the books', () => {
  it('refuse changes to postings and transactions, and unbalanced transactions (T-LED-3)', async () => {
    const db = idle.container.database.db;
    const user = await signUp(idle.app);
    await grant(idle, user.userId, 5);
    await expect(sql`update ledger_postings set amount = amount + 1`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from ledger_transactions`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate ledger_postings`.execute(db)).rejects.toThrow(/append-only/);
    await expect(
      db.transaction().execute(async (trx) => {
        const id = crypto.randomUUID();
        await sql`insert into ledger_transactions (id, idempotency_key, kind) values (${id}, ${`bad:${id}`}, 'grant')`.execute(trx);
        await sql`insert into ledger_postings (transaction_id, account_id, amount) values (${id}, 'system:grants', -5)`.execute(trx);
      }),
    ).rejects.toThrow(/unbalanced/);
    await expect(sql`update ledger_accounts set balance = -1 where id = ${`user:${user.userId}:available`}`.execute(db)).rejects.toThrow(/never_negative/);
  });

  it('spend expiring credits first and expire what is left when their time is up (LED-8)', async () => {
    const user = await signUp(idle.app);
    const { credits } = idle.container;
    await credits.grant({ userId: user.userId, amount: 10, kind: 'grant', key: `k1:${user.userId}` });
    await credits.grant({ userId: user.userId, amount: 10, kind: 'grant', key: `k2:${user.userId}`, expiresAt: new Date(Date.now() + 3_600_000) });
    await credits.grant({ userId: user.userId, amount: 7, kind: 'grant', key: `k3:${user.userId}`, expiresAt: new Date(Date.now() + 1500) });
    // A 10-credit generation takes the 7 that expire soonest, then 3 from the next to expire; the lasting lot is untouched.
    await generate(idle, user.cookie, { model: 'ten', prompt: 'expiring first' });
    const lots = await idle.container.database.db.selectFrom('credit_lots').select(['granted', 'remaining']).where('user_id', '=', user.userId).orderBy('granted').orderBy('remaining').execute();
    expect(lots.map((l) => [Number(l.granted), Number(l.remaining)])).toEqual([
      [7, 0],
      [10, 7],
      [10, 10],
    ]);
    // Releasing after the 7-credit lot expired: those 7 go straight to expired, the 3 go back.
    const g = (await transactions(idle, user.cookie)).find((t) => t.kind === 'hold')!.generation_id!;
    await new Promise((r) => setTimeout(r, 1600));
    await idle.container.database.db.transaction().execute((trx) => credits.release(trx, g, 'failed'));
    expect(await credits.balance(user.userId)).toEqual({ available: 20, held: 0 });
    await credits.grant({ userId: user.userId, amount: 4, kind: 'grant', key: `k4:${user.userId}`, expiresAt: new Date(Date.now() + 300) });
    await new Promise((r) => setTimeout(r, 400));
    expect(await credits.expireAll()).toBeGreaterThanOrEqual(1);
    expect(await credits.peekBalance(user.userId)).toEqual({ available: 20, held: 0 });
    expect((await transactions(idle, user.cookie)).filter((t) => t.kind === 'expiry').map((t) => t.available_change)).toEqual([-4]);
  });

  it('reconcile to zero drift after thousands of random operations (T-LED-4)', async () => {
    const { credits, database } = idle.container;
    const users = await Promise.all([signUp(idle.app), signUp(idle.app), signUp(idle.app)]);
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const open: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const u = users[rand(users.length)]!.userId;
      const op = rand(6);
      try {
        if (op === 0) await credits.grant({ userId: u, amount: 1 + rand(50), kind: 'grant', key: `r:${i}`, expiresAt: rand(3) === 0 ? new Date(Date.now() + rand(2000)) : null });
        else if (op <= 2) {
          const id = crypto.randomUUID();
          await database.db.transaction().execute((trx) => credits.reserve(trx, { userId: u, apiKeyId: null, expiresAt: new Date(Date.now() + 60_000), holds: [{ generationId: id, amount: 1 + rand(20) }] }));
          open.push(id);
        } else if (op === 3 && open.length) await database.db.transaction().execute((trx) => credits.capture(trx, open.splice(rand(open.length), 1)[0]!));
        else if (op === 4 && open.length) await database.db.transaction().execute((trx) => credits.release(trx, open.splice(rand(open.length), 1)[0]!, 'failed'));
        else await credits.reverse({ userId: u, amount: 1 + rand(30), key: `rv:${i}`, kind: 'clawback' });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'insufficient_credits')) throw error;
      }
    }
    await credits.expireAll();
    const result = await reconcileLedger({ repository: credits.repository, logger: idle.container.logger });
    expect(result).toMatchObject({ ok: true, problems: [] });
    for (const u of users) {
      const b = await credits.peekBalance(u.userId);
      expect(b.available).toBeGreaterThanOrEqual(0);
      expect(b.held).toBeGreaterThanOrEqual(0);
    }
  });

  it('reconciliation reports drift when the materialised balance disagrees with the postings', async () => {
    const db = idle.container.database.db;
    const user = await signUp(idle.app);
    await grant(idle, user.userId, 9);
    await sql`update ledger_accounts set balance = balance + 1 where id = ${`user:${user.userId}:available`}`.execute(db);
    const result = await reconcileLedger({ repository: idle.container.credits.repository, logger: idle.container.logger });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { check: 'balance_equals_postings', account: `user:${user.userId}:available`, expected: 9, actual: 10 },
        { check: 'available_equals_lots', account: `user:${user.userId}:available`, expected: 9, actual: 10 },
      ]),
    );
    const metrics = (await idle.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`^atelier_ledger_reconciliation_problems ${result.problems.length}$`, 'm'));
    expect(metrics).toMatch(/^atelier_credit_holds_overdue 0$/m);
    await sql`update ledger_accounts set balance = balance - 1 where id = ${`user:${user.userId}:available`}`.execute(db);
  });
});
