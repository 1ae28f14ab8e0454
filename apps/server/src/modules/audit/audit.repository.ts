import type { Kysely } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { AuditEventRow, DB } from '#src/db/schema.ts';

export type AuditRepository = ReturnType<typeof createAuditRepository>;
type Executor = Kysely<DB>;

/** Insert and select only: the table refuses UPDATE, DELETE and TRUNCATE (migration 0008's trigger). */
export function createAuditRepository(db: Db) {
  return {
    async insert(ex: Executor, row: Omit<AuditEventRow, 'at' | 'details'> & { details: Record<string, unknown> }): Promise<void> {
      await ex
        .insertInto('audit_events')
        .values({ ...row, details: JSON.stringify(row.details) })
        .execute();
    },
    /** Newest first, keyset-paged on the time-ordered id. */
    list(filter: { actor?: string | undefined; action?: string | undefined; target?: string | undefined; before?: string | undefined; limit: number }): Promise<AuditEventRow[]> {
      let q = db.selectFrom('audit_events').selectAll();
      if (filter.actor) q = q.where('actor_id', '=', filter.actor);
      if (filter.action) q = q.where('action', '=', filter.action);
      if (filter.target) q = q.where('target_id', '=', filter.target);
      if (filter.before) q = q.where('id', '<', filter.before);
      return q.orderBy('id', 'desc').limit(filter.limit).execute();
    },
  };
}
