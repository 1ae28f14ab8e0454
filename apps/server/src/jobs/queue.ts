import { PgBoss, fromKysely, type Job } from 'pg-boss';
import type { Transaction } from 'kysely';
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Database } from '#src/db/client.ts';
import type { DB } from '#src/db/schema.ts';

/**
 * Typed job definitions on pg-boss, in the same database as the data, so a job is enqueued in the
 * same transaction as the state change that needs it. Payloads carry ids only; handlers reload state
 * and are idempotent (delivery is at least once).
 */
export interface JobDefinition<P> {
  name: string;
  payload: z.ZodType<P>;
  /** pg-boss queue options: retries here cover crashes and unexpected errors; engine back-off is the handler's own. */
  queue: { retryLimit: number; retryDelay: number; retryBackoff: boolean; expireInSeconds: number; heartbeatSeconds?: number };
  /** Cron schedule (UTC) for periodic jobs. */
  cron?: string;
  /** Worker slots per process: 'config' = WORKER_CONCURRENCY (jobs that mostly wait on engines). */
  concurrency: number | 'config';
  /** How often idle slots look for delayed jobs that became due (NOTIFY covers new ones). */
  duePollSeconds: number;
}

export function defineJob<P>(def: JobDefinition<P>): JobDefinition<P> {
  return def;
}

export type JobHandler<P> = (payload: P, meta: { jobId: string; retryCount: number; signal: AbortSignal }) => Promise<void>;

export interface EnqueueOptions {
  /** Enqueue inside this transaction: the job exists only if the transaction commits. */
  trx?: Transaction<DB>;
  startAfterMs?: number;
  singletonKey?: string;
}

export interface JobQueue {
  enqueue<P>(def: JobDefinition<P>, payload: P, opts?: EnqueueOptions): Promise<void>;
}

export interface JobRunner extends JobQueue {
  register<P>(def: JobDefinition<P>, handler: JobHandler<P>): void;
  /** Creates queues and schedules; with `work`, starts fetching jobs for every registered handler. */
  start(opts: { work: boolean; concurrency: number }): Promise<void>;
  stop(opts?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
}

export function createJobRunner(database: Database, definitions: readonly JobDefinition<unknown>[], logger: Logger): JobRunner {
  const boss = new PgBoss({
    ...database.boss,
    ...(database.kind === 'pglite' ? { backend: 'pglite' as const } : {}),
    schema: 'pgboss',
    useListenNotify: true,
    superviseIntervalSeconds: 30,
  });
  boss.on('error', (error: unknown) => logger.error({ err: error }, 'job queue error'));
  const handlers = new Map<string, JobHandler<unknown>>();
  let started = false;

  return {
    register(def, handler) {
      if (!definitions.includes(def as JobDefinition<unknown>)) throw new Error(`Job ${def.name} is not in the registry`);
      handlers.set(def.name, handler as JobHandler<unknown>);
    },

    async enqueue(def, payload, opts = {}) {
      if (!started) throw new Error('The job queue is not started');
      const data = def.payload.parse(payload) as object;
      const send = () =>
        boss.send(def.name, data, {
          ...(opts.trx ? { db: fromKysely(opts.trx) } : {}),
          ...(opts.startAfterMs ? { startAfter: new Date(Date.now() + opts.startAfterMs) } : {}),
          ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
        });
      // pg-boss may read its queue settings before the insert; inside our transaction that read must not wait for the connection we hold.
      await (opts.trx ? database.onBehalfOfTransaction(send) : send());
    },

    async start({ work, concurrency }) {
      await boss.start();
      started = true;
      for (const def of definitions) {
        await boss.createQueue(def.name, { ...def.queue, notify: true } as Parameters<PgBoss['createQueue']>[1]);
        if (def.cron) await boss.schedule(def.name, def.cron, {}, { tz: 'UTC' } as never);
      }
      if (!work) return;
      const missing = definitions.filter((d) => !handlers.has(d.name)).map((d) => d.name);
      if (missing.length) throw new Error(`No handler registered for job(s): ${missing.join(', ')}`);
      for (const def of definitions) {
        const handler = handlers.get(def.name)!;
        // Every local worker slot polls on its own: NOTIFY wakes them when a job is inserted, but not when
        // a delayed job (a retry) becomes due, so that backstop poll bounds how late a retry starts.
        const slots = def.concurrency === 'config' ? concurrency : def.concurrency;
        await boss.work(def.name, { batchSize: 1, localConcurrency: slots, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: def.duePollSeconds }, async (jobs: Job<object>[]) => {
          for (const job of jobs) {
            const payload = def.payload.parse(job.data);
            await handler(payload, { jobId: job.id, retryCount: job.retryCount, signal: job.signal });
          }
        });
      }
    },

    async stop({ graceful = true, timeoutMs = 30_000 } = {}) {
      if (!started) return;
      started = false;
      await boss.stop({ graceful, timeout: timeoutMs, close: true });
    },
  };
}
