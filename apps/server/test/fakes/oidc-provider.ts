import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real, certified OpenID Connect provider (panva's oidc-provider) on loopback, for sign-in tests.
 * There is no login form: the interaction is finished at once for `nextLogin`, the person the test says
 * signs in next. `tamper` changes the protocol on the wire to test what the relying party refuses:
 * another nonce in the authorization request, or another `iss` on the way back (RFC 9207).
 */
export interface OidcPerson {
  sub: string;
  email: string;
  name?: string;
  email_verified?: boolean;
}

export interface FakeOidcProvider {
  /** The URL it is served at (what OIDC_ISSUER names); its issuer is this unless `issuer` was given. */
  url: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  nextLogin: OidcPerson;
  tamper: { nonce?: string; callbackIss?: string };
  /** Authorization requests seen (their query parameters), newest last. */
  authorizationRequests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFakeOidcProvider(opts: { redirectUri: string; issuer?: string }): Promise<FakeOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = opts.issuer ?? url;
  const clientId = 'atelier-test';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const people = new Map<string, OidcPerson>();

  const configuration: Configuration = {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [{ ...(privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'test-key', use: 'sig', alg: 'RS256' } as never] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const person = people.get(sub);
      if (!person) return undefined;
      return { accountId: sub, claims: () => ({ sub, email: person.email, email_verified: person.email_verified ?? true, name: person.name ?? person.email }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.proxy = true;
  const callback = provider.callback();

  const fake: FakeOidcProvider = {
    url,
    issuer,
    clientId,
    clientSecret,
    nextLogin: { sub: 'person-1', email: 'person@example.com' },
    tamper: {},
    authorizationRequests: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  server.on('request', (req, res) => {
    void (async () => {
      const requestUrl = new URL(req.url ?? '/', url);
      if (requestUrl.pathname === '/auth') {
        fake.authorizationRequests.push(new URLSearchParams(requestUrl.searchParams));
        if (fake.tamper.nonce) {
          requestUrl.searchParams.set('nonce', fake.tamper.nonce);
          req.url = `${requestUrl.pathname}${requestUrl.search}`;
        }
      }
      if (requestUrl.pathname.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        const person = fake.nextLogin;
        people.set(person.sub, person);
        const grant = new provider.Grant({ accountId: person.sub, clientId });
        grant.addOIDCScope('openid email profile');
        const grantId = await grant.save();
        void details;
        await provider.interactionFinished(req, res, { login: { accountId: person.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
        return;
      }
      if (fake.tamper.callbackIss) {
        // Rewrite the `iss` of the redirect back to the relying party.
        const writeHead = res.writeHead.bind(res);
        const iss = fake.tamper.callbackIss;
        res.writeHead = ((status: number, ...rest: unknown[]) => {
          const location = res.getHeader('location');
          if (typeof location === 'string' && location.startsWith(opts.redirectUri)) {
            const next = new URL(location);
            next.searchParams.set('iss', iss);
            res.setHeader('location', next.toString());
          }
          return (writeHead as (...args: unknown[]) => http.ServerResponse)(status, ...rest);
        }) as typeof res.writeHead;
      }
      callback(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  return fake;
}
