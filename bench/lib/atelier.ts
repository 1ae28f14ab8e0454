import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../apps/server/src/config.ts';
import { createContainer, type Container } from '../../apps/server/src/container.ts';
import { buildApp } from '../../apps/server/src/app.ts';
import { createLogger } from '../../apps/server/src/lib/logger.ts';
import type { RunnerOptions } from '../../apps/server/src/modules/generations/generation.runner.ts';

/**
 * A real Atelier for benchmarks, wired the way `main.ts start` wires it: loadConfig → createContainer → buildApp →
 * start({ work: true }) → listen. It uses none of the test harness's shortcuts: the embedded database lives on disk
 * in its own data directory (not in memory from a template), NODE_ENV is production, and the runner keeps
 * whatever pacing the caller passes.
 */
export type DbKind = 'pglite' | 'postgres';

export interface Atelier {
  kind: DbKind;
  container: Container;
  app: FastifyInstance;
  /** Where the server listens (loopback, ephemeral port). */
  baseUrl: string;
  /** PUBLIC_URL: the origin a browser would send. */
  publicUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

const adminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database on the PostgreSQL server, dropped again by `drop()`. */
async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `atelier_t_bench_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // If the server failed half-way through starting, its pool is still open; `with (force)` ends those
      // connections, and their pool then emits 57P01. That is expected here, not a crash.
      const ignoreTerminated = (error: Error & { code?: string }) => {
        if (error.code !== '57P01') throw error;
      };
      process.on('uncaughtException', ignoreTerminated);
      const c = new pg.Client({ connectionString: adminUrl() });
      try {
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end().catch(() => undefined);
        setTimeout(() => process.off('uncaughtException', ignoreTerminated), 1_000).unref();
      }
    },
  };
}

export async function startAtelier(opts: {
  kind: DbKind;
  env?: Record<string, string>;
  runner?: Partial<RunnerOptions>;
  /** Port to listen on (default: an ephemeral one). Engines calling back need a port known before start. */
  port?: number;
  /** PUBLIC_URL (default http://localhost:3000); where engine webhooks are sent when they are on. */
  publicUrl?: string;
}): Promise<Atelier> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-'));
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | null = null;
  let container: Container | null = null;
  let app: FastifyInstance | null = null;
  const cleanup = async () => {
    await app?.close().catch(() => undefined);
    await container?.stop().catch(() => undefined);
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (opts.kind === 'postgres') database = await createPostgresDatabase();
    const publicUrl = opts.publicUrl ?? 'http://localhost:3000';
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      PUBLIC_URL: publicUrl,
      HOST: '127.0.0.1',
      PORT: String(opts.port ?? 0),
      ...(database ? { DATABASE_URL: database.url } : {}),
      // One user drives every benchmark: its credits and abuse limits must not be what is measured.
      SIGNUP_CREDITS: '1000000',
      FREE_MAX_CONCURRENT: '10000',
      RATE_LIMIT_GENERATIONS_PER_MINUTE: '1000000',
      RATE_LIMIT_GENERATIONS_PER_MINUTE_PER_IP: '1000000',
      ...opts.env,
    });
    container = await createContainer(config, { logger: createLogger(config.logLevel), ...(opts.runner ? { runner: opts.runner } : {}) });
    app = await buildApp(container);
    await container.start({ work: true });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
    const started = { container, app };
    return { kind: opts.kind, ...started, baseUrl, publicUrl, dataDir, close: cleanup };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

/** A port that is free on 127.0.0.1 right now (for a server whose PUBLIC_URL must name its port before it listens). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
