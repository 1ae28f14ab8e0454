import { sql, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB, EngineHandleJson, GenerationRow, NewGeneration, RouteAttempt } from '#src/db/schema.ts';
import type { Engine, FailureCode, GenerationStatus, Workflow } from '@atelier/contracts';

/** SQL for the generations table. Every user-facing read is scoped by user_id in the query itself. */
export type GenerationsRepository = ReturnType<typeof createGenerationsRepository>;
type Executor = Db | Transaction<DB>;

/** Every column but prompt_tsv (search reads it in SQL; no caller needs it back). Complete by construction. */
const GENERATION_COLUMN_SET: Record<keyof GenerationRow, true> = {
  id: true, user_id: true, status: true, model_id: true, engine: true, engine_model: true, prompt: true, width: true, height: true,
  aspect_ratio: true, seed: true, output_format: true, idempotency_key: true, request_hash: true, route_index: true, route_history: true,
  engine_request_id: true, engine_handle: true, webhook_token_hash: true, submitted_at: true, engine_finished_at: true, engine_cost: true,
  progress: true, attempt: true, lease_until: true, error_code: true, error_detail: true, cost_credits: true, created_at: true,
  updated_at: true, started_at: true, completed_at: true, parent_id: true, workflow: true, batch_id: true, favorite: true,
};
export const GENERATION_COLUMNS = Object.keys(GENERATION_COLUMN_SET) as (keyof GenerationRow)[];

/** A search matching fewer rows than this is answered from the search index alone. */
const SEARCH_PROBE = 1000;
const CLOCK_SKEW_MS = 3_600_000;

/** The smallest UUIDv7 of a millisecond: every id made at or after it sorts at or above it. */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.min(ms, 2 ** 48 - 1)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`;
}

/** History filters, already validated and resolved (dates as instants, q as a tsquery). */
export interface HistoryFilters {
  tsQuery?: string | null;
  model?: string | undefined;
  workflow?: Workflow | undefined;
  status?: GenerationStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  favorite?: boolean | undefined;
  collectionId?: string | undefined;
}

export function createGenerationsRepository(db: Db) {
  return {
    /** Inserts unless (user, idempotency key) exists; undefined means a concurrent request won the key. */
    async insert(trx: Transaction<DB>, row: NewGeneration): Promise<GenerationRow | undefined> {
      return trx
        .insertInto('generations')
        .values(row)
        .onConflict((oc) => oc.columns(['user_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .returning(GENERATION_COLUMNS)
        .executeTakeFirst();
    },

    getForUser(userId: string, id: string, ex: Executor = db): Promise<GenerationRow | undefined> {
      return ex.selectFrom('generations').select(GENERATION_COLUMNS).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    },

    getByIdempotencyKey(userId: string, key: string): Promise<GenerationRow | undefined> {
      return db.selectFrom('generations').select(GENERATION_COLUMNS).where('user_id', '=', userId).where('idempotency_key', '=', key).executeTakeFirst();
    },

    /**
     * The user's history, newest first, keyset-paged on id (UUIDv7 sorts by time), narrowed by every
     * filter given. `tsQuery` comes from `toPrefixTsQuery` (built by PostgreSQL's own parser).
     */
    async search(userId: string, f: HistoryFilters & { beforeId: string | null; limit: number }): Promise<GenerationRow[]> {
      const filtered = <Q extends SelectQueryBuilder<DB, 'generations', object>>(q: Q): Q => {
        let out = q.where('user_id', '=', userId);
        if (f.beforeId) out = out.where('id', '<', f.beforeId);
        if (f.tsQuery) out = out.where(sql<boolean>`prompt_tsv @@ to_tsquery('simple', ${f.tsQuery})`);
        if (f.model) out = out.where('model_id', '=', f.model);
        if (f.workflow) out = out.where('workflow', '=', f.workflow);
        if (f.status) out = out.where('status', '=', f.status);
        // Ids are UUIDv7 of their creation time, so a date range is also an id range: the history's own
        // index then starts at the range instead of walking to it from today. Widened by an hour for clock
        // skew between app and database; created_at stays the exact test.
        if (f.from) out = out.where('id', '>=', uuidV7Floor(f.from.getTime() - CLOCK_SKEW_MS)).where('created_at', '>=', f.from);
        if (f.to) out = out.where('id', '<', uuidV7Floor(f.to.getTime() + CLOCK_SKEW_MS)).where('created_at', '<', f.to);
        if (f.favorite !== undefined) out = out.where('favorite', '=', f.favorite);
        if (f.collectionId) out = out.where('id', 'in', db.selectFrom('collection_items').select('generation_id').where('collection_id', '=', f.collectionId));
        return out as Q;
      };
      if (f.tsQuery) {
        // A rare word would make "newest first, filter as you go" read the whole history (PostgreSQL
        // cannot estimate prefix matches). Ask the search index first: when few rows match, sort just those.
        const probe = await filtered(db.selectFrom('generations').select('id')).limit(SEARCH_PROBE).execute();
        if (probe.length < SEARCH_PROBE) {
          if (probe.length === 0) return [];
          return db.selectFrom('generations').select(GENERATION_COLUMNS).where('id', 'in', probe.map((r) => r.id)).orderBy('id', 'desc').limit(f.limit).execute();
        }
      }
      return filtered(db.selectFrom('generations').select(GENERATION_COLUMNS)).orderBy('id', 'desc').limit(f.limit).execute();
    },

    /**
     * A prefix-matching tsquery for a search box ("red fox" → 'red':* & 'fox':*), tokenised by the same
     * parser that built prompt_tsv, so what matches is exactly what was indexed. Null when q has no words.
     */
    async toPrefixTsQuery(q: string): Promise<string | null> {
      const row = await sql<{ query: string | null }>`
        select string_agg(quote_literal(lexeme) || ':*', ' & ') as query
        from (select lexeme from unnest(to_tsvector('simple', ${q})) limit 16) words`.execute(db);
      return row.rows[0]?.query ?? null;
    },

    /** The generations a request made together (variations), in seed order. */
    listBatch(userId: string, batchId: string): Promise<GenerationRow[]> {
      return db.selectFrom('generations').select(GENERATION_COLUMNS).where('user_id', '=', userId).where('batch_id', '=', batchId).orderBy('id').execute();
    },

    async setFavorite(trx: Transaction<DB>, userId: string, ids: readonly string[], favorite: boolean): Promise<string[]> {
      const rows = await trx.updateTable('generations').set({ favorite, updated_at: sql`now()` }).where('user_id', '=', userId).where('id', 'in', ids).where('favorite', '!=', favorite).returning('id').execute();
      return rows.map((r) => r.id);
    },

    /** Which of these ids are the user's generations. */
    async ownedIds(ex: Executor, userId: string, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      return (await ex.selectFrom('generations').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute()).map((r) => r.id);
    },

    systemGet(id: string): Promise<GenerationRow | undefined> {
      return db.selectFrom('generations').select(GENERATION_COLUMNS).where('id', '=', id).executeTakeFirst();
    },

    /**
     * Takes the lease on a generation for one worker: only when it is queued, or running with an
     * expired lease (its worker died or it is due for a retry). Counts the attempt.
     */
    systemClaim(trx: Transaction<DB>, id: string, leaseUntil: Date): Promise<GenerationRow | undefined> {
      return trx
        .updateTable('generations')
        .set({
          status: 'running',
          attempt: sql`attempt + 1`,
          lease_until: leaseUntil,
          started_at: sql`coalesce(started_at, now())`,
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)])])]))
        .returning(GENERATION_COLUMNS)
        .executeTakeFirst();
    },

    /** Persists the engine's handle before waiting on it, so a restarted worker resumes instead of submitting again. */
    async systemSaveSubmission(id: string, submitted: { handle: EngineHandleJson; cost: number | null }): Promise<boolean> {
      const r = await db
        .updateTable('generations')
        .set({ engine_request_id: submitted.handle.requestId, engine_handle: JSON.stringify(submitted.handle), engine_cost: submitted.cost, submitted_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** Keeps a long engine call (a synchronous submit) from losing its lease to another worker. */
    async systemRenewLease(id: string, leaseUntil: Date): Promise<void> {
      await db.updateTable('generations').set({ lease_until: leaseUntil }).where('id', '=', id).where('status', '=', 'running').execute();
    },

    async systemSetWebhookTokenHash(id: string, hash: string): Promise<void> {
      await db.updateTable('generations').set({ webhook_token_hash: hash }).where('id', '=', id).where('status', '=', 'running').execute();
    },

    /**
     * Moves the generation to another route (or back to the first one for a later retry): forgets the
     * old route's engine request, records why, and hands the lease back until `leaseUntil`.
     */
    async systemSwitchRoute(id: string, next: { index: number; engine: Engine; engineModel: string; leaseUntil: Date; attempt: RouteAttempt }): Promise<boolean> {
      const r = await db
        .updateTable('generations')
        .set({
          route_index: next.index,
          engine: next.engine,
          engine_model: next.engineModel,
          engine_request_id: null,
          engine_handle: null,
          engine_cost: null,
          submitted_at: null,
          progress: null,
          lease_until: next.leaseUntil,
          error_detail: next.attempt.reason,
          route_history: sql`route_history || ${JSON.stringify([next.attempt])}::jsonb`,
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** A generation for an incoming engine webhook: any status, so a late webhook can be acknowledged. */
    systemGetForWebhook(id: string): Promise<Pick<GenerationRow, 'id' | 'status' | 'engine' | 'engine_request_id' | 'webhook_token_hash'> | undefined> {
      return db.selectFrom('generations').select(['id', 'status', 'engine', 'engine_request_id', 'webhook_token_hash']).where('id', '=', id).executeTakeFirst();
    },

    /** Progress and lease renewal while the engine works; returns the current status so the worker notices a cancel. */
    async systemHeartbeat(trx: Transaction<DB>, id: string, progress: number | null, leaseUntil: Date): Promise<GenerationRow['status'] | undefined> {
      const row = await trx
        .updateTable('generations')
        .set({ progress, lease_until: leaseUntil, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .returning('status')
        .executeTakeFirst();
      if (row) return row.status;
      return (await trx.selectFrom('generations').select('status').where('id', '=', id).executeTakeFirst())?.status;
    },

    /** Hands the generation back for a later attempt: the lease runs until the retry is due, so nobody takes it earlier. */
    async systemScheduleRetry(id: string, retryAt: Date, detail: string): Promise<boolean> {
      const r = await db
        .updateTable('generations')
        .set({ lease_until: retryAt, error_detail: detail, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** When the engine reported its result (before download and storage), for overhead timings. */
    async systemMarkEngineFinished(id: string): Promise<void> {
      await db.updateTable('generations').set({ engine_finished_at: sql`now()` }).where('id', '=', id).where('engine_finished_at', 'is', null).execute();
    },

    /** Marks success; records the seed the engine used when the request left it to the engine. */
    systemSucceed(trx: Transaction<DB>, id: string, engineSeed: number | null): Promise<GenerationRow | undefined> {
      return trx
        .updateTable('generations')
        .set({ status: 'succeeded', seed: sql`coalesce(seed, ${engineSeed}::bigint)`, progress: 1, lease_until: null, error_detail: null, engine_finished_at: sql`coalesce(engine_finished_at, now())`, completed_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .returning(GENERATION_COLUMNS)
        .executeTakeFirst();
    },

    /** Ends an unfinished generation as failed or blocked; a no-op if it already ended (e.g. canceled). */
    systemFinish(trx: Transaction<DB>, id: string, status: 'failed' | 'blocked', code: FailureCode, detail: string | null): Promise<GenerationRow | undefined> {
      return trx
        .updateTable('generations')
        .set({ status, error_code: code, error_detail: detail, lease_until: null, engine_finished_at: sql`coalesce(engine_finished_at, now())`, completed_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .returning(GENERATION_COLUMNS)
        .executeTakeFirst();
    },

    cancel(trx: Transaction<DB>, userId: string, id: string): Promise<GenerationRow | undefined> {
      return trx
        .updateTable('generations')
        .set({ status: 'canceled', error_code: 'canceled', lease_until: null, completed_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('status', 'in', ['queued', 'running'])
        .returning(GENERATION_COLUMNS)
        .executeTakeFirst();
    },

    delete(trx: Transaction<DB>, userId: string, id: string): Promise<{ id: string } | undefined> {
      return trx.deleteFrom('generations').where('id', '=', id).where('user_id', '=', userId).returning('id').executeTakeFirst();
    },

    /**
     * Unfinished generations nobody holds: queued for a while, or running with a lease that expired
     * more than a grace period ago (a retry's own job claims it right at expiry; the sweeper is the fallback).
     */
    systemListOrphans(opts: { queuedBefore: Date; leaseGraceMs: number; limit: number; ignoreLeases?: boolean }): Promise<Pick<GenerationRow, 'id' | 'user_id' | 'status' | 'attempt' | 'created_at'>[]> {
      return db
        .selectFrom('generations')
        .select(['id', 'user_id', 'status', 'attempt', 'created_at'])
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'queued'), eb('created_at', '<', opts.queuedBefore)]),
            opts.ignoreLeases
              ? eb('status', '=', 'running')
              : eb.and([eb('status', '=', 'running'), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now() - make_interval(secs => ${opts.leaseGraceMs / 1000})`)])]),
          ]),
        )
        .orderBy('id')
        .limit(opts.limit)
        .execute();
    },

    /** Generations queued or running for a user (admission limits; a partial index keeps it cheap). */
    async countUnfinished(ex: Executor, userId: string): Promise<number> {
      const r = await ex.selectFrom('generations').select(sql<number>`count(*)::int`.as('n')).where('user_id', '=', userId).where('status', 'in', ['queued', 'running']).executeTakeFirstOrThrow();
      return r.n;
    },

    /** Current status of each generation that still exists (for settling credit holds). */
    async systemStatuses(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('generations').select(['id', 'status']).where('id', 'in', ids).execute();
      return new Map(rows.map((r) => [r.id, r.status]));
    },

    /** Lets a newly started single process take over every lease held by its dead predecessor. */
    async systemExpireLeases(): Promise<number> {
      const r = await db.updateTable('generations').set({ lease_until: null }).where('status', '=', 'running').executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}
