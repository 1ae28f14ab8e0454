import type { Kysely } from 'kysely';
import type { AuditEvent } from '@atelier/contracts';
import type { DB } from '#src/db/schema.ts';
import { newId } from '#src/lib/ids.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditRepository } from './audit.repository.ts';

/** One line of the append-only audit log: who did what to what, why, from where. */
export interface AuditEntry {
  /** The staff member or user acting; null for the operator's CLI. */
  actorId: string | null;
  actorIp: string | null;
  /** Past tense, dotted: `content.generation_viewed`, `staff.role_granted`, `catalogue.model_updated`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * The audit log of staff and security actions (SEC-14, ASVS 16.3.2). Events are only ever appended;
 * a trigger in the database refuses any UPDATE, DELETE or TRUNCATE, so no code path (and no staff
 * member with SQL access as the application's role) can rewrite history.
 */
export function createAuditLog(deps: { repository: AuditRepository; db: Kysely<DB> }) {
  const { repository } = deps;
  return {
    /** Appends an event; pass the transaction when the event belongs to a change made in it. */
    async record(entry: AuditEntry, trx?: Kysely<DB>): Promise<void> {
      await repository.insert(trx ?? deps.db, {
        id: newId(),
        actor_id: entry.actorId,
        actor_ip: entry.actorIp,
        action: entry.action,
        target_type: entry.targetType ?? null,
        target_id: entry.targetId ?? null,
        reason: entry.reason ?? null,
        details: entry.details ?? {},
      });
    },

    async list(query: { actor?: string | undefined; action?: string | undefined; target?: string | undefined; cursor?: string | undefined; limit: number }): Promise<{ data: AuditEvent[]; next_cursor: string | null }> {
      if (query.cursor !== undefined && !/^[0-9a-f-]{36}$/i.test(query.cursor)) throw new AppError('validation_failed', 'Invalid cursor');
      const rows = await repository.list({ actor: query.actor, action: query.action, target: query.target, before: query.cursor, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      return {
        data: page.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actor_id: r.actor_id,
          actor_ip: r.actor_ip,
          action: r.action,
          target_type: r.target_type,
          target_id: r.target_id,
          reason: r.reason,
          details: r.details,
        })),
        next_cursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  };
}
