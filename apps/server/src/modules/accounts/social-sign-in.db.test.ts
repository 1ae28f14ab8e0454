import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { routeHostsToFakes, UnroutedHostError, type RoutedHosts } from '#test/support/tls-hosts.ts';
import { GOOGLE_ISSUER, startFakeGoogle, type FakeGoogle, type GoogleTamper } from '#test/fakes/fake-google.ts';
import { startFakeGithub, type FakeGithub } from '#test/fakes/fake-github.ts';

/**
 * "Continue with Google" and "Continue with GitHub" through better-auth's built-in providers, whose
 * endpoints are hard-coded: fake Google and GitHub servers answer for the real host names over TLS,
 * routed inside this process by tls-hosts.ts. The browser's part is played by a real HTTP client.
 */
const PUBLIC_URL = 'http://localhost:3000';
const CALLBACK = { google: `${PUBLIC_URL}/api/auth/callback/google`, github: `${PUBLIC_URL}/api/auth/callback/github` } as const;
type ProviderId = keyof typeof CALLBACK;
const json = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

let server: TestServer;
let google: FakeGoogle;
let github: FakeGithub;
let routed: RoutedHosts;

beforeAll(async () => {
  [google, github] = await Promise.all([startFakeGoogle({ redirectUris: [CALLBACK.google] }), startFakeGithub({ callbackUrl: CALLBACK.github })]);
  routed = await routeHostsToFakes([google, github]);
  server = await startTestServer({
    env: {
      GOOGLE_CLIENT_ID: google.clientId,
      GOOGLE_CLIENT_SECRET: google.clientSecret,
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      MIN_AGE: '16',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await server?.close();
  await routed?.restore();
  await Promise.all([google?.close(), github?.close()]);
});

const mergeCookies = (jar: string, setCookie: string | string[] | undefined | null) => {
  const map = new Map(jar ? jar.split('; ').map((c) => [c.split('=')[0]!, c] as const) : []);
  for (const line of [setCookie].flat()) {
    if (typeof line !== 'string') continue;
    const pair = line.split(';')[0]!;
    map.set(pair.split('=')[0]!, pair);
  }
  return [...map.values()].filter((c) => !/=$/.test(c)).join('; ');
};

/** Starts a sign-in (or a link when `cookie` is a session), follows the provider's redirects with a real HTTP client, and returns the callback URL. */
async function throughProvider(provider: ProviderId, opts: { cookie?: string; link?: boolean } = {}) {
  const cookie = opts.cookie ?? '';
  const [url, payload] = opts.link
    ? ['/api/auth/link-social', { provider, callbackURL: '/settings', errorCallbackURL: '/settings' }]
    : ['/api/auth/sign-in/social', { provider, callbackURL: '/', errorCallbackURL: '/sign-in' }];
  const start = await server.app.inject({ method: 'POST', url, headers: { ...json, ...(cookie ? { cookie } : {}) }, payload });
  expect(start.statusCode, start.body).toBe(200);
  const jar = mergeCookies(cookie, start.headers['set-cookie']);
  let next = start.json<{ url: string }>().url;
  const authorizeUrl = new URL(next);
  for (let hop = 0; hop < 5 && !next.startsWith(CALLBACK[provider]); hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) throw new Error(`${provider} answered ${res.status} without a redirect: ${await res.text()}`);
    next = new URL(location, next).toString();
  }
  expect(next.startsWith(CALLBACK[provider])).toBe(true);
  return { authorizeUrl, callback: new URL(next), jar };
}

/** The browser arriving back at our callback with its cookies. */
async function finish(callback: URL, jar: string) {
  const res = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: jar, 'sec-fetch-site': 'cross-site' } });
  return { res, location: String(res.headers.location ?? ''), cookie: mergeCookies(jar, res.headers['set-cookie']) };
}

async function signInWith(provider: ProviderId) {
  const { callback, jar } = await throughProvider(provider);
  return finish(callback, jar);
}

const db = () => server.container.database.db;
const userCount = async () => Number((await db().selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const accountsOf = (providerId: string, accountId: string) => db().selectFrom('accounts').selectAll().where('provider_id', '=', providerId).where('account_id', '=', accountId).execute();
const profileOf = async (cookie: string) => {
  const res = await server.app.inject({ method: 'GET', url: '/api/me/profile', headers: studio(cookie) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ id: string; email: string; name: string; email_verified: boolean; age_confirmed: boolean; sign_in_methods: string[] }>();
};
const generationsStatus = async (cookie: string) => (await server.app.inject({ method: 'GET', url: '/api/generations', headers: studio(cookie) })).statusCode;

describe('routing the providers’ host names to the fakes', () => {
  it('sends Google’s and GitHub’s hosts to the fakes through the global fetch, over TLS trusted for those names only', async () => {
    const certs = await fetch('https://www.googleapis.com/oauth2/v3/certs');
    expect(certs.status).toBe(200);
    expect((await certs.json()) as unknown).toMatchObject({ keys: [expect.objectContaining({ kty: 'RSA', alg: 'RS256' })] });
    const user = await fetch('https://api.github.com/user', { headers: { 'user-agent': 'test' } });
    expect(user.status).toBe(401);
    expect(await user.json()).toMatchObject({ message: 'Requires authentication' });
    // The same fake, reached by its address instead of a routed name: its certificate is not trusted.
    await expect(fetch(`https://127.0.0.1:${google.port}/`)).rejects.toThrow();
  });

  it('refuses a Google or GitHub host that no fake serves instead of reaching the real one, and lets other hosts through', async () => {
    for (const url of ['https://www.google.com/', 'https://gist.github.com/', 'https://avatars.githubusercontent.com/u/1', 'https://fonts.gstatic.com/']) {
      const error = await fetch(url).then(
        () => null,
        (e: unknown) => e,
      );
      expect((error as { cause?: unknown } | null)?.cause, url).toBeInstanceOf(UnroutedHostError);
    }
    const plain = http.createServer((_req, res) => res.end('loopback'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      expect(await (await fetch(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`)).text()).toBe('loopback');
    } finally {
      plain.close();
    }
  });

  it('puts back the dispatcher it replaced', async () => {
    const inner = await routeHostsToFakes([]);
    const refused = await fetch('https://www.googleapis.com/oauth2/v3/certs').catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(refused).toBeInstanceOf(UnroutedHostError);
    await inner.restore();
    expect((await fetch('https://www.googleapis.com/oauth2/v3/certs')).status).toBe(200);
  });

  it('has the fake GitHub answer its token endpoint with a form unless JSON is asked for, errors with status 200, like GitHub', async () => {
    const ask = (accept?: string) =>
      fetch('https://github.com/login/oauth/access_token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(accept ? { accept } : {}) },
        body: new URLSearchParams({ client_id: github.clientId, client_secret: 'wrong', code: 'nope' }),
      });
    const form = await ask();
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    expect(new URLSearchParams(await form.text()).get('error')).toBe('incorrect_client_credentials');
    const asJson = await ask('application/json');
    expect(await asJson.json()).toMatchObject({ error: 'incorrect_client_credentials' });
  });
});

describe('the sign-in page', () => {
  it('offers Continue with Google and Continue with GitHub when both are configured', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/auth-providers' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ social: unknown[] }>().social).toEqual([
      { id: 'google', name: 'Google', kind: 'google' },
      { id: 'github', name: 'GitHub', kind: 'github' },
    ]);
  });
});

describe('Continue with Google', () => {
  it('signs a new person in with PKCE, state and nonce; keeps the minimal profile and (issuer, subject), no provider tokens; asks for the age once; the next sign-in reuses the account', async () => {
    google.nextLogin = { sub: '110248495921238986420', email: 'ada@gmail.com', name: 'Ada Lovelace', picture: 'https://lh3.googleusercontent.com/a/ada=s96-c' };
    const before = await userCount();
    const { authorizeUrl, callback, jar } = await throughProvider('google');
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    const request = google.authorizationRequests.at(-1)!;
    expect(request.get('client_id')).toBe(google.clientId);
    expect(request.get('redirect_uri')).toBe(CALLBACK.google);
    expect(request.get('response_type')).toBe('code');
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('state')).toBeTruthy();
    expect(request.get('nonce')).toBeTruthy();
    expect(request.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));

    const done = await finish(callback, jar);
    expect(done.location).toBe('/');
    expect(google.tokenRequests.at(-1)).toMatchObject({ status: 200 });
    expect(google.issuedIdTokens.at(-1)).toMatchObject({ nonce: request.get('nonce') });
    expect(await userCount()).toBe(before + 1);
    const profile = await profileOf(done.cookie);
    expect(profile).toMatchObject({ email: 'ada@gmail.com', name: 'Ada Lovelace', email_verified: true, age_confirmed: false, sign_in_methods: ['google'] });
    const user = await db().selectFrom('users').select(['image']).where('id', '=', profile.id).executeTakeFirstOrThrow();
    expect(user.image).toBe('https://lh3.googleusercontent.com/a/ada=s96-c');
    const accounts = await accountsOf('google', '110248495921238986420');
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ user_id: profile.id, issuer: GOOGLE_ISSUER, access_token: null, refresh_token: null, id_token: null, access_token_expires_at: null, refresh_token_expires_at: null });

    // Until the age is confirmed, only the account's own settings work.
    expect(await generationsStatus(done.cookie)).toBe(403);
    const confirmed = await server.app.inject({ method: 'POST', url: '/api/me/confirm-age', headers: studio(done.cookie, { 'content-type': 'application/json' }), payload: { confirmed: true } });
    expect(confirmed.json()).toMatchObject({ age_confirmed: true });
    expect(await generationsStatus(done.cookie)).toBe(200);

    const again = await signInWith('google');
    expect(again.location).toBe('/');
    expect(again.cookie).not.toBe(done.cookie);
    expect(await profileOf(again.cookie)).toMatchObject({ id: profile.id, age_confirmed: true });
    expect(await generationsStatus(again.cookie)).toBe(200);
    expect(await userCount()).toBe(before + 1);
    expect(await accountsOf('google', '110248495921238986420')).toHaveLength(1);
  });

  it('refuses a callback whose state was tampered with, and creates nobody', async () => {
    google.nextLogin = { sub: '200000000000000000001', email: 'bad-state@gmail.com' };
    const before = await userCount();
    const { callback, jar } = await throughProvider('google');
    callback.searchParams.set('state', 'forged-state');
    const done = await finish(callback, jar);
    expect(done.location).toMatch(/\/sign-in\?error=/);
    expect(done.cookie).not.toMatch(/atelier\.session_token=/);
    expect(await userCount()).toBe(before);
    // The code was never exchanged.
    expect(google.tokenRequests.filter((t) => t.form.get('code') === callback.searchParams.get('code'))).toEqual([]);
  });

  const tampered: [string, GoogleTamper][] = [
    ['another nonce than the request’s', { nonce: 'not-the-nonce-we-sent' }],
    ['another audience (a token Google issued to some other app)', { aud: 'someone-else.apps.googleusercontent.com' }],
    ['another issuer', { iss: 'https://accounts.evil.example' }],
    ['a signature by a key that is not Google’s', { foreignKey: true }],
    ['an expiry in the past', { expired: true }],
  ];
  it.each(tampered)('refuses an ID token with %s, and creates nobody', async (_what, tamper) => {
    google.nextLogin = { sub: '300000000000000000001', email: 'tampered@gmail.com' };
    const before = await userCount();
    google.tamper = tamper;
    try {
      const done = await signInWith('google');
      expect(google.tokenRequests.at(-1)).toMatchObject({ status: 200 });
      expect(done.location).toMatch(/\/sign-in\?error=/);
      expect(done.cookie).not.toMatch(/atelier\.session_token=/);
    } finally {
      google.tamper = {};
    }
    expect(await userCount()).toBe(before);
    expect(await db().selectFrom('users').select('id').where('email', '=', 'tampered@gmail.com').execute()).toEqual([]);
  });

  it('creates no account for a Google identity whose e-mail Google has not verified', async () => {
    google.nextLogin = { sub: '600000000000000000001', email: 'unverified@example.org', email_verified: false };
    const before = await userCount();
    const done = await signInWith('google');
    expect(done.location).toMatch(/\/sign-in\?error=email_not_verified/);
    expect(await userCount()).toBe(before);
    expect(await accountsOf('google', '600000000000000000001')).toEqual([]);
  });

  it('does not accept an ID token posted by a client instead of going through the redirect flow', async () => {
    const before = await userCount();
    // Genuine, for our client id: better-auth would verify it and sign its holder in, nonce or not.
    const token = await google.signIdToken({ sub: '700000000000000000001', email: 'posted@gmail.com', name: 'Posted' });
    const res = await server.app.inject({ method: 'POST', url: '/api/auth/sign-in/social', headers: json, payload: { provider: 'google', callbackURL: '/', idToken: { token } } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ID_TOKEN_NOT_SUPPORTED' });
    expect(res.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^atelier\.session_token=[^;]+/)]));
    expect(await userCount()).toBe(before);
  });

  it('refuses a code that was already exchanged, whether the whole callback is replayed or the old code is slipped into a new sign-in', async () => {
    google.nextLogin = { sub: '400000000000000000001', email: 'grace@gmail.com', name: 'Grace' };
    const first = await throughProvider('google');
    expect((await finish(first.callback, first.jar)).location).toBe('/');
    const users = await userCount();

    const replay = await finish(first.callback, first.jar);
    expect(replay.location).toMatch(/\/sign-in\?error=/);

    const second = await throughProvider('google');
    second.callback.searchParams.set('code', first.callback.searchParams.get('code')!);
    const spliced = await finish(second.callback, second.jar);
    expect(spliced.location).toMatch(/\/sign-in\?error=/);
    expect(spliced.cookie).not.toMatch(/atelier\.session_token=/);
    expect(google.tokenRequests.at(-1)).toMatchObject({ status: 400 });
    expect(await userCount()).toBe(users);
  });
});

describe('Continue with GitHub', () => {
  it('signs a new person in with the primary verified e-mail when the public one is hidden; keeps (issuer, numeric id), no token; asks for the age once; the next sign-in reuses the account', async () => {
    github.nextLogin = {
      id: 583231,
      login: 'octocat',
      name: 'The Octocat',
      email: null,
      avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
      emails: [
        { email: 'old@octo.example', primary: false, verified: true },
        { email: 'octocat@octo.example', primary: true, verified: true },
        { email: 'unconfirmed@octo.example', primary: false, verified: false },
      ],
    };
    const before = await userCount();
    const { authorizeUrl, callback, jar } = await throughProvider('github');
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe('https://github.com/login/oauth/authorize');
    const request = github.authorizationRequests.at(-1)!;
    expect(request.get('client_id')).toBe(github.clientId);
    expect(request.get('redirect_uri')).toBe(CALLBACK.github);
    expect(request.get('state')).toBeTruthy();
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['read:user', 'user:email']));

    const done = await finish(callback, jar);
    expect(done.location).toBe('/');
    expect(github.tokenRequests.at(-1)).toMatchObject({ issued: true, accept: expect.stringContaining('application/json') });
    expect(github.apiCalls.slice(-2)).toEqual([
      { path: '/user', status: 200 },
      { path: '/user/emails', status: 200 },
    ]);
    const profile = await profileOf(done.cookie);
    expect(profile).toMatchObject({ email: 'octocat@octo.example', name: 'The Octocat', email_verified: true, age_confirmed: false, sign_in_methods: ['github'] });
    const user = await db().selectFrom('users').select(['image']).where('id', '=', profile.id).executeTakeFirstOrThrow();
    expect(user.image).toBe('https://avatars.githubusercontent.com/u/583231?v=4');
    const accounts = await accountsOf('github', '583231');
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ user_id: profile.id, issuer: 'https://github.com', access_token: null, refresh_token: null, id_token: null, access_token_expires_at: null });

    expect(await generationsStatus(done.cookie)).toBe(403);
    await server.app.inject({ method: 'POST', url: '/api/me/confirm-age', headers: studio(done.cookie, { 'content-type': 'application/json' }), payload: { confirmed: true } });
    expect(await generationsStatus(done.cookie)).toBe(200);

    const again = await signInWith('github');
    expect(again.location).toBe('/');
    expect(await profileOf(again.cookie)).toMatchObject({ id: profile.id, age_confirmed: true });
    expect(await userCount()).toBe(before + 1);
    expect(await accountsOf('github', '583231')).toHaveLength(1);
  });

  it('uses the public e-mail when the profile shows one', async () => {
    github.nextLogin = { id: 9001, login: 'public-pat', name: null, email: 'pat@public.example', emails: [{ email: 'pat@public.example', primary: true, verified: true }] };
    const done = await signInWith('github');
    expect(done.location).toBe('/');
    // No display name on GitHub: the login stands in.
    expect(await profileOf(done.cookie)).toMatchObject({ email: 'pat@public.example', name: 'public-pat', email_verified: true });
  });

  it('refuses a callback whose state was tampered with, and a reused code', async () => {
    github.nextLogin = { id: 7007, login: 'replayer', name: 'Re Player', email: null, emails: [{ email: 'replayer@octo.example', primary: true, verified: true }] };
    const before = await userCount();
    const forged = await throughProvider('github');
    forged.callback.searchParams.set('state', 'forged-state');
    expect((await finish(forged.callback, forged.jar)).location).toMatch(/\/sign-in\?error=/);
    expect(await userCount()).toBe(before);

    const first = await throughProvider('github');
    expect((await finish(first.callback, first.jar)).location).toBe('/');
    const second = await throughProvider('github');
    second.callback.searchParams.set('code', first.callback.searchParams.get('code')!);
    const spliced = await finish(second.callback, second.jar);
    expect(spliced.location).toMatch(/\/sign-in\?error=/);
    expect(spliced.cookie).not.toMatch(/atelier\.session_token=/);
    expect(github.tokenRequests.at(-1)).toMatchObject({ issued: false });
    expect(await userCount()).toBe(before + 1);
  });

  it('creates no account for an identity whose only e-mail GitHub has not verified (anyone can add any address there)', async () => {
    github.nextLogin = { id: 6006, login: 'squatter', name: 'Squatter', email: null, emails: [{ email: 'victim@victim.example', primary: true, verified: false }] };
    const before = await userCount();
    const done = await signInWith('github');
    expect(done.location).toMatch(/\/sign-in\?error=email_not_verified/);
    expect(done.cookie).not.toMatch(/atelier\.session_token=/);
    expect(await userCount()).toBe(before);
    expect(await db().selectFrom('users').select('id').where('email', '=', 'victim@victim.example').execute()).toEqual([]);
    expect(await accountsOf('github', '6006')).toEqual([]);
  });
});

describe('no implicit linking', () => {
  it.each(['google', 'github'] as const)('a %s identity with the e-mail of an existing password account does not sign in to it; its owner links it while signed in', async (provider) => {
    const email = `linda-${provider}@example.com`;
    const owner = await signUp(server.app, email);
    if (provider === 'google') google.nextLogin = { sub: '500000000000000000001', email, name: 'Linda' };
    else github.nextLogin = { id: 5005, login: 'linda', name: 'Linda', email: null, emails: [{ email, primary: true, verified: true }] };
    const subject = provider === 'google' ? '500000000000000000001' : '5005';
    const users = await userCount();

    const refused = await signInWith(provider);
    expect(refused.location).toMatch(/\/sign-in\?error=account_not_linked/);
    expect(refused.cookie).not.toMatch(/atelier\.session_token=/);
    expect(await accountsOf(provider, subject)).toEqual([]);
    expect(await userCount()).toBe(users);

    const link = await throughProvider(provider, { cookie: owner.cookie, link: true });
    const linked = await finish(link.callback, link.jar);
    expect(linked.location).toBe('/settings');
    expect((await profileOf(owner.cookie)).sign_in_methods.sort()).toEqual(['credential', provider]);
    expect(await accountsOf(provider, subject)).toEqual([expect.objectContaining({ user_id: owner.userId, issuer: provider === 'google' ? GOOGLE_ISSUER : 'https://github.com', access_token: null, id_token: null })]);

    const again = await signInWith(provider);
    expect(again.location).toBe('/');
    expect(await profileOf(again.cookie)).toMatchObject({ id: owner.userId });
    expect(await userCount()).toBe(users);
  });
});
