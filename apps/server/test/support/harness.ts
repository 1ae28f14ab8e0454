import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '#src/config.ts';
import { createContainer, type Container } from '#src/container.ts';
import { buildApp } from '#src/app.ts';
import { createLogger } from '#src/lib/logger.ts';
import type { RunnerOptions } from '#src/modules/generations/generation.runner.ts';

/**
 * A real Atelier for tests: its own data directory and its own database — embedded PGlite, or a fresh
 * database on the PostgreSQL server — chosen by the vitest project (ATELIER_TEST_DB). A PostgreSQL run
 * that cannot reach the server fails; it never skips.
 */
export type TestDbKind = 'pglite' | 'postgres';
export const testDbKind = (): TestDbKind => (process.env.ATELIER_TEST_DB === 'postgres' ? 'postgres' : 'pglite');
const adminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A database for one test file: a PostgreSQL database created (and later dropped) on the server, or nothing for PGlite. */
export async function createTestDatabase(kind: TestDbKind = testDbKind()): Promise<TestDatabase> {
  if (kind === 'pglite') return { env: {}, drop: async () => undefined };
  const name = `atelier_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestServer {
  container: Container;
  app: FastifyInstance;
  dataDir: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { env?: Record<string, string>; runner?: Partial<RunnerOptions>; work?: boolean; database?: TestDatabase; logs?: { write(line: string): void } } = {},
): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-test-'));
  const database = opts.database ?? (await createTestDatabase());
  const env = { DATA_DIR: dataDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', PUBLIC_URL: 'http://localhost:3000', ...database.env, ...opts.env };
  const config = loadConfig(env);
  const container = await createContainer(config, { logger: createLogger(opts.logs ? 'info' : config.logLevel, opts.logs), runner: { pollStartMs: 20, pollMaxMs: 100, ...opts.runner } });
  const app = await buildApp(container);
  await container.start({ work: opts.work ?? true });
  await app.ready();
  return {
    container,
    app,
    dataDir,
    env,
    async close() {
      await app.close();
      await container.stop();
      if (!opts.database) await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs a new user up through the real auth endpoint; returns the session cookie and the user id. */
export async function signUp(app: FastifyInstance, email = `user-${crypto.randomBytes(4).toString('hex')}@example.com`): Promise<{ cookie: string; userId: string; email: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/sign-up/email',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    payload: { email, password: 'correct horse battery staple', name: 'Test User' },
  });
  if (res.statusCode !== 200) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`);
  const setCookie = [res.headers['set-cookie']].flat().filter((c): c is string => typeof c === 'string');
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  return { cookie, userId: (res.json() as { user: { id: string } }).user.id, email };
}

/** Headers of a same-origin studio request. */
export const studio = (cookie: string, extra: Record<string, string> = {}) => ({ cookie, 'sec-fetch-site': 'same-origin', ...extra });

/** Polls until `check` returns a value (or times out with the last error) — for asynchronous effects such as jobs. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, { timeoutMs = 20_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
