import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAFF_ROLES, type AuditEvent, type Generation, type StaffRole } from '@atelier/contracts';
import { ROLE_PERMISSIONS, type StaffPermission } from '#src/modules/accounts/staff.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { hasTwoFactorColumn, setTwoFactor, signInAgain, signUpStaff } from '#test/support/staff.ts';

/**
 * Staff roles with least privilege, and the append-only audit log: every staff route for every role
 * (walked from the registered routes), content access only with a stated reason, and an audit table
 * that refuses changes even to direct SQL.
 */
let server: TestServer;
let user: { cookie: string; userId: string; email: string };
const staff = {} as Record<StaffRole, { cookie: string; userId: string; email: string }>;
let generation: Generation;
const SAMPLE_ID = '01a20127-2b33-755e-a36b-44e9ba860e1f';
const REASON = 'ticket #4711: user reports a broken image';

beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server.app);
  for (const role of STAFF_ROLES) staff[role] = await signUpStaff(server, role);
  const created = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { model: 'offline', prompt: 'a private prompt "secret"', width: 256, height: 256 } });
  expect(created.statusCode).toBe(202);
  generation = await eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${created.json<Generation>().id}`, headers: studio(user.cookie) })).json<Generation>();
    return g.status === 'succeeded' ? g : undefined;
  });
});
afterAll(() => server?.close());

const auditRows = () => server.container.database.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
const as = (cookie: string, method: string, url: string, extra: { headers?: Record<string, string>; payload?: unknown } = {}) =>
  server.app.inject({
    method: method as 'GET',
    url,
    headers: studio(cookie, { ...(extra.payload === undefined ? {} : { 'content-type': 'application/json' }), ...extra.headers }),
    ...(extra.payload === undefined ? {} : { payload: JSON.stringify(extra.payload) }),
  });

describe('roles and permissions', () => {
  it('gives each role exactly its permissions on every staff route, and hides the console from everyone else', async () => {
    const routes = server.app.declaredRoutes.filter((r) => r.auth.startsWith('staff:') && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThanOrEqual(11);
    for (const route of routes) {
      const permission = route.auth.slice('staff:'.length) as StaffPermission;
      const url = route.url.replace(':id', SAMPLE_ID).replace(':role', 'support');
      const payload = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      const call = (cookie: string) => as(cookie, route.method, url, { headers: { 'x-access-reason': REASON }, payload });

      const outsider = await call(user.cookie);
      expect({ route: `${route.method} ${route.url}`, status: outsider.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 404 });
      expect(outsider.json<{ error: { message: string } }>().error.message).toMatch(/^No route for/);

      for (const role of STAFF_ROLES) {
        const before = (await auditRows()).length;
        const res = await call(staff[role].cookie);
        const isAllowed = ROLE_PERMISSIONS[role].includes(permission);
        const seen = { route: `${route.method} ${route.url}`, role, refused: res.statusCode === 403 };
        expect(seen).toEqual({ ...seen, refused: !isAllowed });
        if (!isAllowed) expect(res.json()).toMatchObject({ error: { code: 'forbidden', details: { required_permission: permission } } });
        // What got past the permission check and its validation left a trace in the audit log.
        if (isAllowed && route.method === 'GET') expect((await auditRows()).length, `${route.method} ${route.url} as ${role}`).toBeGreaterThan(before);
      }
    }
  });

  it('lets support see account metadata but not prompts or images', async () => {
    const account = await as(staff.support.cookie, 'GET', `/api/admin/users/${user.userId}`);
    expect(account.statusCode).toBe(200);
    expect(account.json()).toMatchObject({ id: user.userId, email: user.email, generations: 1, images: 1 });
    expect(account.body).not.toContain('private prompt');
    const headers = { 'x-access-reason': REASON };
    expect((await as(staff.support.cookie, 'GET', `/api/admin/generations/${generation.id}`, { headers })).statusCode).toBe(403);
    expect((await as(staff.support.cookie, 'GET', `/api/admin/images/${generation.images[0]!.id}`, { headers })).statusCode).toBe(403);
  });

  it('refuses staff routes to staff without two-factor authentication', async (ctx) => {
    if (!(await hasTwoFactorColumn(server))) return ctx.skip(); // the column arrives with the two-factor migration
    const noTwoFactor = await signUpStaff(server, 'owner', { twoFactor: false });
    const res = await as(noTwoFactor.cookie, 'GET', '/api/admin/engines');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'two_factor_required', message: expect.stringMatching(/turn on two-factor authentication/) } });
    await setTwoFactor(server, noTwoFactor.userId, true);
    expect((await as(noTwoFactor.cookie, 'GET', '/api/admin/engines')).statusCode).toBe(200);
  });

  it('lets owners grant and revoke roles over the API (audited), never removing the last owner', async () => {
    const target = await signUp(server.app);
    expect((await as(staff.admin.cookie, 'POST', '/api/admin/staff', { payload: { email: target.email, role: 'support' } })).statusCode).toBe(403);
    expect((await as(staff.owner.cookie, 'POST', '/api/admin/staff', { payload: { email: target.email, role: 'galactic-emperor' } })).statusCode).toBe(400);
    expect((await as(staff.owner.cookie, 'POST', '/api/admin/staff', { payload: { email: target.email, role: 'support' } })).statusCode).toBe(204);
    const list = (await as(staff.admin.cookie, 'GET', '/api/admin/staff')).json<{ data: { user_id: string; roles: { role: string; granted_by: string | null }[]; permissions: string[] }[] }>();
    expect(list.data.find((m) => m.user_id === target.userId)).toMatchObject({ roles: [{ role: 'support', granted_by: staff.owner.userId }], permissions: ['users.read', 'billing.read'] });
    // A privilege change ends the sessions from before it (SEC-5): the new staff member signs in again.
    expect((await as(target.cookie, 'GET', '/api/me')).statusCode).toBe(401);
    const granted = await signInAgain(server, target.email);
    await setTwoFactor(server, target.userId, true);
    expect((await as(granted, 'GET', `/api/admin/users/${user.userId}`)).statusCode).toBe(200);
    expect((await as(staff.owner.cookie, 'DELETE', `/api/admin/staff/${target.userId}/roles/support`)).statusCode).toBe(204);
    expect((await as(granted, 'GET', `/api/admin/users/${user.userId}`)).statusCode).toBe(401); // that session ended with the role
    await setTwoFactor(server, target.userId, false); // (marked on without an authenticator: a sign-in would stop at the second factor)
    expect((await as(await signInAgain(server, target.email), 'GET', `/api/admin/users/${user.userId}`)).statusCode).toBe(404); // not staff any more

    const events = (await auditRows()).filter((e) => e.target_id === target.userId);
    expect(events.map((e) => [e.action, e.actor_id, e.details.role, e.details.sessions_revoked])).toEqual([
      ['staff.role_granted', staff.owner.userId, 'support', 1],
      ['staff.role_revoked', staff.owner.userId, 'support', 1],
    ]);

    // Every other owner gone, the last one stays.
    const owners = (await server.container.staff.list()).filter((m) => m.roles.some((r) => r.role === 'owner'));
    for (const o of owners.filter((o) => o.user_id !== staff.owner.userId)) await server.container.staff.revoke({ userId: o.user_id, role: 'owner', by: null });
    const last = await as(staff.owner.cookie, 'DELETE', `/api/admin/staff/${staff.owner.userId}/roles/owner`);
    expect(last.statusCode).toBe(409);
    expect(last.json()).toMatchObject({ error: { message: expect.stringMatching(/last owner/) } });
  });
});

describe('content access by staff', () => {
  it('requires a stated reason, and writes who, what, why, when and from where before serving', async () => {
    const url = `/api/admin/generations/${generation.id}`;
    for (const headers of [{}, { 'x-access-reason': 'because' }] as Record<string, string>[]) {
      const refused = await as(staff.moderator.cookie, 'GET', url, { headers });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: { code: 'validation_failed', fields: [{ path: 'reason' }] } });
    }
    expect((await auditRows()).filter((e) => e.action === 'content.generation_viewed' && e.target_id === generation.id)).toEqual([]);

    const startedAt = new Date();
    const res = await as(staff.moderator.cookie, 'GET', url, { headers: { 'x-access-reason': REASON } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: generation.id, user_id: user.userId, prompt: 'a private prompt "secret"', images: [{ id: generation.images[0]!.id, url: `/api/admin/images/${generation.images[0]!.id}` }] });
    const [event] = (await auditRows()).filter((e) => e.action === 'content.generation_viewed' && e.target_id === generation.id);
    expect(event).toMatchObject({ actor_id: staff.moderator.userId, actor_ip: '127.0.0.1', target_type: 'generation', reason: REASON });
    expect(event!.at.getTime()).toBeGreaterThanOrEqual(startedAt.getTime() - 1000);

    // Image bytes: the reason rides in the query, so a plain <img> URL works; it is not kept in the details.
    const imageUrl = `/api/admin/images/${generation.images[0]!.id}`;
    expect((await as(staff.moderator.cookie, 'GET', imageUrl)).statusCode).toBe(400);
    const image = await as(staff.moderator.cookie, 'GET', `${imageUrl}?reason=${encodeURIComponent(REASON)}`);
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['cache-control']).toBe('no-store');
    const imageEvent = (await auditRows()).find((e) => e.action === 'content.image_viewed' && e.target_id === generation.images[0]!.id);
    expect(imageEvent).toMatchObject({ actor_id: staff.moderator.userId, reason: REASON, details: { route: 'GET /api/admin/images/:id' } });
  });
});

describe('the audit log', () => {
  it('is readable by owners and admins with filters and paging, and reading it is itself audited', async () => {
    const page = await as(staff.admin.cookie, 'GET', `/api/admin/audit?actor=${staff.moderator.userId}&action=content.generation_viewed`);
    expect(page.statusCode).toBe(200);
    const body = page.json<{ data: AuditEvent[]; next_cursor: string | null }>();
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((e) => e.actor_id === staff.moderator.userId && e.action === 'content.generation_viewed')).toBe(true);
    const all: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(staff.owner.cookie, 'GET', `/api/admin/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      const p = res.json<{ data: AuditEvent[]; next_cursor: string | null }>();
      all.push(...p.data);
      cursor = p.next_cursor;
    } while (cursor);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort().reverse());
    expect(all.some((e) => e.action === 'audit.viewed' && e.actor_id === staff.admin.userId)).toBe(true);
    expect((await as(staff.support.cookie, 'GET', '/api/admin/audit')).statusCode).toBe(403);
  });

  it('refuses UPDATE, DELETE and TRUNCATE even as direct SQL', async () => {
    const db = server.container.database.db;
    const before = await auditRows();
    expect(before.length).toBeGreaterThan(0);
    await expect(sql`update audit_events set reason = 'nothing to see'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_events`.execute(db)).rejects.toThrow(/append-only/);
    expect(await auditRows()).toEqual(before);
  });

  it('records grants from the operator CLI with no actor, and ends the sessions from before each grant and revoke', async () => {
    const someone = await signUp(server.app);
    const elsewhere = await signInAgain(server, someone.email);
    const me = (cookie: string) => as(cookie, 'GET', '/api/me');
    expect((await me(someone.cookie)).statusCode).toBe(200);
    await server.container.staff.grant({ email: someone.email, role: 'moderator', by: null });
    expect([(await me(someone.cookie)).statusCode, (await me(elsewhere)).statusCode]).toEqual([401, 401]);
    const [event] = (await auditRows()).filter((e) => e.target_id === someone.userId);
    expect(event).toMatchObject({ action: 'staff.role_granted', actor_id: null, details: { role: 'moderator', via: 'cli', sessions_revoked: 2 } });

    // Granting a role the user already holds changes nothing, so the session stays.
    const moderator = await signInAgain(server, someone.email);
    expect((await server.container.staff.grant({ email: someone.email, role: 'moderator', by: null })).created).toBe(false);
    expect((await me(moderator)).statusCode).toBe(200);
    await server.container.staff.revoke({ email: someone.email, role: 'moderator', by: null });
    expect((await me(moderator)).statusCode).toBe(401);
    expect((await me(await signInAgain(server, someone.email))).statusCode).toBe(200);
  });
});
