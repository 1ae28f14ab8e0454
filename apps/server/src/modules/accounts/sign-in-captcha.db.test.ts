import path from 'node:path';
import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTCHA_CHALLENGE_PATH, CAPTCHA_HEADER } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { cookiesOf, PASSWORD } from '#test/support/auth-flows.ts';
import { encodeCaptcha, fetchChallenge, signInWithCaptcha, solve, solvedCaptcha } from '#test/support/captcha.ts';
import { loadAuthSecret } from './auth.ts';
import { CAPTCHA, createSignInCaptcha } from './sign-in-captcha.ts';

let server: TestServer;
beforeAll(async () => {
  // A small search space keeps solving in Node quick; the protocol is the same at any difficulty.
  server = await startTestServer({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '100000', CAPTCHA_MAX_NUMBER: '2000' } });
});
afterAll(() => server?.close());

const db = () => server.container.database.db;
const WRONG = 'wrong password!';
const failuresOf = async (email: string) => (await db().selectFrom('auth_throttle').select('failures').where('email', '=', email).executeTakeFirst())?.failures ?? 0;
/** The per-email delay has passed (without waiting), so only the CAPTCHA can refuse the next attempt. */
const letDelayPass = (email: string) => db().updateTable('auth_throttle').set({ last_failure_at: sql<Date>`last_failure_at - interval '1 hour'` }).where('email', '=', email).execute();
/** The answer without the request id, which differs per request. */
const answer = (res: LightMyRequestResponse) => ({ status: res.statusCode, body: { ...(res.json<Record<string, unknown>>()), requestId: undefined } });

async function failFiveTimes(email: string): Promise<LightMyRequestResponse[]> {
  const answers: LightMyRequestResponse[] = [];
  for (let i = 0; i < 5; i++) answers.push(await signInWithCaptcha(server.app, email, WRONG, null));
  await letDelayPass(email);
  return answers;
}

describe('sign-in CAPTCHA after 5 failures (SEC-3)', () => {
  it('the 6th attempt needs a solved challenge; with one it proceeds, and the right password signs in', async () => {
    const u = await signUp(server.app);
    for (const res of await failFiveTimes(u.email)) expect(res.statusCode).toBe(401);

    // Even the right password is refused without a solution, and the refusal is not a failure.
    const refused = await signInWithCaptcha(server.app, u.email, PASSWORD, null);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'captcha_required', message: expect.stringContaining(CAPTCHA_CHALLENGE_PATH), details: { challenge_path: CAPTCHA_CHALLENGE_PATH, header: CAPTCHA_HEADER } } });
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(await failuresOf(u.email)).toBe(5);

    // A solved challenge lets the attempt through: a wrong password still counts…
    const wrong = await signInWithCaptcha(server.app, u.email, WRONG, await solvedCaptcha(server.app));
    expect(wrong.statusCode).toBe(401);
    expect(await failuresOf(u.email)).toBe(6);
    // …and the delays still apply on top (2 s after the 6th failure).
    const early = await signInWithCaptcha(server.app, u.email, PASSWORD, await solvedCaptcha(server.app));
    expect(early.statusCode).toBe(429);
    await letDelayPass(u.email);

    const ok = await signInWithCaptcha(server.app, u.email, PASSWORD, await solvedCaptcha(server.app));
    expect(ok.statusCode).toBe(200);
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers: studio(cookiesOf(ok)) });
    expect(me.json()).toMatchObject({ email: u.email });
    // The run of failures is over: no CAPTCHA next time.
    expect((await signInWithCaptcha(server.app, u.email, PASSWORD, null)).statusCode).toBe(200);
  });

  it('refuses a replayed, expired, tampered, forged or garbled solution the same way as none', async () => {
    const u = await signUp(server.app);
    await failFiveTimes(u.email);
    const refusals: LightMyRequestResponse[] = [];

    const once = await solvedCaptcha(server.app);
    expect((await signInWithCaptcha(server.app, u.email, WRONG, once)).statusCode).toBe(401);
    await letDelayPass(u.email);
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, once)); // replayed

    // Signed by this server (same auth secret) but issued 6 minutes ago.
    const authSecret = loadAuthSecret(undefined, path.join(server.dataDir, 'secrets'));
    const issuedEarlier = createSignInCaptcha({ db: db(), clock: { now: () => new Date(Date.now() - CAPTCHA.ttlSeconds * 1000 - 60_000) }, authSecret, maxNumber: 2000 });
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, encodeCaptcha(await solve(await issuedEarlier.createChallenge()))));

    // A later expiry written into a real challenge breaks its signature.
    const extended = await solve(await fetchChallenge(server.app));
    extended.challenge.parameters.expiresAt = extended.challenge.parameters.expiresAt! + 3600;
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, encodeCaptcha(extended)));
    // A made-up answer to a real challenge.
    const guessed = await solve(await fetchChallenge(server.app));
    guessed.solution = { counter: guessed.solution.counter + 1, derivedKey: 'ab'.repeat(32) };
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, encodeCaptcha(guessed)));
    // Signed with another secret.
    const forger = createSignInCaptcha({ db: db(), clock: { now: () => new Date() }, authSecret: 'not the server secret', maxNumber: 2000 });
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, encodeCaptcha(await solve(await forger.createChallenge()))));
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, 'bm90IGEgcGF5bG9hZA=='));
    refusals.push(await signInWithCaptcha(server.app, u.email, PASSWORD, null));

    const none = answer(refusals.at(-1)!);
    expect(none).toMatchObject({ status: 403, body: { error: { code: 'captcha_required' } } });
    for (const res of refusals) expect(answer(res)).toEqual(none);
    // None of them counted, locked or signed in; a fresh solution still opens the door.
    expect(await failuresOf(u.email)).toBe(6);
    expect(refusals.every((r) => r.headers['set-cookie'] === undefined)).toBe(true);
    expect((await signInWithCaptcha(server.app, u.email, PASSWORD, await solvedCaptcha(server.app))).statusCode).toBe(200);
  });

  it('answers an unknown email exactly as a known one', async () => {
    const known = (await signUp(server.app)).email;
    const unknown = `nobody-${Date.now()}@example.com`;
    const run = async (email: string) => {
      const answers = (await failFiveTimes(email)).map(answer);
      answers.push(answer(await signInWithCaptcha(server.app, email, WRONG, null)));
      answers.push(answer(await signInWithCaptcha(server.app, email, WRONG, await solvedCaptcha(server.app))));
      return answers;
    };
    const forKnown = await run(known);
    const forUnknown = await run(unknown);
    expect(forKnown.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 403, 401]);
    expect(forUnknown).toEqual(forKnown);
  });

  it('hands out signed, expiring, never-cached challenges, each different, under the auth rate limit', async () => {
    const res = await server.app.inject({ method: 'GET', url: CAPTCHA_CHALLENGE_PATH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const challenge = res.json<{ parameters: Record<string, unknown>; signature: string }>();
    expect(challenge.parameters).toMatchObject({ algorithm: 'SHA-256', cost: 1, keyLength: 32, keyPrefix: expect.stringMatching(/^[0-9a-f]{32}$/), keySignature: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const expiresIn = (challenge.parameters.expiresAt as number) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(CAPTCHA.ttlSeconds - 60);
    expect(expiresIn).toBeLessThanOrEqual(CAPTCHA.ttlSeconds);
    expect((await fetchChallenge(server.app)).signature).not.toBe(challenge.signature);

    const limited = await startTestServer({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '2' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.app.inject({ method: 'GET', url: CAPTCHA_CHALLENGE_PATH })).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});
