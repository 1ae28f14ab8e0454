import { sql } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { ApiKeyRow } from '#src/db/schema.ts';

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;

export function createApiKeysRepository(db: Db) {
  return {
    async insert(row: Pick<ApiKeyRow, 'id' | 'user_id' | 'name' | 'prefix' | 'key_hash' | 'scopes' | 'expires_at'>): Promise<ApiKeyRow> {
      return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
    },
    listForUser(userId: string): Promise<ApiKeyRow[]> {
      return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('id', 'desc').execute();
    },
    async revoke(userId: string, id: string): Promise<boolean> {
      const r = await db.updateTable('api_keys').set({ revoked_at: sql`now()` }).where('id', '=', id).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    /** A presented key by its hash; undefined for unknown or revoked keys (read on every request: no cache, so a revoke is immediate). */
    systemGetByHash(keyHash: string): Promise<Pick<ApiKeyRow, 'id' | 'user_id' | 'scopes' | 'expires_at' | 'last_used_at'> | undefined> {
      return db.selectFrom('api_keys').select(['id', 'user_id', 'scopes', 'expires_at', 'last_used_at']).where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
    },
    /** Notes a use, at most once a minute per key (the condition makes concurrent requests write once). */
    async systemTouch(id: string): Promise<void> {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: sql`now()` })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
        .execute();
    },
  };
}
