import type { Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CAPTCHA_CHALLENGE_PATH, CAPTCHA_HEADER } from '@atelier/contracts';
import { openStudio, signUpInStudio, type StudioSession } from './support.ts';

/**
 * The sign-in CAPTCHA (SEC-3) in a real browser, at the default difficulty: after five wrong passwords the
 * right one is answered `captcha_required`; the form fetches a challenge from our own server, solves it in
 * Web Workers under the production CSP, says so to screen readers, sends the attempt again and signs in.
 */
let session: StudioSession;
const EMAIL = 'grace@example.com';
const PASSWORD = 'correct horse battery staple';
const SIGN_IN = '/api/auth/sign-in/email';

beforeAll(async () => {
  session = await openStudio();
  await signUpInStudio(session, { name: 'Grace', email: EMAIL });
});
afterAll(() => session?.close());

it('after five wrong passwords, solves the challenge by itself and signs in with the right one', async () => {
  const { atelier, browser } = session;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  // Failed fetches (401/403/429) are logged as console errors by Chromium; CSP refusals must never be.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  const signIns = () => requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === SIGN_IN);
  const statusOf = async (r: Request) => (await r.response())?.status();

  await page.goto(`${atelier.url}/sign-in`);
  await page.getByLabel('Email').fill(EMAIL);
  for (let i = 1; i <= 5; i++) {
    await page.getByLabel('Password', { exact: true }).fill(`wrong password ${i}`);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === SIGN_IN);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect((await answer).status()).toBe(401);
    await page.getByRole('alert').filter({ hasText: 'don’t match an account' }).waitFor();
  }
  expect(requests.some((r) => r.url().includes(CAPTCHA_CHALLENGE_PATH))).toBe(false);

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  const status = page.getByRole('status').filter({ hasText: 'Checking you’re not a robot' });
  const checking = status.waitFor();
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await checking; // announced while the workers search
  await page.waitForURL(`${atelier.url}/`);
  await page.getByRole('heading', { name: 'Your studio is empty' }).waitFor();

  // What happened on the wire: refused without a solution, a challenge from our own server, accepted with one.
  const attempts = signIns().slice(5);
  const statuses = await Promise.all(attempts.map(statusOf));
  expect(statuses).toContain(403);
  expect(statuses.at(-1)).toBe(200);
  const accepted = attempts.at(-1)!;
  expect(await accepted.headerValue(CAPTCHA_HEADER)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  const refused = attempts[statuses.indexOf(403)]!;
  expect(await refused.headerValue(CAPTCHA_HEADER)).toBeNull();
  expect((await (await refused.response())!.json()) as unknown).toMatchObject({ error: { code: 'captcha_required' } });
  expect(requests.filter((r) => r.url().includes(CAPTCHA_CHALLENGE_PATH))).toHaveLength(1);
  // Nothing but our own origin was asked for anything.
  expect(requests.filter((r) => !r.url().startsWith(atelier.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'))).toEqual([]);
  expect(problems).toEqual([]);
  await context.close();
});
