import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreditBalance } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { signUpStaff } from '#test/support/staff.ts';

/**
 * Abuse limits (issue 6) and staff adjustments: the plan's size and concurrency limits and an API key's
 * generations in flight, exact under concurrency and explained; velocity limits on generations,
 * checkouts and sign-ups; staff grants and claw-backs with a reason, audited, by permission.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: { FREE_MAX_CONCURRENT: '3', FREE_MAX_MEGAPIXELS: '1', API_KEY_MAX_CONCURRENT: '2', RATE_LIMIT_GENERATIONS_PER_MINUTE: '8', RATE_LIMIT_SIGNUPS_PER_HOUR: '12', RATE_LIMIT_AUTH_PER_MINUTE: '1000', SIGNUP_CREDITS: '100', FREE_MONTHLY_CREDITS: '0' },
    work: false,
  });
});
afterAll(async () => server?.close());

const json = { 'content-type': 'application/json' };
const generate = (headers: Record<string, string>, body: Record<string, unknown> = {}, url = '/api/generations') =>
  server.app.inject({ method: 'POST', url, headers: { ...headers, ...json }, payload: { model: 'offline', prompt: 'limit', width: 512, height: 512, ...body } });

describe('plan limits', () => {
  it('refuse a larger image than the plan makes, saying the limit and how to raise it', async () => {
    const user = await signUp(server.app);
    const res = await generate(studio(user.cookie), { width: 1536, height: 1024 });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      error: { code: 'plan_limit', message: expect.stringMatching(/Free plan makes images up to 1 MP; .* is 2 MP .*upgrade/), details: { limit: 'max_megapixels', allowed: 1, requested: 2, plan: 'Free' } },
    });
  });

  it('admit at most the plan’s concurrent generations, exactly, even when requests race', async () => {
    const user = await signUp(server.app);
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => server.container.generations.create(user.userId, { model: 'offline', prompt: `race ${i}`, width: 256, height: 256 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const res = await generate(studio(user.cookie));
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({
      error: { code: 'concurrency_limit', message: expect.stringContaining('You have 3 generations queued or running; your Free plan allows 3 at once'), details: { allowed: 3, active: 3, resets: 'when one of your generations finishes' } },
    });
    // One finishing (here: canceled) makes room again.
    const g = results.find((r) => r.status === 'fulfilled')!.value.generation.row.id;
    expect((await server.app.inject({ method: 'POST', url: `/api/generations/${g}/cancel`, headers: studio(user.cookie) })).statusCode).toBe(200);
    expect((await generate(studio(user.cookie))).statusCode).toBe(202);
  });

  it('cap an API key’s generations in flight (SEC-15)', async () => {
    const user = await signUp(server.app);
    const { key } = await server.container.apiKeys.create(user.userId, { name: 'k', scopes: ['read', 'generate'], expiresInDays: null });
    const bearer = { authorization: `Bearer ${key}` };
    expect((await generate(bearer, {}, '/v1/generations')).statusCode).toBe(202);
    expect((await generate(bearer, {}, '/v1/generations')).statusCode).toBe(202);
    const third = await generate(bearer, {}, '/v1/generations');
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({ error: { code: 'concurrency_limit', details: { limit: 'api_key_max_concurrent', allowed: 2, active: 2 } } });
    // The same account in the studio is not held back by the key's cap (only by the plan's).
    expect((await generate(studio(user.cookie))).statusCode).toBe(202);
  });
});

describe('velocity limits', () => {
  it('limit new generations per account per minute, saying when to retry', async () => {
    const user = await signUp(server.app);
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) codes.push((await generate(studio(user.cookie), { prompt: `velocity ${i}`, count: 1, width: 128, height: 128 })).statusCode);
    // 3 admitted, then the plan's concurrency limit, until the 9th request hits the velocity limit.
    expect(codes.slice(0, 8).every((c) => c === 202 || c === 429)).toBe(true);
    const last = await generate(studio(user.cookie));
    expect(last.statusCode).toBe(429);
    expect(last.headers['retry-after']).toMatch(/^\d+$/);
    expect(last.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringContaining('Too many new generations: at most 8 per minute for an account'), details: { per: 'account', max: 8, window_seconds: 60 } } });
  });

  it('limit sign-ups per network address per hour', async () => {
    let res;
    let n = 0;
    do {
      res = await server.app.inject({
        method: 'POST',
        url: '/api/auth/sign-up/email',
        remoteAddress: '203.0.113.9', // its own address, so the other tests can still sign up
        headers: { ...json, 'sec-fetch-site': 'same-origin' },
        payload: { email: `flood-${n++}@example.com`, password: 'correct horse battery staple', name: 'Flood', ageConfirmed: true },
      });
    } while (res.statusCode === 200 && n < 60);
    expect(n).toBe(13);
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringContaining('at most 12 per hour from one network address'), details: { limit: 'sign-ups', per: 'ip', max: 12 } } });
  });
});

describe('staff adjustments', () => {
  it('grant and claw back with a reason, audited; support may look but not change; users cannot see the routes', async () => {
    const user = await signUp(server.app);
    const admin = await signUpStaff(server, 'admin');
    const support = await signUpStaff(server, 'support');
    const adjust = (cookie: string, body: Record<string, unknown>, key?: string) =>
      server.app.inject({ method: 'POST', url: `/api/admin/users/${user.userId}/credits`, headers: studio(cookie, { ...json, ...(key ? { 'idempotency-key': key } : {}) }), payload: body });

    const granted = await adjust(admin.cookie, { amount: 250, reason: 'sorry for the outage' }, 'ticket-1234');
    expect(granted.statusCode).toBe(200);
    expect(granted.json<CreditBalance>()).toEqual({ available: 350, held: 0 });
    expect((await adjust(admin.cookie, { amount: 250, reason: 'sorry for the outage' }, 'ticket-1234')).json<CreditBalance>()).toEqual({ available: 350, held: 0 });
    const tooMuch = await adjust(admin.cookie, { amount: -351, reason: 'fraud' });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json()).toMatchObject({ error: { code: 'invalid_state', message: expect.stringContaining('Only 350 credits are available') } });
    expect((await adjust(admin.cookie, { amount: -50, reason: 'duplicate grant' })).json<CreditBalance>()).toEqual({ available: 300, held: 0 });
    expect((await adjust(admin.cookie, { amount: 10, reason: '' })).json()).toMatchObject({ error: { code: 'validation_failed' } });
    expect((await adjust(admin.cookie, { amount: 0, reason: 'nothing' })).statusCode).toBe(400);

    expect((await adjust(support.cookie, { amount: 5, reason: 'support wants to' })).statusCode).toBe(403); // staff are told they lack the permission; others see nothing
    const view = await server.app.inject({ method: 'GET', url: `/api/admin/users/${user.userId}/credits`, headers: studio(support.cookie) });
    expect(view.json()).toMatchObject({ balance: { available: 300, held: 0 }, transactions: { data: [{ kind: 'clawback', available_change: -50 }, { kind: 'grant', available_change: 250 }, { kind: 'signup_grant' }] } });
    expect((await server.app.inject({ method: 'GET', url: `/api/admin/users/${user.userId}/credits`, headers: studio(user.cookie) })).statusCode).toBe(404);

    const audit = await server.container.database.db.selectFrom('audit_events').select(['action', 'actor_id', 'reason']).where('target_id', '=', user.userId).where('action', 'like', 'credits.%').orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'credits.granted', actor_id: admin.userId, reason: 'sorry for the outage' },
      { action: 'credits.clawed_back', actor_id: admin.userId, reason: 'duplicate grant' },
      { action: 'credits.viewed', actor_id: support.userId, reason: null },
    ]);
  });
});
