import { sql } from 'kysely';
import type { StaffRole } from '@atelier/contracts';
import { signUp, type TestServer } from './harness.ts';
import { cookiesOf, sessionToken, signIn } from './auth-flows.ts';

/**
 * A signed-in staff member for tests: a real sign-up, a role granted through the staff service (as the
 * CLI does), a new sign-in (a grant revokes the user's sessions), and two-factor authentication marked on
 * (staff routes refuse staff without it) when this database has the column — after the sign-in, which
 * would otherwise stop at the second factor. Pass `twoFactor: false` for a staff member who has not turned it on.
 */
export async function signUpStaff(server: TestServer, roles: StaffRole | StaffRole[], opts: { email?: string; twoFactor?: boolean } = {}) {
  const user = await signUp(server.app, opts.email);
  for (const role of [roles].flat()) await server.container.staff.grant({ email: user.email, role, by: null });
  const cookie = await signInAgain(server, user.email);
  await setTwoFactor(server, user.userId, opts.twoFactor ?? true);
  return { ...user, cookie };
}

/** A fresh session for a user whose sessions were revoked (by a role change); throws when the sign-in does not end in a session. */
export async function signInAgain(server: TestServer, email: string): Promise<string> {
  const res = await signIn(server.app, email);
  const cookie = cookiesOf(res);
  if (res.statusCode !== 200 || !sessionToken(cookie)) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  return cookie;
}

/** Whether this schema has users.two_factor_enabled (added with the two-factor plugin). */
export async function hasTwoFactorColumn(server: TestServer): Promise<boolean> {
  const r = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_schema = current_schema() and table_name = 'users' and column_name = 'two_factor_enabled'`.execute(server.container.database.db);
  return (r.rows[0]?.n ?? 0) > 0;
}

export async function setTwoFactor(server: TestServer, userId: string, enabled: boolean): Promise<void> {
  if (!(await hasTwoFactorColumn(server))) return;
  await sql`update users set two_factor_enabled = ${enabled} where id = ${userId}`.execute(server.container.database.db);
}
