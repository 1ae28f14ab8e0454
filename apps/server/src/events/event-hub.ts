import { sql } from 'kysely';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Database } from '#src/db/client.ts';
import type { Transaction } from 'kysely';
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

export interface EventHub {
  subscribe(userId: string, listener: (event: GenerationChanged) => void): () => void;
  /** Every event, for in-process consumers such as benchmarks and the job runner's cancel watch. */
  subscribeAll(listener: (event: GenerationChanged) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createEventHub(database: Database, logger: Logger): EventHub {
  const byUser = new Map<string, Set<(event: GenerationChanged) => void>>();
  const all = new Set<(event: GenerationChanged) => void>();
  let unlisten: (() => Promise<void>) | null = null;

  const dispatch = (raw: string) => {
    const parsed = payloadSchema.safeParse(safeJson(raw));
    if (!parsed.success) return logger.warn('ignored a malformed generation event');
    for (const listener of all) listener(parsed.data);
    for (const listener of byUser.get(parsed.data.userId) ?? []) listener(parsed.data);
  };

  return {
    subscribe(userId, listener) {
      const set = byUser.get(userId) ?? new Set();
      set.add(listener);
      byUser.set(userId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) byUser.delete(userId);
      };
    },
    subscribeAll(listener) {
      all.add(listener);
      return () => all.delete(listener);
    },
    async start() {
      unlisten = await database.listen(CHANNEL, dispatch);
    },
    async stop() {
      await unlisten?.();
      unlisten = null;
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
