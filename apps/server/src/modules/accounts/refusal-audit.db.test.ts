import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { cookiesOf, enableTwoFactor, post, signIn, totpCode } from '#test/support/auth-flows.ts';
import { setTwoFactor, signUpStaff } from '#test/support/staff.ts';
import { startFakeOidcProvider, type FakeOidcProvider } from '#test/fakes/oidc-provider.ts';
import { startFakeSmtp, type FakeSmtp } from '#test/fakes/smtp.ts';

/**
 * Refused authentication steps leave an audit event (issue 5 "bad input and abuse", ASVS 16.3.1) while
 * the answer to the person stays what it was: replayed, expired and tampered links, OAuth callbacks with
 * a bad state, nonce or issuer, wrong and replayed second-factor codes, and staff routes called without
 * the permission. Read back through GET /api/admin/audit, as an operator would.
 */
const PUBLIC_URL = 'http://localhost:3000';
const REDIRECT_URI = `${PUBLIC_URL}/api/auth/callback/oidc`;
const json = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

let server: TestServer;
let smtp: FakeSmtp;
let idp: FakeOidcProvider;
let owner: { cookie: string; userId: string };

beforeAll(async () => {
  [smtp, idp] = await Promise.all([startFakeSmtp(), startFakeOidcProvider({ redirectUri: REDIRECT_URI })]);
  server = await startTestServer({
    env: { SMTP_URL: smtp.url, OIDC_ISSUER: idp.url, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, RATE_LIMIT_AUTH_PER_MINUTE: '1000' },
  });
  owner = await signUpStaff(server, 'owner');
});
afterAll(async () => {
  await server?.close();
  await Promise.all([smtp?.close(), idp?.close()]);
});

/** Events with this action newer than `since` (an event id), oldest first, through the staff API. */
async function auditEvents(action: string, since = ''): Promise<AuditEvent[]> {
  const res = await server.app.inject({ method: 'GET', url: `/api/admin/audit?action=${encodeURIComponent(action)}&limit=100`, headers: studio(owner.cookie) });
  expect(res.statusCode, res.body).toBe(200);
  return res
    .json<{ data: AuditEvent[] }>()
    .data.filter((e) => e.id > since)
    .reverse();
}
const mergeCookies = (jar: string, setCookie: string | string[] | undefined) => {
  const map = new Map(jar ? jar.split('; ').map((c) => [c.split('=')[0]!, c] as const) : []);
  for (const c of [setCookie].flat().filter((x): x is string => typeof x === 'string')) map.set(c.split('=')[0]!, c.split(';')[0]!);
  return [...map.values()].filter((c) => !/=$/.test(c)).join('; ');
};
const latestId = async () => (await server.container.database.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst())?.id ?? '';
const get = (url: URL | string, headers: Record<string, string> = {}) => {
  const u = typeof url === 'string' ? new URL(url, PUBLIC_URL) : url;
  return server.app.inject({ method: 'GET', url: `${u.pathname}${u.search}`, headers, remoteAddress: '203.0.113.9' });
};

describe('links from e-mails', () => {
  it('a tampered verification link: the same 401 as before, and an auth.link_refused event without the token', async () => {
    const user = await signUp(server.app, 'ivy@example.com');
    const link = new URL((await smtp.waitFor('ivy@example.com', { subject: /Confirm your e-mail/ })).link!);
    const token = link.searchParams.get('token')!;
    const since = await latestId();
    const forged = await get(`${link.pathname}?token=${token.slice(0, -2)}xx`);
    expect(forged.statusCode).toBe(401);
    const [event, ...more] = await auditEvents('auth.link_refused', since);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actor_id: null, actor_ip: '203.0.113.9', details: { flow: 'verify_email', code: 'INVALID_TOKEN' } });
    expect(JSON.stringify(event)).not.toContain(token.slice(0, 20));
    // The real link still works, and a success is not an event.
    expect((await get(link)).statusCode).toBeLessThan(400);
    expect(await auditEvents('auth.link_refused', since)).toHaveLength(1);
    expect((await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(user.cookie) })).json()).toMatchObject({ email_verified: true });
  });

  it('a replayed and an expired reset link, and a replayed magic link, each refused as before and recorded', async () => {
    const user = await signUp(server.app, 'jay@example.com');
    const since = await latestId();
    await post(server.app, '/api/auth/request-password-reset', { email: 'jay@example.com', redirectTo: '/reset-password' });
    const reset = new URL((await smtp.waitFor('jay@example.com', { subject: /Reset your password/ })).link!);
    const token = new URL(String((await get(reset)).headers.location), PUBLIC_URL).searchParams.get('token')!;
    expect((await post(server.app, '/api/auth/reset-password', { token, newPassword: 'a new long passphrase' })).statusCode).toBe(200);
    const replay = await post(server.app, '/api/auth/reset-password', { token, newPassword: 'another long passphrase' });
    expect(replay.statusCode).toBe(400);
    expect(replay.json<{ message: string }>().message).toMatch(/invalid token/i);
    // A weak password on a valid link is a refusal of the password, not of the link.
    await post(server.app, '/api/auth/request-password-reset', { email: 'jay@example.com', redirectTo: '/reset-password' });
    const second = await smtp.waitFor('jay@example.com', { subject: /Reset your password/ });
    const secondLink = new URL(second.link!);
    const secondToken = new URL(String((await get(secondLink)).headers.location), PUBLIC_URL).searchParams.get('token')!;
    expect((await post(server.app, '/api/auth/reset-password', { token: secondToken, newPassword: 'short' })).statusCode).toBe(400);
    // Expired: the page gets ?error=INVALID_TOKEN as before; the event names the account.
    await server.container.database.db.updateTable('verifications').set({ expires_at: new Date(Date.now() - 60_000) }).where('value', '=', user.userId).execute();
    const expired = await get(secondLink);
    expect(String(expired.headers.location)).toMatch(/\/reset-password\?error=INVALID_TOKEN/);

    await post(server.app, '/api/auth/sign-in/magic-link', { email: 'jay@example.com', callbackURL: '/', errorCallbackURL: '/sign-in?magic=failed' });
    const magic = new URL((await smtp.waitFor('jay@example.com', { subject: /sign-in link/ })).link!);
    expect(new URL(String((await get(magic)).headers.location), PUBLIC_URL).pathname).toBe('/');
    const replayedMagic = await get(magic);
    expect(String(replayedMagic.headers.location)).toMatch(/\/sign-in\?magic=failed&error=INVALID_TOKEN/);

    const events = await auditEvents('auth.link_refused', since);
    expect(events.map((e) => [e.details, e.target_id])).toEqual([
      [{ flow: 'reset_password', code: 'INVALID_TOKEN' }, null],
      [{ flow: 'reset_password', code: 'INVALID_TOKEN', expired: true }, user.userId],
      [{ flow: 'magic_link', code: 'INVALID_TOKEN' }, null],
    ]);
    for (const secret of [token, secondToken, magic.searchParams.get('token')!, 'another long passphrase']) expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe('OAuth callbacks', () => {
  /** Starts an OIDC sign-in, walks the provider with a real HTTP client, and answers the callback to us. */
  async function signInThroughProvider(tamper: (callback: URL) => void = () => undefined) {
    const start = await server.app.inject({ method: 'POST', url: '/api/auth/sign-in/social', headers: json, payload: { provider: 'oidc', callbackURL: '/', errorCallbackURL: '/sign-in' } });
    expect(start.statusCode, start.body).toBe(200);
    let next = start.json<{ url: string }>().url;
    let idpCookies = '';
    for (let hop = 0; hop < 10 && !next.startsWith(REDIRECT_URI); hop++) {
      const res = await fetch(next, { redirect: 'manual', headers: idpCookies ? { cookie: idpCookies } : {} });
      idpCookies = mergeCookies(idpCookies, res.headers.getSetCookie());
      next = new URL(res.headers.get('location')!, next).toString();
    }
    const callback = new URL(next);
    tamper(callback);
    const done = await get(callback, { cookie: mergeCookies('', start.headers['set-cookie']), 'sec-fetch-site': 'cross-site' });
    return String(done.headers.location ?? '');
  }

  it('records a forged state, a wrong nonce, a mismatched issuer and an unlinked identity; the sign-in page gets the same error as before', async () => {
    const since = await latestId();
    idp.nextLogin = { sub: 'audit-state', email: 'audit-state@idp.test' };
    expect(await signInThroughProvider((cb) => cb.searchParams.set('state', 'forged-state'))).toMatch(/\/sign-in\?error=/);
    idp.nextLogin = { sub: 'audit-nonce', email: 'audit-nonce@idp.test' };
    idp.tamper = { nonce: 'not-the-one-we-sent' };
    try {
      expect(await signInThroughProvider()).toMatch(/\/sign-in\?error=/);
      idp.nextLogin = { sub: 'audit-iss', email: 'audit-iss@idp.test' };
      idp.tamper = { callbackIss: 'https://evil.example' };
      expect(await signInThroughProvider()).toMatch(/\/sign-in\?error=issuer_mismatch/);
    } finally {
      idp.tamper = {};
    }
    await signUp(server.app, 'kim@example.com');
    idp.nextLogin = { sub: 'audit-kim', email: 'kim@example.com' };
    expect(await signInThroughProvider()).toMatch(/\/sign-in\?error=account_not_linked/);
    // A sign-in that works is not an event.
    idp.nextLogin = { sub: 'audit-fine', email: 'audit-fine@idp.test' };
    expect(await signInThroughProvider()).toBe('/');

    const events = await auditEvents('auth.oauth_refused', since);
    expect(events).toHaveLength(4);
    expect(events.every((e) => e.actor_id === null && e.actor_ip === '203.0.113.9' && e.details.provider === 'oidc' && e.details.linking === false)).toBe(true);
    expect(events.map((e) => [e.details.code, e.details.reason])).toEqual([
      ['state_mismatch', undefined],
      // better-auth tells the sign-in page only that it could not read the user; the event says why.
      ['unable_to_get_user_info', 'id_token_rejected'],
      ['issuer_mismatch', undefined],
      ['account_not_linked', undefined],
    ]);
    expect(JSON.stringify(events)).not.toContain('kim@example.com');
  });

});

describe('second-factor codes', () => {
  it('records a wrong and a replayed TOTP code and a wrong recovery code, at sign-in and when turning 2FA off', async () => {
    const u = await signUp(server.app);
    const { totpURI, cookie, confirmCode } = await enableTwoFactor(server.app, u.cookie);
    const since = await latestId();
    const pending = cookiesOf(await signIn(server.app, u.email));
    const wrongCode = confirmCode === '000000' ? '111111' : '000000';
    expect((await post(server.app, '/api/auth/two-factor/verify-totp', { code: wrongCode }, pending)).statusCode).toBe(401);
    expect((await post(server.app, '/api/auth/two-factor/verify-totp', { code: confirmCode }, pending)).statusCode).toBe(401);
    expect((await post(server.app, '/api/auth/two-factor/verify-backup-code', { code: 'nope1-nope2' }, pending)).statusCode).toBe(401);
    expect((await post(server.app, '/api/auth/two-factor/disable', { password: 'correct horse battery staple', code: '12345' }, cookie)).statusCode).toBe(401);
    // The right code still signs in, and is not an event.
    expect((await post(server.app, '/api/auth/two-factor/verify-totp', { code: await totpCode(totpURI, 1) }, pending)).statusCode).toBe(200);

    const events = await auditEvents('auth.two_factor_refused', since);
    expect(events.map((e) => [e.target_id, e.actor_id, e.details])).toEqual([
      [u.userId, null, { method: 'totp', step: 'sign_in', code: 'INVALID_CODE' }],
      [u.userId, null, { method: 'totp', step: 'sign_in', code: 'CODE_ALREADY_USED' }],
      [u.userId, null, { method: 'recovery_code', step: 'sign_in', code: 'INVALID_BACKUP_CODE' }],
      [u.userId, u.userId, { method: 'totp_or_recovery_code', step: 'disable', code: 'INVALID_CODE' }],
    ]);
    expect(JSON.stringify(events)).not.toContain(confirmCode);
  });

  it('leaves password sign-in failures to the throttle (one auth.failure each, no second event)', async () => {
    const u = await signUp(server.app);
    const since = await latestId();
    expect((await signIn(server.app, u.email, 'wrong password!')).statusCode).toBe(401);
    expect((await auditEvents('auth.failure', since)).map((e) => e.details.kind)).toEqual(['password']);
    for (const action of ['auth.link_refused', 'auth.oauth_refused', 'auth.two_factor_refused']) expect(await auditEvents(action, since)).toEqual([]);
  });
});

describe('staff routes called without the permission', () => {
  it('answers as before (404 for non-staff, 403 naming the permission or asking for 2FA) and records actor, route, permission and reason', async () => {
    const since = await latestId();
    const outsider = await signUp(server.app);
    const support = await signUpStaff(server, 'support');
    const noTwoFactor = await signUpStaff(server, 'admin', { twoFactor: false });
    const call = (cookie: string) => server.app.inject({ method: 'GET', url: '/api/admin/engines', headers: studio(cookie), remoteAddress: '198.51.100.4' });

    const hidden = await call(outsider.cookie);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toMatchObject({ error: { code: 'not_found', message: 'No route for GET /api/admin/engines' } });
    const forbidden = await call(support.cookie);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { code: 'forbidden', details: { required_permission: 'engines.read' } } });
    expect((await call(noTwoFactor.cookie)).json()).toMatchObject({ error: { code: 'two_factor_required' } });
    await setTwoFactor(server, noTwoFactor.userId, true);
    expect((await call(noTwoFactor.cookie)).statusCode).toBe(200);

    const events = await auditEvents('staff.permission_denied', since);
    expect(events.map((e) => [e.actor_id, e.actor_ip, e.details])).toEqual([
      [outsider.userId, '198.51.100.4', { route: 'GET /api/admin/engines', permission: 'engines.read', reason: 'not_staff', roles: [] }],
      [support.userId, '198.51.100.4', { route: 'GET /api/admin/engines', permission: 'engines.read', reason: 'missing_permission', roles: ['support'] }],
      [noTwoFactor.userId, '198.51.100.4', { route: 'GET /api/admin/engines', permission: 'engines.read', reason: 'two_factor_required', roles: ['admin'] }],
    ]);
  });
});
