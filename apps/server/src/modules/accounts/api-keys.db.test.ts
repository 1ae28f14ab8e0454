import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyChecksum, apiKeyShape, type ApiKey, type ApiKeyScope } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Scoped API keys (SEC-15, T-SEC-11): every /v1 route names the scope it needs, walked from the
 * registered routes; expiry; revocation on the next request; last use noted at most once a minute.
 */
let server: TestServer;
let user: { cookie: string; userId: string };
const SAMPLE_ID = '01a20127-2b33-755e-a36b-44e9ba860e1f';

beforeAll(async () => {
  server = await startTestServer({ work: false });
  user = await signUp(server.app);
});
afterAll(() => server?.close());

const createKey = async (body: Record<string, unknown>) =>
  server.app.inject({ method: 'POST', url: '/api/api-keys', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { name: 'test', ...body } });
const keyWith = async (scopes: ApiKeyScope[], extra: Record<string, unknown> = {}) => {
  const res = await createKey({ scopes, ...extra });
  expect(res.statusCode).toBe(201);
  return res.json<ApiKey & { key: string }>();
};
const v1 = (key: string, method: string, url: string, payload?: unknown) =>
  server.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });
const keyRow = (id: string) => server.container.database.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('scopes', () => {
  it('every /v1 route declares a scope; a key without it gets 403 insufficient_scope naming it, a key with it gets past', async () => {
    const routes = server.app.declaredRoutes.filter((r) => r.auth === 'apiKey' && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !r.scope)).toEqual([]);
    const keys = Object.fromEntries(await Promise.all((['read', 'generate', 'manage'] as const).map(async (s) => [s, (await keyWith([s])).key] as const)));
    for (const route of routes) {
      const url = route.url.replace(':id', SAMPLE_ID);
      const payload = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      for (const scope of ['read', 'generate', 'manage'] as const) {
        const res = await v1(keys[scope]!, route.method, url, payload);
        const seen = { route: `${route.method} ${route.url}`, scope, status: res.statusCode === 403 || res.statusCode === 401 ? res.statusCode : 'passed' };
        expect(seen).toEqual({ ...seen, status: scope === route.scope ? 'passed' : 403 });
        if (scope !== route.scope) expect(res.json()).toMatchObject({ error: { code: 'insufficient_scope', message: expect.stringContaining(`"${route.scope}"`), details: { required_scope: route.scope } } });
      }
    }
  });

  it('refuses to register an API-key route without a scope, or a staff route without an audit action', async () => {
    const { default: Fastify } = await import('fastify');
    const { registerAuth } = await import('#src/http/auth-hook.ts');
    const { registerStaffAudit } = await import('#src/http/staff-audit.ts');
    const app = Fastify();
    registerAuth(app, { auth: server.container.auth, apiKeys: server.container.apiKeys, staff: server.container.staff });
    registerStaffAudit(app, { audit: server.container.audit });
    expect(() => app.get('/v1/oops', { config: { auth: 'apiKey' } }, async () => 'open')).toThrow(/declares no scope/);
    expect(() => app.get('/api/admin/oops', { config: { auth: 'staff:users.read' } }, async () => 'unlogged')).toThrow(/declares no audit action/);
    expect(() => app.get('/v1/fine', { config: { auth: 'apiKey', scope: 'read' } }, async () => 'ok')).not.toThrow();
  });

  it('names the scope of each route in the OpenAPI document', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json<{ paths: Record<string, Record<string, { description?: string }>> }>();
    expect(doc.paths['/v1/generations']!.post!.description).toContain('Requires an API key with the `generate` scope.');
    expect(doc.paths['/v1/generations']!.get!.description).toContain('`read` scope');
    expect(doc.paths['/v1/generations/{id}']!.delete!.description).toContain('`manage` scope');
  });

  it('a read-only key cannot create a generation; a generate-only key cannot list; the studio ignores scopes', async () => {
    const read = await keyWith(['read']);
    const generate = await keyWith(['generate']);
    const body = { model: 'offline', prompt: 'scoped', width: 256, height: 256 };
    expect((await v1(read.key, 'POST', '/v1/generations', body)).statusCode).toBe(403);
    expect((await v1(read.key, 'GET', '/v1/generations')).statusCode).toBe(200);
    expect((await v1(generate.key, 'POST', '/v1/generations', body)).statusCode).toBe(202);
    const list = await v1(generate.key, 'GET', '/v1/generations');
    expect(list.statusCode).toBe(403);
    expect(list.json()).toMatchObject({ error: { code: 'insufficient_scope', details: { required_scope: 'read' } } });
    expect((await server.app.inject({ method: 'GET', url: '/api/generations', headers: studio(user.cookie) })).statusCode).toBe(200);
  });

  it('requires at least one known scope at creation, and lists scopes, expiry and last use', async () => {
    expect((await createKey({})).statusCode).toBe(400);
    expect((await createKey({ scopes: [] })).statusCode).toBe(400);
    expect((await createKey({ scopes: ['admin'] })).statusCode).toBe(400);
    const created = await keyWith(['manage', 'read', 'read'], { expires_in_days: 30 });
    expect(created.scopes).toEqual(['read', 'manage']);
    expect(Date.parse(created.expires_at!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    const listed = (await server.app.inject({ method: 'GET', url: '/api/api-keys', headers: studio(user.cookie) })).json<{ data: ApiKey[] }>().data.find((k) => k.id === created.id);
    expect(listed).toMatchObject({ scopes: ['read', 'manage'], expires_at: created.expires_at, last_used_at: null });
    expect(listed).not.toHaveProperty('key');
  });
});

describe('lifecycle', () => {
  it('refuses an expired key with 401 saying it expired', async () => {
    const k = await keyWith(['read'], { expires_in_days: 1 });
    expect((await v1(k.key, 'GET', '/v1/models')).statusCode).toBe(200);
    await sql`update api_keys set expires_at = now() - interval '1 second' where id = ${k.id}`.execute(server.container.database.db);
    const res = await v1(k.key, 'GET', '/v1/models');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthenticated', message: expect.stringMatching(/expired/) } });
  });

  it('stops a revoked key on its very next request (no cache to wait out)', async () => {
    const k = await keyWith(['read']);
    expect((await v1(k.key, 'GET', '/v1/models')).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'DELETE', url: `/api/api-keys/${k.id}`, headers: studio(user.cookie) })).statusCode).toBe(204);
    const res = await v1(k.key, 'GET', '/v1/models');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it('notes the last use at most once a minute', async () => {
    const k = await keyWith(['read']);
    await v1(k.key, 'GET', '/v1/models');
    const first = (await keyRow(k.id)).last_used_at!;
    expect(Date.now() - first.getTime()).toBeLessThan(10_000);
    await v1(k.key, 'GET', '/v1/models');
    expect((await keyRow(k.id)).last_used_at).toEqual(first);
    await sql`update api_keys set last_used_at = now() - interval '61 seconds' where id = ${k.id}`.execute(server.container.database.db);
    const aged = (await keyRow(k.id)).last_used_at!;
    await v1(k.key, 'GET', '/v1/models');
    expect((await keyRow(k.id)).last_used_at!.getTime()).toBeGreaterThan(aged.getTime() + 60_000);
  });
});

describe('format and checksum', () => {
  const sha256 = (key: string) => crypto.createHash('sha256').update(key).digest('hex');
  const models = async (key: string) => v1(key, 'GET', '/v1/models');

  it('ends every key in a CRC32 checksum; a key that fails it gets the 401 of an unknown key even when its hash is stored', async () => {
    const k = await keyWith(['read']);
    expect(k.key).toMatch(/^atl_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
    expect(apiKeyShape(k.key)).toBe('checksummed');
    expect(k.prefix).toBe(k.key.slice(0, 12));
    const unknown = await models(`atl_${crypto.randomBytes(32).toString('base64url')}`);
    expect(unknown.statusCode).toBe(401);

    // A look-alike whose hash IS stored: only the checksum can refuse it, and it does — with the same answer.
    const random = k.key.slice(4, 47);
    const wrongChecksum = `atl_${random}${apiKeyChecksum(random) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    await sql`update api_keys set key_hash = ${sha256(wrongChecksum)} where id = ${k.id}`.execute(server.container.database.db);
    const refused = await models(wrongChecksum);
    expect(refused.statusCode).toBe(401);
    expect(refused.json<{ error: unknown }>().error).toEqual(unknown.json<{ error: unknown }>().error);
    for (const malformed of ['atl_short', `${k.key}x`, `xyz_${k.key.slice(4)}`, `atl_${'!'.repeat(49)}`]) expect((await models(malformed)).statusCode).toBe(401);
  });

  it('keeps accepting keys made before the checksum (atl_ + 43 characters)', async () => {
    const k = await keyWith(['read']);
    const legacy = `atl_${crypto.randomBytes(32).toString('base64url')}`;
    expect(apiKeyShape(legacy)).toBe('legacy');
    await sql`update api_keys set key_hash = ${sha256(legacy)}, prefix = ${legacy.slice(0, 12)} where id = ${k.id}`.execute(server.container.database.db);
    expect((await models(legacy)).statusCode).toBe(200);
  });
});

describe('per-key request rate (60 a minute by default)', () => {
  it('counts each key on its own, sends x-ratelimit-* headers, and answers the 61st request with 429 saying the limit and when it resets', async () => {
    const busy = await keyWith(['read']);
    const calm = await keyWith(['read']);
    const first = await v1(busy.key, 'GET', '/v1/models');
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '59' });
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(first.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
    for (let i = 2; i <= 60; i++) expect((await v1(busy.key, 'GET', '/v1/models')).statusCode).toBe(200);
    const over = await v1(busy.key, 'GET', '/v1/models');
    expect(over.statusCode).toBe(429);
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(over.json()).toMatchObject({
      error: { code: 'rate_limited', message: `This API key is limited to 60 requests a minute; the limit resets in ${retryAfter} s.`, details: { limit: 60, retry_after_seconds: retryAfter } },
    });
    // Another key of the same user, and the user's studio session, are not affected.
    const other = await v1(calm.key, 'GET', '/v1/models');
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-ratelimit-remaining']).toBe('59');
    const studioCall = await server.app.inject({ method: 'GET', url: '/api/models', headers: studio(user.cookie) });
    expect(studioCall.statusCode).toBe(200);
    expect(studioCall.headers['x-ratelimit-limit']).toBeUndefined();
  });
});
