import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { basicCredentials, hostOf, readForm, redirect, s256, sendJson, startHttpsFake, type HttpsFake } from './https-loopback.ts';

/**
 * Google's OAuth 2.0 / OpenID Connect endpoints for the web-server (authorization code) flow with PKCE,
 * on loopback under their real host names (route them with test/support/tls-hosts.ts):
 *
 * - GET  https://accounts.google.com/o/oauth2/v2/auth   — no consent screen: `nextLogin` signs in at once
 * - POST https://oauth2.googleapis.com/token            — client_secret_post or _basic, PKCE, one-use codes
 * - GET  https://www.googleapis.com/oauth2/v3/certs     — the JWKS the RS256 ID tokens verify against
 * - GET  https://openidconnect.googleapis.com/v1/userinfo (and www.googleapis.com/oauth2/v3/userinfo)
 *
 * Errors follow Google's shapes: a bad client or redirect URI stops at Google (an error page, no
 * redirect, since the redirect URI cannot be trusted); other authorization errors go back to the client
 * as `?error=`; the token endpoint answers `{ error, error_description }` (invalid_client 401,
 * invalid_grant 400). A reused code is refused and the tokens first issued for it are revoked
 * (RFC 6749 §4.1.2). Stricter than Google on one point: `state` and `nonce` are required (Google makes
 * them optional in the code flow), because Atelier must always send both.
 *
 * `tamper` changes the next ID tokens to test what the relying party refuses.
 */
export const GOOGLE_HOSTS = ['accounts.google.com', 'oauth2.googleapis.com', 'www.googleapis.com', 'openidconnect.googleapis.com'] as const;
export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface GooglePerson {
  sub: string;
  email: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  /** The Workspace domain, for hosted accounts. */
  hd?: string;
}

export interface GoogleTamper {
  /** Put this nonce in the ID token instead of the one the authorization request sent. */
  nonce?: string;
  aud?: string;
  iss?: string;
  /** Sign with a key that is not in the JWKS (same `kid`). */
  foreignKey?: boolean;
  /** Issued and expired two hours ago. */
  expired?: boolean;
}

export interface FakeGoogle extends HttpsFake {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  nextLogin: GooglePerson;
  tamper: GoogleTamper;
  authorizationRequests: URLSearchParams[];
  /** Token requests (their form bodies) with the answer's status. */
  tokenRequests: { form: URLSearchParams; status: number }[];
  /** Claims of every ID token issued, newest last. */
  issuedIdTokens: Record<string, unknown>[];
  /** A genuine ID token for this client, as Google hands one to a browser (One Tap, Sign In With Google button). */
  signIdToken(person: GooglePerson, extra?: { nonce?: string }): Promise<string>;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string[];
  nonce: string | null;
  person: GooglePerson;
  expiresAt: number;
  used: boolean;
  accessToken: string | null;
}

const KNOWN_SCOPES: Record<string, string> = {
  openid: 'openid',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
  'https://www.googleapis.com/auth/userinfo.email': 'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile': 'https://www.googleapis.com/auth/userinfo.profile',
};
const CODE_TTL_MS = 5 * 60_000;
const TOKEN_TTL_S = 3599;

export async function startFakeGoogle(opts: { redirectUris: string[]; clientId?: string; clientSecret?: string }): Promise<FakeGoogle> {
  const kid = randomBytes(20).toString('hex');
  const signing = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(signing.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, PendingCode>();
  const tokens = new Map<string, { person: GooglePerson; scope: string[]; revoked: boolean; expiresAt: number }>();

  const authorize = (res: ServerResponse, q: URLSearchParams) => {
    fake.authorizationRequests.push(new URLSearchParams(q));
    const clientId = q.get('client_id');
    if (clientId !== fake.clientId) return errorPage(res, 401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!fake.redirectUris.includes(redirectUri)) return errorPage(res, 400, 'redirect_uri_mismatch', `redirect_uri ${redirectUri} is not registered for this client.`);
    const back = (params: Record<string, string>) => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const state = q.get('state');
      if (state !== null) url.searchParams.set('state', state);
      redirect(res, url.toString());
    };
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'Only response_type=code is enabled for this test client.' });
    const challenge = q.get('code_challenge');
    if (q.get('code_challenge_method') !== 'S256' || !challenge || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return errorPage(res, 400, 'invalid_request', 'A PKCE S256 code_challenge is required.');
    const requested = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (requested.length === 0) return errorPage(res, 400, 'invalid_request', 'Missing required parameter: scope');
    const unknown = requested.filter((s) => !(s in KNOWN_SCOPES));
    if (unknown.length > 0) return back({ error: 'invalid_scope', error_description: `Some requested scopes were invalid: ${unknown.join(' ')}` });
    if (!q.get('state')) return errorPage(res, 400, 'invalid_request', 'This client must send state.');
    const nonce = q.get('nonce');
    if (requested.includes('openid') && !nonce) return errorPage(res, 400, 'invalid_request', 'This client must send a nonce with openid.');
    const code = `4/0A${randomBytes(32).toString('base64url')}`;
    const scope = [...new Set(requested.map((s) => KNOWN_SCOPES[s]!))];
    codes.set(code, { clientId, redirectUri, challenge, scope, nonce, person: { ...fake.nextLogin }, expiresAt: Date.now() + CODE_TTL_MS, used: false, accessToken: null });
    back({ code, scope: scope.join(' '), authuser: '0', prompt: 'none' });
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readForm(req);
    const answer = (status: number, body: Record<string, unknown>) => {
      if (form) fake.tokenRequests.push({ form, status });
      sendJson(res, status, body, { pragma: 'no-cache' });
    };
    if (!form) return answer(400, { error: 'invalid_request', error_description: 'Invalid content type' });
    const basic = basicCredentials(req);
    const clientId = basic?.id ?? form.get('client_id');
    const clientSecret = basic?.secret ?? form.get('client_secret');
    if (clientId !== fake.clientId || clientSecret !== fake.clientSecret) return answer(401, { error: 'invalid_client', error_description: 'Unauthorized' });
    if (form.get('grant_type') !== 'authorization_code') return answer(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
    const pending = codes.get(form.get('code') ?? '');
    if (!pending || pending.clientId !== clientId || pending.expiresAt < Date.now()) return answer(400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
    if (pending.used) {
      if (pending.accessToken) tokens.get(pending.accessToken)!.revoked = true;
      return answer(400, { error: 'invalid_grant', error_description: 'Bad Request' });
    }
    pending.used = true;
    if (form.get('redirect_uri') !== pending.redirectUri) return answer(400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' });
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== pending.challenge) return answer(400, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
    const accessToken = `ya29.${randomBytes(48).toString('base64url')}`;
    pending.accessToken = accessToken;
    tokens.set(accessToken, { person: pending.person, scope: pending.scope, revoked: false, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    const body: Record<string, unknown> = { access_token: accessToken, expires_in: TOKEN_TTL_S, scope: pending.scope.join(' '), token_type: 'Bearer' };
    if (pending.scope.includes('openid')) body.id_token = await idToken(pending, accessToken);
    answer(200, body);
  };

  const idToken = (pending: PendingCode, accessToken: string) =>
    sign(pending.person, { clientId: pending.clientId, scope: pending.scope, nonce: pending.nonce, accessToken });

  const sign = async (person: GooglePerson, at: { clientId: string; scope: string[]; nonce: string | null; accessToken?: string }) => {
    const tamper = fake.tamper;
    const now = Math.floor(Date.now() / 1000) - (tamper.expired ? 7200 : 0);
    const withEmail = at.scope.includes(KNOWN_SCOPES.email!);
    const withProfile = at.scope.includes(KNOWN_SCOPES.profile!);
    const nonce = tamper.nonce ?? at.nonce;
    const claims: Record<string, unknown> = {
      iss: tamper.iss ?? GOOGLE_ISSUER,
      azp: at.clientId,
      aud: tamper.aud ?? at.clientId,
      sub: person.sub,
      ...(person.hd ? { hd: person.hd } : {}),
      ...(withEmail ? { email: person.email, email_verified: person.email_verified ?? true } : {}),
      ...(at.accessToken ? { at_hash: atHash(at.accessToken) } : {}),
      ...(nonce ? { nonce } : {}),
      ...(withProfile ? { name: person.name ?? person.email, picture: person.picture, given_name: person.given_name, family_name: person.family_name } : {}),
      iat: now,
      exp: now + 3600,
    };
    fake.issuedIdTokens.push(claims);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(tamper.foreignKey ? foreign.privateKey : signing.privateKey);
  };

  const userinfo = (req: IncomingMessage, res: ServerResponse) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer ? tokens.get(bearer) : undefined;
    if (!grant || grant.revoked || grant.expiresAt < Date.now()) {
      return sendJson(res, 401, { error: 'invalid_request', error_description: 'Invalid Credentials' }, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
    }
    const p = grant.person;
    sendJson(res, 200, {
      sub: p.sub,
      ...(grant.scope.includes(KNOWN_SCOPES.profile!) ? { name: p.name ?? p.email, given_name: p.given_name, family_name: p.family_name, picture: p.picture } : {}),
      ...(grant.scope.includes(KNOWN_SCOPES.email!) ? { email: p.email, email_verified: p.email_verified ?? true } : {}),
      ...(p.hd ? { hd: p.hd } : {}),
    });
  };

  const server = await startHttpsFake(GOOGLE_HOSTS, async (req, res, url) => {
    const route = `${req.method} ${hostOf(req)}${url.pathname}`;
    if (route === 'GET accounts.google.com/o/oauth2/v2/auth') return authorize(res, url.searchParams);
    if (route === 'POST oauth2.googleapis.com/token') return token(req, res);
    if (route === 'GET www.googleapis.com/oauth2/v3/certs') return sendJson(res, 200, { keys: [jwk] }, { 'cache-control': 'public, max-age=20000' });
    if (route === 'GET openidconnect.googleapis.com/v1/userinfo' || route === 'GET www.googleapis.com/oauth2/v3/userinfo') return userinfo(req, res);
    sendJson(res, 404, { error: 'not_found', route });
  });

  const fake: FakeGoogle = {
    ...server,
    clientId: opts.clientId ?? `${randomBytes(6).toString('hex')}-test.apps.googleusercontent.com`,
    clientSecret: opts.clientSecret ?? `GOCSPX-${randomBytes(21).toString('base64url')}`,
    redirectUris: opts.redirectUris,
    nextLogin: { sub: '100000000000000000001', email: 'person@gmail.com' },
    tamper: {},
    authorizationRequests: [],
    tokenRequests: [],
    issuedIdTokens: [],
    signIdToken: (person, extra = {}) => sign(person, { clientId: fake.clientId, scope: ['openid', KNOWN_SCOPES.email!, KNOWN_SCOPES.profile!], nonce: extra.nonce ?? null }),
  };
  return fake;
}

/** OIDC Core §3.1.3.6: left half of SHA-256 of the access token, base64url. */
function atHash(accessToken: string): string {
  return Buffer.from(s256(accessToken), 'base64url').subarray(0, 16).toString('base64url');
}

function errorPage(res: ServerResponse, status: number, error: string, description: string): void {
  // Google shows a page to the person; tests read the body.
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Error ${status}: ${error}\n${description}`);
}
