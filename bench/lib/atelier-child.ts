/**
 * A real Atelier (lib/atelier.ts: wired as `main.ts start` wires it, PGlite on disk or a fresh PostgreSQL
 * database) in its own process. The bench process is then only a client: its request building, response
 * reading and bookkeeping are not counted as the server's CPU or memory, and do not run on the server's
 * event loop; the server's RSS is its own.
 *
 * A bench can add requests that run inside the server process, next to the container (e.g. calling a
 * service directly, or seeding through the server's own database connection): `handlers` names a module
 * whose `atelierChildHandlers(server)` returns them.
 *
 * Requests every child answers: 'memory' → process.memoryUsage(), 'cpu' → process.cpuUsage(), and 'stop', which
 * closes the server (and drops its PostgreSQL database, removes its data directory) and answers when that is done.
 * Use `stopAtelierChild`: `Child.close()` alone kills a child that takes more than 5 s to close, which PGlite can.
 */
import path from 'node:path';
import { forkChild, serveParent, type Child } from './child.ts';
import { startAtelier, type Atelier, type DbKind } from './atelier.ts';

export interface AtelierChildOptions {
  kind: DbKind;
  env?: Record<string, string>;
  /** Absolute path of a module exporting `atelierChildHandlers(server: Atelier)`. */
  handlers?: string;
}

export interface AtelierChildInfo {
  kind: DbKind;
  baseUrl: string;
  publicUrl: string;
  dataDir: string;
  /** PostgreSQL only: the run's own database. */
  databaseUrl: string | null;
  /** The server process. */
  pid: number;
}

export type ChildHandlers = Record<string, (payload: Record<string, unknown>) => unknown>;

const CHILD_ENV = 'ATELIER_BENCH_SERVER_CHILD';

export function startAtelierChild(options: AtelierChildOptions, opts: { name?: string; startTimeoutMs?: number } = {}): Promise<Child<AtelierChildInfo>> {
  return forkChild<AtelierChildInfo>(import.meta.filename, options, {
    name: opts.name ?? `atelier (${options.kind})`,
    startTimeoutMs: opts.startTimeoutMs ?? 120_000,
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
}

/** Closes the server inside the child, waiting as long as that takes, then ends the child. */
export async function stopAtelierChild(child: Child<AtelierChildInfo>, timeoutMs = 120_000): Promise<void> {
  await child.call('stop', {}, timeoutMs).catch(() => undefined);
  await child.close();
}

async function childMain(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as AtelierChildOptions;
  const server: Atelier = await startAtelier({ kind: options.kind, ...(options.env ? { env: options.env } : {}) });
  const extra = options.handlers
    ? ((await import(path.resolve(options.handlers))) as { atelierChildHandlers(server: Atelier): ChildHandlers }).atelierChildHandlers(server)
    : {};
  const database = server.container.config.database;
  const info: AtelierChildInfo = {
    kind: options.kind,
    baseUrl: server.baseUrl,
    publicUrl: server.publicUrl,
    dataDir: server.dataDir,
    databaseUrl: database.kind === 'postgres' ? database.url : null,
    pid: process.pid,
  };
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= server.close());
  // The parent went away (Ctrl-C) while a request was running: its answer can no longer be sent. Without this
  // listener that is an uncaught 'error', and the process would die before `close` drops the database.
  process.on('error', () => undefined);
  serveParent({ ...info }, { memory: () => process.memoryUsage(), cpu: () => process.cpuUsage(), stop: () => close(), ...extra }, close);
}

if (process.env[CHILD_ENV] && path.resolve(process.argv[1] ?? '') === import.meta.filename) await childMain();
