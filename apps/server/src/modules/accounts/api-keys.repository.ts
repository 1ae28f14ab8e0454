import { sql } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { ApiKeyRow } from '#src/db/schema.ts';

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;

export function createApiKeysRepository(db: Db) {
  return {
    async insert(row: Pick<ApiKeyRow, 'id' | 'user_id' | 'name' | 'prefix' | 'key_hash'>): Promise<ApiKeyRow> {
      return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
    },
    listForUser(userId: string): Promise<ApiKeyRow[]> {
      return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('id', 'desc').execute();
    },
    async revoke(userId: string, id: string): Promise<boolean> {
      const r = await db.updateTable('api_keys').set({ revoked_at: sql`now()` }).where('id', '=', id).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    /** Looks a presented key up by its hash and notes the use; undefined for unknown or revoked keys. */
    systemUseByHash(keyHash: string): Promise<Pick<ApiKeyRow, 'id' | 'user_id'> | undefined> {
      return db
        .updateTable('api_keys')
        .set({ last_used_at: sql`now()` })
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .returning(['id', 'user_id'])
        .executeTakeFirst();
    },
  };
}
