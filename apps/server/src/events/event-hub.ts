import { sql } from 'kysely';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Database } from '#src/db/client.ts';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '#src/db/schema.ts';

/**
 * Live updates through PostgreSQL NOTIFY. A state change calls `publishGenerationChanged(trx, …)` in
 * its own transaction, so the event goes out only if the change commits — on PGlite and on a
 * PostgreSQL server alike. Each process holds one LISTEN and fans events out to its SSE subscribers;
 * with many API nodes, every node hears every event.
 */
const CHANNEL = 'atelier_generations';
const payloadSchema = z.object({ generationId: z.string(), userId: z.string() });
export type GenerationChanged = z.infer<typeof payloadSchema>;

export async function publishGenerationChanged(trx: Transaction<DB>, event: GenerationChanged): Promise<void> {
  await sql`select pg_notify(${CHANNEL}, ${JSON.stringify(event)})`.execute(trx);
}

/** A user's credits changed (a grant, a hold, a charge, a purchase…): their open pages refresh the balance. */
const CREDITS_CHANNEL = 'atelier_credits';
export async function publishCreditsChanged(trx: Transaction<DB>, userId: string): Promise<void> {
  await sql`select pg_notify(${CREDITS_CHANNEL}, ${userId})`.execute(trx);
}

/**
 * Wakes whichever worker is waiting on a generation's engine (an engine webhook arrived, on any API
 * node), so it polls now instead of at its next back-off step.
 */
const WAKE_CHANNEL = 'atelier_engine_wake';
export async function publishEngineWake(db: Kysely<DB>, generationId: string): Promise<void> {
  await sql`select pg_notify(${WAKE_CHANNEL}, ${generationId})`.execute(db);
}

export interface EventHub {
  subscribe(userId: string, listener: (event: GenerationChanged) => void): () => void;
  /** Every event, for in-process consumers such as benchmarks and the job runner's cancel watch. */
  subscribeAll(listener: (event: GenerationChanged) => void): () => void;
  /** The user's credits changed (coalesced per NOTIFY; the listener reads the balance itself). */
  subscribeCredits(userId: string, listener: () => void): () => void;
  /** Sleeps up to `ms`; resolves early (true) when the generation's engine wake arrives. */
  sleepUnlessWoken(generationId: string, ms: number): Promise<boolean>;
  /** Wakes this process's sleeper on a generation (an engine pushed an update to this worker). */
  wakeLocal(generationId: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Listeners per user: adding returns the function that removes it (and the user's entry once empty). */
function perUser<L>() {
  const byUser = new Map<string, Set<L>>();
  return {
    add(userId: string, listener: L): () => void {
      const set = byUser.get(userId) ?? new Set<L>();
      set.add(listener);
      byUser.set(userId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) byUser.delete(userId);
      };
    },
    of: (userId: string): Iterable<L> => byUser.get(userId) ?? [],
  };
}

export function createEventHub(database: Database, logger: Logger): EventHub {
  const generationListeners = perUser<(event: GenerationChanged) => void>();
  const all = new Set<(event: GenerationChanged) => void>();
  const creditListeners = perUser<() => void>();
  const sleepers = new Map<string, Set<() => void>>();
  /**
   * Wakes that arrived while nobody slept on the generation (the worker was polling or writing its
   * heartbeat): the next sleep returns at once instead of losing them. Kept briefly, and bounded.
   */
  const pendingWakes = new Map<string, number>();
  const PENDING_WAKE_MS = 60_000;
  const wake = (generationId: string) => {
    const set = sleepers.get(generationId);
    if (set?.size) {
      for (const fn of [...set]) fn();
      return;
    }
    pendingWakes.set(generationId, Date.now());
    if (pendingWakes.size > 10_000) pendingWakes.delete(pendingWakes.keys().next().value!);
  };
  let unlisten: (() => Promise<void>)[] = [];

  const dispatch = (raw: string) => {
    const parsed = payloadSchema.safeParse(safeJson(raw));
    if (!parsed.success) return logger.warn('ignored a malformed generation event');
    for (const listener of all) listener(parsed.data);
    for (const listener of generationListeners.of(parsed.data.userId)) listener(parsed.data);
  };

  return {
    subscribe: (userId, listener) => generationListeners.add(userId, listener),
    subscribeCredits: (userId, listener) => creditListeners.add(userId, listener),
    subscribeAll(listener) {
      all.add(listener);
      return () => all.delete(listener);
    },
    wakeLocal: wake,
    sleepUnlessWoken(generationId, ms) {
      const pending = pendingWakes.get(generationId);
      pendingWakes.delete(generationId);
      if (pending !== undefined && Date.now() - pending < PENDING_WAKE_MS) return Promise.resolve(true);
      return new Promise((resolve) => {
        const set = sleepers.get(generationId) ?? new Set();
        const done = (woken: boolean) => {
          clearTimeout(timer);
          set.delete(onWake);
          if (set.size === 0) sleepers.delete(generationId);
          resolve(woken);
        };
        const onWake = () => done(true);
        const timer = setTimeout(() => done(false), ms);
        set.add(onWake);
        sleepers.set(generationId, set);
      });
    },
    async start() {
      unlisten = [
        await database.listen(CHANNEL, dispatch),
        await database.listen(WAKE_CHANNEL, wake),
        await database.listen(CREDITS_CHANNEL, (userId) => {
          for (const listener of creditListeners.of(userId)) listener();
        }),
      ];
    },
    async stop() {
      await Promise.all(unlisten.map((u) => u()));
      unlisten = [];
    },
  };
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
