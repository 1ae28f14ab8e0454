import { randomInt } from 'node:crypto';
import { createOTP } from '@better-auth/utils/otp';
import { base32 } from '@better-auth/utils/base32';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** Sign-in and two-factor helpers for security tests: real better-auth endpoints through app.inject. */
export const PASSWORD = 'correct horse battery staple';
const json = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

/** `name=value; …` of the cookies a response sets (expired ones left out), merged over `previous`. */
export function cookiesOf(res: LightMyRequestResponse, previous = ''): string {
  const jar = new Map(previous.split('; ').filter(Boolean).map((c) => [c.split('=')[0]!, c] as const));
  for (const line of [res.headers['set-cookie']].flat()) {
    if (typeof line !== 'string') continue;
    const pair = line.split(';')[0]!;
    const name = pair.split('=')[0]!;
    if (/max-age=0/i.test(line) || pair.endsWith('=')) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

export const sessionToken = (cookie: string) => /atelier\.session_token=([^;]+)/.exec(cookie)?.[1] ?? null;

export function post(app: FastifyInstance, url: string, payload: unknown, cookie = '', extra: { remoteAddress?: string; headers?: Record<string, string> } = {}) {
  return app.inject({ method: 'POST', url, headers: { ...json, ...(cookie ? { cookie } : {}), ...extra.headers }, payload: payload as object, ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}) });
}

export function signIn(app: FastifyInstance, email: string, password = PASSWORD, opts: { cookie?: string; remoteAddress?: string; userAgent?: string } = {}) {
  // Each from its own address unless told, so the per-IP limit (20 a minute) stays out of tests about something else.
  const remoteAddress = opts.remoteAddress ?? `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
  return post(app, '/api/auth/sign-in/email', { email, password }, opts.cookie ?? '', { remoteAddress, headers: opts.userAgent ? { 'user-agent': opts.userAgent } : {} });
}

/** Codes of the authenticator app for a TOTP URI, `offset` periods from now (the server accepts ±1). */
export async function totpCode(totpURI: string, offset = 0): Promise<string> {
  const secret = new URL(totpURI).searchParams.get('secret')!;
  const raw = Buffer.from(base32.decode(secret)).toString('utf8');
  return createOTP(raw).hotp(Math.floor(Date.now() / 30_000) + offset);
}

/** Turns on 2FA for a signed-in user: enable with the password, confirm with a code. Returns the URI, recovery codes and the rotated session cookie. */
export async function enableTwoFactor(app: FastifyInstance, cookie: string): Promise<{ totpURI: string; backupCodes: string[]; cookie: string; confirmCode: string }> {
  const enabled = await post(app, '/api/auth/two-factor/enable', { password: PASSWORD }, cookie);
  if (enabled.statusCode !== 200) throw new Error(`enable failed: ${enabled.statusCode} ${enabled.body}`);
  const { totpURI, backupCodes } = enabled.json<{ totpURI: string; backupCodes: string[] }>();
  const confirmCode = await totpCode(totpURI);
  const confirmed = await post(app, '/api/auth/two-factor/verify-totp', { code: confirmCode }, cookie);
  if (confirmed.statusCode !== 200) throw new Error(`confirm failed: ${confirmed.statusCode} ${confirmed.body}`);
  return { totpURI, backupCodes, cookie: cookiesOf(confirmed, cookie), confirmCode };
}
