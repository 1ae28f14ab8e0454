import { sql, type Insertable, type Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB, UploadRow, UploadsTable } from '#src/db/schema.ts';

export type UploadRepository = ReturnType<typeof createUploadRepository>;

/** Advisory-lock namespace ("ATLU"): one user's quota-checked inserts take turns. */
const UPLOAD_LOCK_NAMESPACE = 0x41544c55;

export function createUploadRepository(db: Db) {
  return {
    insert(executor: Db | Transaction<DB>, row: Insertable<UploadsTable>): Promise<UploadRow> {
      return executor.insertInto('uploads').values(row).returningAll().executeTakeFirstOrThrow();
    },
    /** Held until the transaction ends. Users whose ids hash alike only wait for each other, never see each other's data. */
    async lockUser(trx: Transaction<DB>, userId: string): Promise<void> {
      await sql`select pg_advisory_xact_lock(${UPLOAD_LOCK_NAMESPACE}, hashtext(${userId}))`.execute(trx);
    },
    /** The user's uploads and the bytes of their stored originals (what the quota counts). */
    async usage(executor: Db | Transaction<DB>, userId: string): Promise<{ count: number; bytes: number }> {
      const row = await executor
        .selectFrom('uploads')
        .select((eb) => [eb.fn.countAll<number>().as('count'), sql<number>`coalesce(sum(bytes), 0)::int8`.as('bytes')])
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), bytes: Number(row.bytes) };
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
