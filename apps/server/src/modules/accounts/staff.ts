import { sql, type Kysely } from 'kysely';
import { STAFF_ROLES, type StaffMember, type StaffRole } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { DB } from '#src/db/schema.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';

/**
 * Staff roles and what each may do (least privilege). Routes declare `auth: 'staff:<permission>'`; the
 * auth hook lets a staff member through when one of their roles grants it. This table is the single
 * place a role's powers are defined: support sees account and billing metadata, never prompts or images;
 * content (prompts, images) needs `content.read` AND a stated reason, which is audited.
 */
export const STAFF_PERMISSIONS = [
  'engines.read',
  'catalogue.write',
  'users.read',
  'billing.read',
  'credits.adjust',
  'content.read',
  'moderation.review',
  'audit.read',
  'staff.read',
  'staff.manage',
] as const;
export type StaffPermission = (typeof STAFF_PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<StaffRole, readonly StaffPermission[]> = {
  owner: STAFF_PERMISSIONS,
  admin: ['engines.read', 'catalogue.write', 'users.read', 'billing.read', 'credits.adjust', 'content.read', 'audit.read', 'staff.read'],
  support: ['users.read', 'billing.read'],
  moderator: ['content.read', 'moderation.review'],
};

export const isStaffRole = (r: string): r is StaffRole => (STAFF_ROLES as readonly string[]).includes(r);
export const permissionsOf = (roles: readonly StaffRole[]): StaffPermission[] => STAFF_PERMISSIONS.filter((p) => roles.some((r) => ROLE_PERMISSIONS[r].includes(p)));

/** What the auth hook needs to decide a staff request: roles (none: not staff) and whether 2FA is on. */
export interface StaffAccess {
  roles: StaffRole[];
  permissions: StaffPermission[];
  /** null when this database has no two-factor column yet (then the requirement cannot be checked). */
  hasTwoFactor: boolean | null;
}

export type StaffService = ReturnType<typeof createStaffService>;

export function createStaffService(deps: { db: Db; audit: Pick<AuditLog, 'record'> }) {
  const { db } = deps;
  // users.two_factor_enabled comes with the two-factor plugin's migration; look once whether it exists.
  let twoFactorColumn: Promise<boolean> | undefined;
  const hasTwoFactorColumn = () =>
    (twoFactorColumn ??= sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_schema = current_schema() and table_name = 'users' and column_name = 'two_factor_enabled'`
      .execute(db)
      .then((r) => (r.rows[0]?.n ?? 0) > 0));

  const userByEmail = async (email: string) => {
    const user = await db.selectFrom('users').select(['id', 'email']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
    if (!user) throw new AppError('not_found', `No user with email ${email}`);
    return user;
  };

  /** A privilege change ends every session of the user (better-auth keeps no session cache, so the next request is refused). */
  const revokeSessions = async (trx: Kysely<DB>, userId: string): Promise<number> => Number((await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows);

  /** Whether the user has turned on two-factor authentication; null while the column does not exist. */
  const hasTwoFactor = async (userId: string): Promise<boolean | null> => {
    if (!(await hasTwoFactorColumn())) return null;
    const row = await sql<{ enabled: boolean | null }>`select two_factor_enabled as enabled from users where id = ${userId}`.execute(db);
    return row.rows[0]?.enabled === true;
  };

  const access = async (userId: string): Promise<StaffAccess> => {
    const rows = await db.selectFrom('staff_roles').select('role').where('user_id', '=', userId).execute();
    const roles = rows.map((r) => r.role);
    if (roles.length === 0) return { roles, permissions: [], hasTwoFactor: null };
    return { roles, permissions: permissionsOf(roles), hasTwoFactor: await hasTwoFactor(userId) };
  };

  return {
    access,
    hasTwoFactor,
    hasPermission: async (userId: string, permission: StaffPermission): Promise<boolean> => (await access(userId)).permissions.includes(permission),

    /**
     * Grants a role; `by` is the granting staff member (null: the operator's CLI). In the same transaction
     * the grant is audited and every session of the user is revoked (SEC-5, ASVS 7.2.4): the new powers
     * come with a fresh session from a new sign-in (and, for staff, the shorter staff timeouts from its start).
     */
    async grant(input: { email: string; role: string; by: string | null; ip?: string | null }): Promise<{ userId: string; created: boolean }> {
      if (!isStaffRole(input.role)) throw new AppError('validation_failed', `Unknown role "${input.role}"; one of: ${STAFF_ROLES.join(', ')}`);
      const role = input.role;
      const user = await userByEmail(input.email);
      return db.transaction().execute(async (trx) => {
        const inserted = await trx.insertInto('staff_roles').values({ user_id: user.id, role, granted_by: input.by }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        const created = (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
        if (created) {
          const sessionsRevoked = await revokeSessions(trx, user.id);
          await deps.audit.record(
            { actorId: input.by, actorIp: input.ip ?? null, action: 'staff.role_granted', targetType: 'user', targetId: user.id, details: { role, email: user.email, via: input.by ? 'api' : 'cli', sessions_revoked: sessionsRevoked } },
            trx,
          );
        }
        return { userId: user.id, created };
      });
    },

    /** Revokes a role and, in the same transaction, the user's sessions (as a grant does). The last owner cannot be removed: someone must be able to grant roles. */
    async revoke(input: { userId?: string; email?: string; role: string; by: string | null; ip?: string | null }): Promise<void> {
      if (!isStaffRole(input.role)) throw new AppError('validation_failed', `Unknown role "${input.role}"; one of: ${STAFF_ROLES.join(', ')}`);
      const role = input.role;
      const userId = input.userId ?? (await userByEmail(input.email ?? '')).id;
      await db.transaction().execute(async (trx) => {
        if (role === 'owner') {
          // Serialise owner changes so two concurrent revokes cannot both pass the "another owner" check.
          await sql`lock table staff_roles in share row exclusive mode`.execute(trx);
          const owners = await trx.selectFrom('staff_roles').select('user_id').where('role', '=', 'owner').execute();
          if (owners.length === 1 && owners[0]!.user_id === userId) throw new AppError('invalid_state', 'This is the last owner: grant owner to someone else first.');
        }
        const removed = await trx.deleteFrom('staff_roles').where('user_id', '=', userId).where('role', '=', role).executeTakeFirst();
        if (removed.numDeletedRows === 0n) throw new AppError('not_found', `That user does not hold the ${role} role`);
        const sessionsRevoked = await revokeSessions(trx, userId);
        await deps.audit.record({ actorId: input.by, actorIp: input.ip ?? null, action: 'staff.role_revoked', targetType: 'user', targetId: userId, details: { role, via: input.by ? 'api' : 'cli', sessions_revoked: sessionsRevoked } }, trx);
      });
    },

    async list(): Promise<StaffMember[]> {
      const rows = await db
        .selectFrom('staff_roles')
        .innerJoin('users', 'users.id', 'staff_roles.user_id')
        .select(['users.id', 'users.email', 'users.name', 'staff_roles.role', 'staff_roles.granted_by', 'staff_roles.granted_at'])
        .orderBy('users.email')
        .orderBy('staff_roles.role')
        .execute();
      const members = new Map<string, StaffMember>();
      for (const r of rows) {
        const m = members.get(r.id) ?? { user_id: r.id, email: r.email, name: r.name, roles: [], permissions: [] };
        m.roles.push({ role: r.role, granted_by: r.granted_by, granted_at: r.granted_at.toISOString() });
        members.set(r.id, m);
      }
      for (const m of members.values()) m.permissions = permissionsOf(m.roles.map((r) => r.role));
      return [...members.values()];
    },
  };
}
