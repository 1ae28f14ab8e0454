import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { startFakeOidcProvider, type FakeOidcProvider } from '#test/fakes/oidc-provider.ts';
import { startFakeSmtp, type FakeSmtp } from '#test/fakes/smtp.ts';

const PUBLIC_URL = 'http://localhost:3000';
const REDIRECT_URI = `${PUBLIC_URL}/api/auth/callback/oidc`;
const json = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

let server: TestServer;
let smtp: FakeSmtp;
let idp: FakeOidcProvider;

beforeAll(async () => {
  [smtp, idp] = await Promise.all([startFakeSmtp(), startFakeOidcProvider({ redirectUri: REDIRECT_URI })]);
  server = await startTestServer({
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Atelier <mail@atelier.test>', OIDC_ISSUER: idp.url, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_NAME: 'Test SSO', MIN_AGE: '16', RATE_LIMIT_AUTH_PER_MINUTE: '1000' },
  });
});
afterAll(async () => {
  await server?.close();
  await Promise.all([smtp?.close(), idp?.close()]);
});

const cookiesOf = (setCookie: string | string[] | undefined) =>
  [setCookie]
    .flat()
    .filter((c): c is string => typeof c === 'string')
    .map((c) => c.split(';')[0]!);
const mergeCookies = (jar: string, setCookie: string | string[] | undefined) => {
  const map = new Map(jar ? jar.split('; ').map((c) => [c.split('=')[0]!, c] as const) : []);
  for (const c of cookiesOf(setCookie)) map.set(c.split('=')[0]!, c);
  return [...map.values()].filter((c) => !/=$/.test(c)).join('; ');
};

/** Starts an OIDC sign-in (or a link when `cookie` is a session), walks the provider with a real HTTP client, and returns the callback URL. */
async function throughProvider(cookie = '', path = '/api/auth/sign-in/social', body: Record<string, unknown> = { provider: 'oidc', callbackURL: '/', errorCallbackURL: '/sign-in' }) {
  const start = await server.app.inject({ method: 'POST', url: path, headers: { ...json, ...(cookie ? { cookie } : {}) }, payload: body });
  expect(start.statusCode, start.body).toBe(200);
  const jar = mergeCookies(cookie, start.headers['set-cookie']);
  let next = start.json<{ url: string }>().url;
  let idpCookies = '';
  for (let hop = 0; hop < 10 && !next.startsWith(REDIRECT_URI); hop++) {
    const res = await fetch(next, { redirect: 'manual', headers: idpCookies ? { cookie: idpCookies } : {} });
    idpCookies = mergeCookies(idpCookies, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (!location) throw new Error(`the provider answered ${res.status} without a redirect: ${await res.text()}`);
    next = new URL(location, next).toString();
  }
  expect(next.startsWith(REDIRECT_URI)).toBe(true);
  return { callback: new URL(next), jar };
}

async function finish(callback: URL, jar: string) {
  const res = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: jar, 'sec-fetch-site': 'cross-site' } });
  return { res, location: String(res.headers.location ?? ''), cookie: mergeCookies(jar, res.headers['set-cookie']) };
}

const userCount = async () => Number((await server.container.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('sign-in with an OpenID Connect provider', () => {
  it('lists the configured providers for the sign-in page', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/auth-providers' });
    expect(res.json()).toEqual({ social: [{ id: 'oidc', name: 'Test SSO', kind: 'oidc' }], magic_link: true, min_age: 16, smtp: true });
  });

  it('signs a new person in with PKCE, state and nonce; keeps (issuer, subject) and no provider tokens; asks for the age once', async () => {
    idp.nextLogin = { sub: 'oidc-alice', email: 'alice@idp.test', name: 'Alice' };
    const { callback, jar } = await throughProvider();
    const request = idp.authorizationRequests.at(-1)!;
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('nonce')).toBeTruthy();
    expect(request.get('state')).toBeTruthy();
    expect(request.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    const done = await finish(callback, jar);
    expect(done.location).toBe('/');
    const profile = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(done.cookie) });
    expect(profile.json()).toMatchObject({ email: 'alice@idp.test', name: 'Alice', age_confirmed: false, sign_in_methods: ['oidc'] });
    const account = await server.container.database.db.selectFrom('accounts').selectAll().where('provider_id', '=', 'oidc').where('account_id', '=', 'oidc-alice').executeTakeFirstOrThrow();
    expect(account).toMatchObject({ issuer: idp.url, access_token: null, refresh_token: null, id_token: null });
    // Until the age is confirmed, only the account's own settings work.
    const blocked = await server.app.inject({ method: 'GET', url: '/api/generations', headers: studio(done.cookie) });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ error: { code: 'age_confirmation_required' } });
    expect((await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: studio(done.cookie, { 'content-type': 'application/json' }), payload: { name: 'k', scopes: ['read'] } })).statusCode).toBe(403);
    const confirmed = await server.app.inject({ method: 'POST', url: '/api/me/confirm-age', headers: studio(done.cookie, { 'content-type': 'application/json' }), payload: { confirmed: true } });
    expect(confirmed.json()).toMatchObject({ age_confirmed: true });
    expect((await server.app.inject({ method: 'GET', url: '/api/generations', headers: studio(done.cookie) })).statusCode).toBe(200);
  });

  it('refuses a callback whose state was tampered with, and creates nobody', async () => {
    idp.nextLogin = { sub: 'oidc-bad-state', email: 'bad-state@idp.test' };
    const before = await userCount();
    const { callback, jar } = await throughProvider();
    callback.searchParams.set('state', 'forged-state');
    const done = await finish(callback, jar);
    expect(done.location).toMatch(/\/sign-in\?error=/);
    expect(await userCount()).toBe(before);
  });

  it('refuses an ID token with another nonce than the request', async () => {
    idp.nextLogin = { sub: 'oidc-bad-nonce', email: 'bad-nonce@idp.test' };
    idp.tamper = { nonce: 'not-the-one-we-sent' };
    const before = await userCount();
    try {
      const { callback, jar } = await throughProvider();
      const done = await finish(callback, jar);
      expect(done.location).toMatch(/\/sign-in\?error=/);
    } finally {
      idp.tamper = {};
    }
    expect(await userCount()).toBe(before);
  });

  it('refuses a response that names another issuer (RFC 9207 iss)', async () => {
    idp.nextLogin = { sub: 'oidc-bad-iss', email: 'bad-iss@idp.test' };
    idp.tamper = { callbackIss: 'https://evil.example' };
    const before = await userCount();
    try {
      const { callback, jar } = await throughProvider();
      const done = await finish(callback, jar);
      expect(done.location).toMatch(/\/sign-in\?error=issuer_mismatch/);
    } finally {
      idp.tamper = {};
    }
    expect(await userCount()).toBe(before);
  });

  it('does not sign in to an existing account with the same e-mail; its owner links it while signed in', async () => {
    const owner = await signUp(server.app, 'carol@example.com');
    idp.nextLogin = { sub: 'oidc-carol', email: 'carol@example.com', name: 'Carol' };
    const attempt = await throughProvider();
    const refused = await finish(attempt.callback, attempt.jar);
    expect(refused.location).toMatch(/\/sign-in\?error=account_not_linked/);
    expect(await server.container.database.db.selectFrom('accounts').select('id').where('account_id', '=', 'oidc-carol').execute()).toEqual([]);

    const link = await throughProvider(owner.cookie, '/api/auth/link-social', { provider: 'oidc', callbackURL: '/settings' });
    const linked = await finish(link.callback, link.jar);
    expect(linked.location).toBe('/settings');
    const profile = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(owner.cookie) });
    expect(profile.json<{ sign_in_methods: string[] }>().sign_in_methods.sort()).toEqual(['credential', 'oidc']);

    // Now the provider identity signs in to Carol's account.
    const again = await throughProvider();
    const signedIn = await finish(again.callback, again.jar);
    expect(signedIn.location).toBe('/');
    const me = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(signedIn.cookie) });
    expect(me.json()).toMatchObject({ id: owner.userId });
  });
});

describe('a provider whose issuer is not the configured one', () => {
  it('refuses the sign-in even though the token verifies against its own discovery document', async () => {
    const rogue = await startFakeOidcProvider({ redirectUri: REDIRECT_URI, issuer: 'https://issuer.elsewhere.test' });
    const other = await startTestServer({ env: { OIDC_ISSUER: rogue.url, OIDC_CLIENT_ID: rogue.clientId, OIDC_CLIENT_SECRET: rogue.clientSecret } });
    try {
      rogue.nextLogin = { sub: 'rogue-1', email: 'rogue@idp.test' };
      const start = await other.app.inject({ method: 'POST', url: '/api/auth/sign-in/social', headers: json, payload: { provider: 'oidc', callbackURL: '/' } });
      let next = start.json<{ url: string }>().url;
      let cookies = '';
      while (!next.startsWith(REDIRECT_URI)) {
        const res = await fetch(next, { redirect: 'manual', headers: cookies ? { cookie: cookies } : {} });
        cookies = mergeCookies(cookies, res.headers.getSetCookie());
        next = new URL(res.headers.get('location')!, next).toString();
      }
      const url = new URL(next);
      const done = await other.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, headers: { cookie: mergeCookies('', start.headers['set-cookie']) } });
      expect(String(done.headers.location)).toBe('http://localhost:3000/sign-in?error=unable_to_get_user_info');
      expect(await other.container.database.db.selectFrom('users').select('id').execute()).toEqual([]);
      // The refusal is audited, with the reason the sign-in page is not told.
      const rows = await other.container.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.oauth_refused').execute();
      expect(rows.map((r) => r.details)).toEqual([{ provider: 'oidc', code: 'unable_to_get_user_info', reason: 'id_token_issuer_mismatch', linking: false }]);
    } finally {
      await other.close();
      await rogue.close();
    }
  });
});

describe('e-mail flows over SMTP', () => {
  it('refuses a sign-up without the age confirmation, a common password and a malformed e-mail, each with a clear message', async () => {
    const signUpWith = (payload: Record<string, unknown>) => server.app.inject({ method: 'POST', url: '/api/auth/sign-up/email', headers: json, payload: { name: 'N', ...payload } });
    const noAge = await signUpWith({ email: 'young@example.com', password: 'correct horse battery staple' });
    expect(noAge.statusCode).toBe(400);
    expect(noAge.json<{ message: string }>().message).toMatch(/at least 16 years old/);
    const common = await signUpWith({ email: 'weak@example.com', password: 'password123', ageConfirmed: true });
    expect(common.statusCode).toBe(400);
    expect(common.json<{ message: string }>().message).toMatch(/common or breached/);
    const malformed = await signUpWith({ email: 'not-an-email', password: 'correct horse battery staple', ageConfirmed: true });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json<{ message: string }>().message).toMatch(/email/i);
  });

  it('sends a verification mail on sign-up whose link verifies the address once', async () => {
    const user = await signUp(server.app, 'dora@example.com');
    const mail = await smtp.waitFor('dora@example.com', { subject: /Confirm your e-mail/ });
    expect(mail.from).toBe('mail@atelier.test');
    expect(mail.link).toMatch(/^http:\/\/localhost:3000\/api\/auth\/verify-email\?token=/);
    const before = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(user.cookie) });
    expect(before.json()).toMatchObject({ email_verified: false });
    const link = new URL(mail.link!);
    const res = await server.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(res.statusCode).toBeLessThan(400);
    const after = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(user.cookie) });
    expect(after.json()).toMatchObject({ email_verified: true });
    const forged = await server.app.inject({ method: 'GET', url: `${link.pathname}?token=${link.searchParams.get('token')!.slice(0, -2)}xx` });
    expect(forged.statusCode).toBe(401);
  });

  it('resets a password through the mailed link once, signs out other sessions, and answers unknown e-mails the same', async () => {
    const user = await signUp(server.app, 'erin@example.com');
    await smtp.waitFor('erin@example.com', { subject: /Confirm/ });
    const ask = (email: string) => server.app.inject({ method: 'POST', url: '/api/auth/request-password-reset', headers: json, payload: { email, redirectTo: '/reset-password' } });
    const known = await ask('erin@example.com');
    const unknown = await ask('nobody-here@example.com');
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(known.statusCode);
    expect(unknown.body).toBe(known.body);

    const mail = await smtp.waitFor('erin@example.com', { subject: /Reset your password/ });
    const link = new URL(mail.link!);
    const opened = await server.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    const landing = new URL(String(opened.headers.location), PUBLIC_URL);
    expect(landing.pathname).toBe('/reset-password');
    const token = landing.searchParams.get('token')!;
    const reset = (newPassword: string) => server.app.inject({ method: 'POST', url: '/api/auth/reset-password', headers: json, payload: { token, newPassword } });
    const weak = await reset('qwertyuiop');
    expect(weak.statusCode).toBe(400);
    expect((await reset('a new long passphrase')).statusCode).toBe(200);
    const replay = await reset('another long passphrase');
    expect(replay.statusCode).toBe(400);
    expect(replay.json<{ message: string }>().message).toMatch(/invalid token/i);
    // The old session is gone; the new password signs in.
    expect((await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(user.cookie) })).statusCode).toBe(401);
    const signIn = await server.app.inject({ method: 'POST', url: '/api/auth/sign-in/email', headers: json, payload: { email: 'erin@example.com', password: 'a new long passphrase' } });
    expect(signIn.statusCode).toBe(200);
    expect(smtp.messages.some((m) => m.to.includes('nobody-here@example.com'))).toBe(false);
  });

  it('signs in with a magic link once; a replayed link is refused; unknown e-mails get the same answer and no mail', async () => {
    await signUp(server.app, 'fred@example.com');
    const ask = (email: string) => server.app.inject({ method: 'POST', url: '/api/auth/sign-in/magic-link', headers: json, payload: { email, callbackURL: '/', errorCallbackURL: '/sign-in?magic=failed' } });
    const known = await ask('fred@example.com');
    const unknown = await ask('ghost@example.com');
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.body).toBe(known.body);
    const mail = await smtp.waitFor('fred@example.com', { subject: /sign-in link/ });
    const link = new URL(mail.link!);
    const first = await server.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(new URL(String(first.headers.location), PUBLIC_URL).pathname).toBe('/');
    const cookie = mergeCookies('', first.headers['set-cookie']);
    expect((await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(cookie) })).json()).toMatchObject({ email: 'fred@example.com' });
    const replay = await server.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(String(replay.headers.location)).toMatch(/\/sign-in\?magic=failed&error=INVALID_TOKEN/);
    expect(smtp.messages.some((m) => m.to.includes('ghost@example.com'))).toBe(false);
  });
});

describe('expired links', () => {
  it('refuses an expired reset link and an expired sign-in link with a message to ask for a new one', async () => {
    await signUp(server.app, 'hal@example.com');
    await server.app.inject({ method: 'POST', url: '/api/auth/request-password-reset', headers: json, payload: { email: 'hal@example.com', redirectTo: '/reset-password' } });
    await server.app.inject({ method: 'POST', url: '/api/auth/sign-in/magic-link', headers: json, payload: { email: 'hal@example.com', callbackURL: '/', errorCallbackURL: '/sign-in?magic=failed' } });
    const reset = new URL((await smtp.waitFor('hal@example.com', { subject: /Reset your password/ })).link!);
    const magic = new URL((await smtp.waitFor('hal@example.com', { subject: /sign-in link/ })).link!);
    await server.container.database.db.updateTable('verifications').set({ expires_at: new Date(Date.now() - 60_000) }).execute();
    const openedReset = await server.app.inject({ method: 'GET', url: `${reset.pathname}${reset.search}` });
    expect(String(openedReset.headers.location)).toMatch(/\/reset-password\?error=INVALID_TOKEN/);
    const openedMagic = await server.app.inject({ method: 'GET', url: `${magic.pathname}${magic.search}` });
    expect(String(openedMagic.headers.location)).toMatch(/\/sign-in\?magic=failed&error=(INVALID_TOKEN|EXPIRED_TOKEN)/);
    expect(openedMagic.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^atelier\.session_token=[^;]+/)]));
  });
});

describe('profile', () => {
  it('renames, and keeps an avatar re-encoded as a 256 px square that only its owner can fetch', async () => {
    const user = await signUp(server.app);
    const other = await signUp(server.app);
    const renamed = await server.app.inject({ method: 'PATCH', url: '/api/me', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { name: '  Ada L.  ' } });
    expect(renamed.json()).toMatchObject({ name: 'Ada L.' });
    const { default: sharp } = await import('sharp');
    const png = await sharp({ create: { width: 640, height: 400, channels: 3, background: '#3366cc' } }).png().withExif({ IFD0: { Artist: 'secret' } }).toBuffer();
    const boundary = 'avatarboundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="me.png"\r\ncontent-type: image/png\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const put = await server.app.inject({ method: 'POST', url: '/api/me/avatar', headers: studio(user.cookie, { 'content-type': `multipart/form-data; boundary=${boundary}` }), payload: body });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ has_avatar: true });
    const got = await server.app.inject({ method: 'GET', url: '/api/me/avatar', headers: studio(user.cookie) });
    expect(got.headers['content-type']).toBe('image/webp');
    const meta = await sharp(got.rawPayload).metadata();
    expect({ width: meta.width, height: meta.height, exif: meta.exif }).toEqual({ width: 256, height: 256, exif: undefined });
    expect((await server.app.inject({ method: 'GET', url: '/api/me/avatar', headers: studio(other.cookie) })).statusCode).toBe(404);
    const svg = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="x.svg"\r\ncontent-type: image/png\r\n\r\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\r\n--${boundary}--\r\n`);
    expect((await server.app.inject({ method: 'POST', url: '/api/me/avatar', headers: studio(user.cookie, { 'content-type': `multipart/form-data; boundary=${boundary}` }), payload: svg })).statusCode).toBe(415);
  });
});
