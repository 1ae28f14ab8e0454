import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { fromPglite, type Db as IDatabase } from 'pg-boss';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;

/**
 * One database handle for the whole process: Kysely for queries, a pg-boss executor, and LISTEN.
 * The same SQL runs on both backends; only the connection plumbing differs.
 */
export interface Database {
  kind: 'pglite' | 'postgres';
  db: Db;
  /** How pg-boss reaches this database: its own pool on PostgreSQL, the shared gate on PGlite. */
  boss: { connectionString: string } | { db: IDatabase };
  /**
   * Runs library code (pg-boss) that may issue its own statements on behalf of a caller that is
   * inside a transaction. On PGlite those statements join the caller's connection instead of waiting
   * for it (which would deadlock); on PostgreSQL they use the pool as usual.
   */
  onBehalfOfTransaction<T>(fn: () => Promise<T>): Promise<T>;
  /** PGlite only: the whole data directory as a tarball (a consistent snapshot; backups and test templates). */
  dump?(): Promise<Blob>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * `dir` is a directory, or `memory://` for a throwaway in-memory database; `loadDataDir` starts it from
 * a dump made by `dumpDataDir()` (tests start from a migrated template instead of running initdb).
 */
export type DatabaseConfig = { kind: 'pglite'; dir: string; loadDataDir?: Blob } | { kind: 'postgres'; url: string };

/** int8 comes back as a JS number on both backends (ids are uuids; our int8 values stay far below 2^53). */
const parseInt8 = (v: string) => Number(v);

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === 'postgres' ? openPostgres(config.url) : openPglite(config.dir, config.loadDataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const typeParser = (oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? parseInt8 : (pg.types.getTypeParser(oid, format as 'text') as (v: string) => unknown);
  const pool = new pg.Pool({ connectionString: url, max: 20, types: { getTypeParser: typeParser } as unknown as pg.CustomTypesConfig });
  // An idle connection the server drops (restart, failover, pg_terminate_backend) emits 'error' on the
  // pool; unhandled, that would crash the process. The pool replaces it on the next query.
  pool.on('error', () => undefined);
  // Fail fast at boot with a readable message instead of on the first request.
  await pool.query('select 1');
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    boss: { connectionString: url },
    onBehalfOfTransaction: (fn) => fn(),
    async listen(channel, onPayload) {
      return listenPostgres(url, channel, onPayload);
    },
    async close() {
      await db.destroy();
    },
  };
}

/** A dedicated connection for LISTEN that reconnects with back-off when the server goes away. */
async function listenPostgres(url: string, channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
  let closed = false;
  let client: pg.Client | null = null;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload !== undefined) onPayload(msg.payload);
    });
    c.on('error', () => {
      if (closed) return;
      client = null;
      setTimeout(() => void connect().catch(() => undefined), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = c;
  };
  await connect();
  return async () => {
    closed = true;
    await client?.end().catch(() => undefined);
  };
}

/**
 * PGlite is a single connection. Everything that touches it — Kysely queries and transactions,
 * pg-boss, LISTEN — goes through one FIFO gate, so a statement can never land inside somebody
 * else's open transaction. Inside a transaction, use the transaction handle: asking the gate for a
 * second connection while holding it would wait forever.
 */
class Gate {
  #tail: Promise<void> = Promise.resolve();
  /** Set while code runs on behalf of the current gate holder; its statements pass straight through. */
  readonly holder = new AsyncLocalStorage<true>();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holder.getStore()) return fn();
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

async function openPglite(dir: string, loadDataDir?: Blob): Promise<Database> {
  const inMemory = dir.startsWith('memory://');
  if (!inMemory) fs.mkdirSync(path.dirname(dir), { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : dir, { parsers: { [pgliteTypes.INT8]: parseInt8 }, ...(loadDataDir ? { loadDataDir } : {}) });
  const gate = new Gate();

  const runQuery = async (text: string, params: readonly unknown[]) => {
    if (params.length === 0 && text.includes(';')) {
      // The simple protocol allows several statements; the extended one used by query() does not.
      const results = await pglite.exec(text);
      const last = results.at(-1);
      return { rows: last?.rows ?? [], affectedRows: last?.affectedRows ?? 0 };
    }
    return pglite.query(text, params as unknown[]);
  };

  const pool: PostgresPool = {
    options: {},
    async connect(): Promise<PostgresPoolClient> {
      const release = await gate.acquire();
      let released = false;
      const query = async (text: string, params: readonly unknown[]) => {
        const result = await runQuery(text, params);
        const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SELECT';
        return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
      };
      return {
        // Kysely's client type also has a cursor overload; Atelier never streams with cursors.
        query: query as PostgresPoolClient['query'],
        release() {
          if (!released) {
            released = true;
            release();
          }
        },
      };
    },
    async end() {
      /* closed in close() below */
    },
  };

  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  // pg-boss issues multi-statement DDL and `locked()` blocks; fromPglite knows PGlite's query/exec split.
  const bossDb = fromPglite({
    query: (text: string, values?: unknown[]) => gate.run(() => pglite.query(text, values)),
    exec: (text: string) => gate.run(() => pglite.exec(text)),
    listen: (channel: string, cb: (payload: string) => void) => gate.run(() => pglite.listen(channel, cb)),
  } as unknown as PGlite);

  return {
    kind: 'pglite',
    db,
    boss: { db: bossDb },
    onBehalfOfTransaction: (fn) => gate.holder.run(true, fn),
    dump: () => gate.run(() => pglite.dumpDataDir('none')),
    async listen(channel, onPayload) {
      const unsubscribe = await gate.run(() => pglite.listen(channel, onPayload));
      return () => gate.run(() => unsubscribe());
    },
    async close() {
      await gate.run(async () => {
        await pglite.close();
      });
    },
  };
}
