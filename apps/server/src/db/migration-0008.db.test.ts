import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '#src/db/client.ts';
import { migrateToLatest, migrations } from '#src/db/migrate.ts';
import { createTestDatabase, testDbKind, type TestDatabase } from '#test/support/harness.ts';

/** Migration 0008 carries existing staff grants and API keys over: nobody loses access they had. */
let testDb: TestDatabase;
let database: Database;
beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase(testDbKind() === 'postgres' ? { kind: 'postgres', url: testDb.env.DATABASE_URL! } : { kind: 'pglite', dir: 'memory://' });
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

it('turns "all" grants into owners and narrower grants into admins, and gives old keys every scope', async () => {
  const names = Object.keys(migrations).sort();
  const before = names[names.indexOf('0008_staff_roles_audit_api_keys') - 1]!;
  const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, migrationTableName: 'atelier_migrations', migrationLockTableName: 'atelier_migrations_lock' });
  const partial = await migrator.migrateTo(before);
  expect(partial.error).toBeUndefined();

  const db = database.db;
  for (const id of ['u-all', 'u-engines', 'u-none']) {
    await sql`insert into users (id, name, email, email_verified, created_at, updated_at) values (${id}, ${id}, ${`${id}@example.com`}, true, now(), now())`.execute(db);
  }
  await sql`insert into staff_grants (user_id, permission) values ('u-all', 'all'), ('u-all', 'engines.read'), ('u-engines', 'engines.read'), ('u-engines', 'catalogue.write')`.execute(db);
  await sql`insert into api_keys (id, user_id, name, prefix, key_hash) values ('01a20127-2b33-755e-a36b-44e9ba860e1f', 'u-none', 'old', 'atl_abcdefgh', 'hash')`.execute(db);

  await migrateToLatest(db);
  const roles = await db.selectFrom('staff_roles').select(['user_id', 'role']).orderBy('user_id').execute();
  expect(roles).toEqual([
    { user_id: 'u-all', role: 'owner' },
    { user_id: 'u-engines', role: 'admin' },
  ]);
  expect(await db.selectFrom('api_keys').select(['scopes', 'expires_at']).where('id', '=', '01a20127-2b33-755e-a36b-44e9ba860e1f').executeTakeFirst()).toEqual({ scopes: ['read', 'generate', 'manage'], expires_at: null });
  const table = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = 'staff_grants'`.execute(db);
  expect(table.rows[0]!.n).toBe(0);
});
