import type { Insertable } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { UploadRow, UploadsTable } from '#src/db/schema.ts';

export type UploadRepository = ReturnType<typeof createUploadRepository>;

export function createUploadRepository(db: Db) {
  return {
    insert(row: Insertable<UploadsTable>): Promise<UploadRow> {
      return db.insertInto('uploads').values(row).returningAll().executeTakeFirstOrThrow();
    },
    getForUser(userId: string, uploadId: string): Promise<UploadRow | undefined> {
      return db.selectFrom('uploads').selectAll().where('id', '=', uploadId).where('user_id', '=', userId).executeTakeFirst();
    },
    /** Newest first; keyset on id (UUIDv7 sorts by time), served by uploads_user_idx. */
    listForUser(userId: string, opts: { beforeId: string | null; limit: number }): Promise<UploadRow[]> {
      let q = db.selectFrom('uploads').selectAll().where('user_id', '=', userId);
      if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
      return q.orderBy('id', 'desc').limit(opts.limit).execute();
    },
    /** The deleted row's object keys, or undefined when the user has no such upload. */
    delete(userId: string, uploadId: string): Promise<Pick<UploadRow, 'original_key' | 'thumbnail_key'> | undefined> {
      return db.deleteFrom('uploads').where('id', '=', uploadId).where('user_id', '=', userId).returning(['original_key', 'thumbnail_key']).executeTakeFirst();
    },
  };
}
