import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import type { Db } from './client.ts';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_routes_webhooks_staff.ts';
import * as m0003 from './migrations/0003_uploads_references_lineage.ts';
import * as m0004 from './migrations/0004_history_collections.ts';
import * as m0005 from './migrations/0005_reference_kits.ts';
import * as m0006 from './migrations/0006_identity.ts';
import * as m0007 from './migrations/0007_two_factor_sessions.ts';
import * as m0008 from './migrations/0008_staff_roles_audit_api_keys.ts';
import * as m0009 from './migrations/0009_session_country.ts';
import * as m0010 from './migrations/0010_captcha_redemptions.ts';
import * as m0011 from './migrations/0011_credits_ledger.ts';
import * as m0012 from './migrations/0012_billing.ts';

/** The explicit, ordered list of migrations. Add new ones here as NNNN_name.ts. */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_routes_webhooks_staff': m0002,
  '0003_uploads_references_lineage': m0003,
  '0004_history_collections': m0004,
  '0005_reference_kits': m0005,
  '0006_identity': m0006,
  '0007_two_factor_sessions': m0007,
  '0008_staff_roles_audit_api_keys': m0008,
  '0009_session_country': m0009,
  '0010_captcha_redemptions': m0010,
  '0011_credits_ledger': m0011,
  '0012_billing': m0012,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'atelier_migrations', migrationLockTableName: 'atelier_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
