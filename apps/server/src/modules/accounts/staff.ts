import type { Db } from '#src/db/client.ts';
import { AppError } from '#src/lib/errors.ts';

/**
 * Staff permissions, granted to user accounts by the operator (`atelier staff grant`). Routes declare
 * `auth: 'staff:<permission>'`; `all` grants every permission. Anyone without it sees a 404.
 */
export const STAFF_PERMISSIONS = ['engines.read', 'catalogue.write', 'all'] as const;
export type StaffPermission = (typeof STAFF_PERMISSIONS)[number];
export const isStaffPermission = (p: string): p is StaffPermission => (STAFF_PERMISSIONS as readonly string[]).includes(p);

export type StaffService = ReturnType<typeof createStaffService>;

export function createStaffService(db: Db) {
  return {
    async hasPermission(userId: string, permission: StaffPermission): Promise<boolean> {
      const row = await db.selectFrom('staff_grants').select('permission').where('user_id', '=', userId).where('permission', 'in', [permission, 'all']).executeTakeFirst();
      return row !== undefined;
    },
    async grant(email: string, permission: string): Promise<void> {
      if (!isStaffPermission(permission)) throw new AppError('validation_failed', `Unknown permission "${permission}"; one of: ${STAFF_PERMISSIONS.join(', ')}`);
      const user = await db.selectFrom('users').select('id').where('email', '=', email.toLowerCase()).executeTakeFirst();
      if (!user) throw new AppError('not_found', `No user with email ${email}`);
      await db.insertInto('staff_grants').values({ user_id: user.id, permission }).onConflict((oc) => oc.doNothing()).execute();
    },
  };
}
