import { getMigrations } from 'better-auth/db/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyShape } from '@atelier/contracts';
import { authOptions, loadAuthSecret } from '#src/modules/accounts/auth.ts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

const SAMPLE_ID = '01a20127-2b33-755e-a36b-44e9ba860e1f';

describe('access rules', () => {
  it('every registered route declares its access, and every non-public one refuses anonymous calls', async () => {
    const routes = server.app.declaredRoutes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(20);
    const protectedRoutes = routes.filter((r) => r.auth !== 'public');
    expect(protectedRoutes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /api/generations', 'GET /v1/generations', 'GET /api/images/:id', 'GET /api/events', 'POST /api/api-keys', 'DELETE /v1/generations/:id']),
    );
    for (const route of protectedRoutes) {
      const url = route.url.replace(':id', SAMPLE_ID);
      const res = await server.app.inject({ method: route.method as 'GET', url, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}' });
      expect({ route: `${route.method} ${route.url}`, status: res.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
      expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' }, requestId: expect.any(String) });
    }
    const publicRoutes = routes.filter((r) => r.auth === 'public').map((r) => r.url);
    expect(publicRoutes).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/openapi.json', '/api/auth/*']));
  });

  it('refuses to register a route without an access rule', async () => {
    const { default: Fastify } = await import('fastify');
    const { registerAuth } = await import('#src/http/auth-hook.ts');
    const app = Fastify();
    registerAuth(app, { auth: server.container.auth, apiKeys: server.container.apiKeys, staff: server.container.staff });
    expect(() => app.get('/oops', async () => 'open')).toThrow(/declares no access rule/);
  });

  it('the studio API does not accept API keys, and /v1 does not accept cookies', async () => {
    const u = await signUp(server.app);
    const created = await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: studio(u.cookie, { 'content-type': 'application/json' }), payload: { name: 'ci', scopes: ['read'] } });
    expect(created.statusCode).toBe(201);
    const { key } = created.json<{ key: string }>();
    expect(apiKeyShape(key)).toBe('checksummed'); // atl_ + 43 random + 6 checksum characters
    expect((await server.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/api/models', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(401);
    expect((await server.app.inject({ method: 'GET', url: '/v1/models', headers: { cookie: u.cookie } })).statusCode).toBe(401);
    // Only a hash is stored.
    const rows = await server.container.database.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(key);
  });
});

describe('sessions and CSRF', () => {
  it('sets an httpOnly SameSite session cookie and keeps the token out of the JSON', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/auth/sign-up/email',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      payload: { email: 'cookie@example.com', password: 'correct horse battery', name: 'C', ageConfirmed: true },
    });
    expect(res.statusCode).toBe(200);
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('atelier.session_token='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(res.json()).not.toHaveProperty('token');
  });

  it('rejects a wrong password with 401 and the same answer as an unknown email', async () => {
    await signUp(server.app, 'known@example.com');
    const attempt = (email: string) =>
      server.app.inject({ method: 'POST', url: '/api/auth/sign-in/email', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, payload: { email, password: 'wrong password!' } });
    const known = await attempt('known@example.com');
    const unknown = await attempt('nobody@example.com');
    expect(known.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(known.json()).toEqual(unknown.json());
  });

  it('signs out server-side: the old cookie stops working', async () => {
    const u = await signUp(server.app);
    expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: studio(u.cookie) })).statusCode).toBe(200);
    const out = await server.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers: studio(u.cookie, { 'content-type': 'application/json' }), payload: '{}' });
    expect(out.statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: studio(u.cookie) })).statusCode).toBe(401);
  });

  it('refuses a cross-site cookie-authenticated write and changes nothing', async () => {
    const u = await signUp(server.app);
    const count = async () => (await server.container.database.db.selectFrom('generations').select('id').where('user_id', '=', u.userId).execute()).length;
    const body = { model: 'offline', prompt: 'forged' };
    const crossSite = await server.app.inject({ method: 'POST', url: '/api/generations', headers: { cookie: u.cookie, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, payload: body });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: { code: 'csrf_rejected' } });
    const foreignOrigin = await server.app.inject({ method: 'POST', url: '/api/generations', headers: { cookie: u.cookie, origin: 'https://evil.test', 'content-type': 'application/json' }, payload: body });
    expect(foreignOrigin.statusCode).toBe(403);
    expect(await count()).toBe(0);
    const sameOrigin = await server.app.inject({ method: 'POST', url: '/api/generations', headers: { cookie: u.cookie, origin: 'http://localhost:3000', 'content-type': 'application/json' }, payload: body });
    expect(sameOrigin.statusCode).toBe(202);
  });
});

describe('HTTP surface', () => {
  it('sends strict security headers', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/healthz' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeUndefined(); // plain http here; HSTS only behind TLS
  });

  it('sends HSTS when the public URL is https', async () => {
    const tls = await startTestServer({ env: { PUBLIC_URL: 'https://atelier.example.com' }, work: false });
    try {
      const res = await tls.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await tls.close();
    }
  });

  it('publishes an OpenAPI document of the v1 API only', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/models', '/v1/generations', '/v1/generations/{id}', '/v1/images/{id}']));
    expect(paths.some((p) => p.startsWith('/api/'))).toBe(false);
    expect((await server.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('answers unknown API paths with a JSON 404, and reports health, readiness and metrics', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    expect((await server.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('atelier_http_request_duration_seconds');
  });

  it('rate-limits sign-in attempts', async () => {
    const limited = await startTestServer({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '3' }, work: false });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await limited.app.inject({ method: 'POST', url: '/api/auth/sign-in/email', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, payload: { email: 'a@b.co', password: 'whatever123' } });
        statuses.push(r.statusCode);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});

it("better-auth finds its schema complete (migration 0001 matches its model)", async () => {
  const options = authOptions({ db: server.container.database.db, baseURL: 'http://localhost:3000', secret: loadAuthSecret(undefined, `${server.dataDir}/secrets`), isHttps: false });
  const { toBeCreated, toBeAdded } = await getMigrations(options);
  expect(toBeCreated).toEqual([]);
  expect(toBeAdded).toEqual([]);
});

describe('the studio files', () => {
  it('serves files present at request time, falls back to index.html for client routes, and never escapes its folder', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dist = fs.mkdtempSync(path.join(server.dataDir, 'dist-'));
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>studio</title>');
    const web = await startTestServer({ env: { WEB_DIST_DIR: dist }, work: false });
    try {
      const get = (url: string) => web.app.inject({ method: 'GET', url });
      expect((await get('/')).body).toContain('<title>studio</title>');
      expect((await get('/images/123')).headers['content-type']).toContain('text/html');
      fs.mkdirSync(path.join(dist, 'assets'));
      fs.writeFileSync(path.join(dist, 'assets', 'app-abc123.js'), 'console.log(1)'); // a rebuild while running
      const asset = await get('/assets/app-abc123.js');
      expect(asset.body).toBe('console.log(1)');
      expect(asset.headers['cache-control']).toContain('immutable');
      expect((await get('/api/unknown')).json()).toMatchObject({ error: { code: 'not_found' } });
      const traversal = await get('/..%2f..%2fsecrets%2fmaster.key');
      expect(traversal.body).not.toContain('=');
      expect(traversal.headers['content-type']).toContain('text/html');
    } finally {
      await web.close();
    }
  });
});
