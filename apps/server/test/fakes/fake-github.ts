import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basicCredentials, hostOf, readBody, redirect, s256, sendJson, startHttpsFake, type HttpsFake } from './https-loopback.ts';

/**
 * GitHub's OAuth app web flow and the two REST endpoints a sign-in reads, on loopback under their real
 * host names (route them with test/support/tls-hosts.ts):
 *
 * - GET  https://github.com/login/oauth/authorize     — no consent screen: `nextLogin` authorizes at once
 * - POST https://github.com/login/oauth/access_token  — JSON when `Accept: application/json`, else a form
 *                                                       body, like GitHub; errors come back with status 200
 * - GET  https://api.github.com/user                  — the profile; `email` is the *public* one, often null
 * - GET  https://api.github.com/user/emails           — needs the user:email (or user) scope
 *
 * Codes are one-use and expire after 10 minutes (GitHub's `bad_verification_code` otherwise). PKCE is
 * checked when the authorization request carried a challenge (GitHub accepts S256 only). The API wants
 * `Authorization: Bearer|token <token>` and a User-Agent, and answers with GitHub's
 * `{ message, documentation_url, status }` errors.
 */
export const GITHUB_HOSTS = ['github.com', 'api.github.com'] as const;

export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility?: 'public' | 'private' | null;
}

export interface GithubPerson {
  id: number;
  login: string;
  name: string | null;
  /** The public e-mail shown on the profile (GitHub only allows a verified one); null when hidden. */
  email: string | null;
  emails: GithubEmail[];
  avatar_url?: string;
}

export interface FakeGithub extends HttpsFake {
  clientId: string;
  clientSecret: string;
  /** The OAuth app's callback URL. */
  callbackUrl: string;
  nextLogin: GithubPerson;
  authorizationRequests: URLSearchParams[];
  /** Token requests (their parameters), the Accept header, and whether a token was issued. */
  tokenRequests: { params: URLSearchParams; accept: string; issued: boolean }[];
  /** API calls: path and whether the token was accepted. */
  apiCalls: { path: string; status: number }[];
}

interface PendingCode {
  redirectUri: string;
  challenge: string | null;
  scope: string[];
  person: GithubPerson;
  expiresAt: number;
  used: boolean;
}

const CODE_TTL_MS = 10 * 60_000;
const KNOWN_SCOPES = new Set(['read:user', 'user:email', 'user', 'user:follow', 'public_repo', 'repo']);
const DOCS = 'https://docs.github.com/rest';

export async function startFakeGithub(opts: { callbackUrl: string; clientId?: string; clientSecret?: string }): Promise<FakeGithub> {
  const codes = new Map<string, PendingCode>();
  const tokens = new Map<string, { person: GithubPerson; scope: string[] }>();

  const authorize = (res: ServerResponse, q: URLSearchParams) => {
    fake.authorizationRequests.push(new URLSearchParams(q));
    if (q.get('client_id') !== fake.clientId) return page(res, 404, 'Not Found');
    const state = q.get('state');
    const back = (to: string, params: Record<string, string>) => {
      const url = new URL(to);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (state !== null) url.searchParams.set('state', state);
      redirect(res, url.toString());
    };
    const redirectUri = q.get('redirect_uri') ?? fake.callbackUrl;
    // GitHub sends a mismatching redirect_uri's error to the app's registered callback, never to the given one.
    if (!isWithinCallback(redirectUri, fake.callbackUrl)) {
      return back(fake.callbackUrl, { error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.' });
    }
    const challenge = q.get('code_challenge');
    if (challenge !== null && (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))) {
      return back(redirectUri, { error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    }
    const scope = [...new Set((q.get('scope') ?? '').split(/[\s,]+/).filter((s) => KNOWN_SCOPES.has(s)))];
    const code = randomBytes(10).toString('hex');
    codes.set(code, { redirectUri, challenge, scope, person: structuredClone(fake.nextLogin), expiresAt: Date.now() + CODE_TTL_MS, used: false });
    back(redirectUri, { code });
  };

  const accessToken = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const raw = await readBody(req);
    const params = new URLSearchParams(url.searchParams);
    if (/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      for (const [k, v] of Object.entries(JSON.parse(raw || '{}') as Record<string, unknown>)) if (typeof v === 'string') params.set(k, v);
    } else {
      for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
    }
    const accept = req.headers.accept ?? '';
    const answer = (body: Record<string, string>, issued = false) => {
      fake.tokenRequests.push({ params, accept, issued });
      if (/application\/json/i.test(accept)) return sendJson(res, 200, body);
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'cache-control': 'no-store' });
      res.end(new URLSearchParams(body).toString());
    };
    const basic = basicCredentials(req);
    const clientId = basic?.id ?? params.get('client_id');
    const clientSecret = basic?.secret ?? params.get('client_secret');
    if (clientId !== fake.clientId || clientSecret !== fake.clientSecret) {
      return answer({ error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.', error_uri: `${DOCS}/oauth#incorrect-client-credentials` });
    }
    const badCode = () =>
      answer({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code' });
    const pending = codes.get(params.get('code') ?? '');
    if (!pending || pending.used || pending.expiresAt < Date.now()) return badCode();
    pending.used = true;
    const redirectUri = params.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== pending.redirectUri) {
      return answer({ error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.', error_uri: `${DOCS}/oauth#redirect-uri-mismatch2` });
    }
    if (pending.challenge !== null && s256(params.get('code_verifier') ?? '') !== pending.challenge) return badCode();
    const token = `gho_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    tokens.set(token, { person: pending.person, scope: pending.scope });
    answer({ access_token: token, token_type: 'bearer', scope: pending.scope.join(',') }, true);
  };

  const api = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const fail = (status: number, message: string) => {
      fake.apiCalls.push({ path, status });
      sendJson(res, status, { message, documentation_url: `${DOCS}/users/users`, status: String(status) });
    };
    if (!req.headers['user-agent']) return fail(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.');
    const presented = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!presented) return fail(401, 'Requires authentication');
    const grant = tokens.get(presented);
    if (!grant) return fail(401, 'Bad credentials');
    const headers = { 'x-oauth-scopes': grant.scope.join(', '), 'x-github-media-type': 'github.v3' };
    const p = grant.person;
    if (path === '/user') {
      fake.apiCalls.push({ path, status: 200 });
      return sendJson(res, 200, profile(p), headers);
    }
    if (path === '/user/emails') {
      if (!grant.scope.includes('user:email') && !grant.scope.includes('user')) return fail(404, 'Not Found');
      fake.apiCalls.push({ path, status: 200 });
      return sendJson(res, 200, p.emails.map((e) => ({ email: e.email, primary: e.primary, verified: e.verified, visibility: e.visibility ?? (e.primary ? 'private' : null) })), headers);
    }
    fail(404, 'Not Found');
  };

  const server = await startHttpsFake(GITHUB_HOSTS, async (req, res, url) => {
    const host = hostOf(req);
    if (host === 'github.com' && req.method === 'GET' && url.pathname === '/login/oauth/authorize') return authorize(res, url.searchParams);
    if (host === 'github.com' && req.method === 'POST' && url.pathname === '/login/oauth/access_token') return accessToken(req, res, url);
    if (host === 'api.github.com' && req.method === 'GET') return api(req, res, url.pathname);
    page(res, 404, 'Not Found');
  });

  const fake: FakeGithub = {
    ...server,
    clientId: opts.clientId ?? `Iv1.${randomBytes(8).toString('hex')}`,
    clientSecret: opts.clientSecret ?? randomBytes(20).toString('hex'),
    callbackUrl: opts.callbackUrl,
    nextLogin: { id: 1001, login: 'octo', name: 'Octo Cat', email: 'octo@example.com', emails: [{ email: 'octo@example.com', primary: true, verified: true }] },
    authorizationRequests: [],
    tokenRequests: [],
    apiCalls: [],
  };
  return fake;
}

function profile(p: GithubPerson) {
  return {
    login: p.login,
    id: p.id,
    node_id: Buffer.from(`04:User${p.id}`).toString('base64'),
    avatar_url: p.avatar_url ?? `https://avatars.githubusercontent.com/u/${p.id}?v=4`,
    gravatar_id: '',
    url: `https://api.github.com/users/${p.login}`,
    html_url: `https://github.com/${p.login}`,
    type: 'User',
    site_admin: false,
    name: p.name,
    company: null,
    blog: '',
    location: null,
    email: p.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
  };
}

/** GitHub accepts a redirect_uri on the callback URL's host and port whose path is the callback's path or below it. */
function isWithinCallback(candidate: string, callback: string): boolean {
  try {
    const c = new URL(candidate);
    const r = new URL(callback);
    const base = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`;
    return c.protocol === r.protocol && c.host === r.host && (c.pathname === r.pathname || c.pathname.startsWith(base)) && !c.pathname.includes('..');
  } catch {
    return false;
  }
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>${text}</title><p>${text}</p>`);
}
