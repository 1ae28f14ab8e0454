import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '#src/config.ts';
import { openDatabase } from '#src/db/client.ts';
import { migrateToLatest } from '#src/db/migrate.ts';
import { createJobRunner } from '#src/jobs/queue.ts';
import { JOB_DEFINITIONS } from '#src/jobs/registry.ts';
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

/**
 * Creating a PGlite database runs initdb (several seconds); loading a dump takes well under one. Each
 * test worker migrates one in-memory template and starts every embedded test database from it.
 */
let template: Promise<Blob> | undefined;
function pgliteTemplate(): Promise<Blob> {
  template ??= cachedOnDisk(buildTemplate);
  return template;
}

/** The template is shared by test workers through a file named after everything that shapes the schema. */
async function cachedOnDisk(build: () => Promise<Blob>): Promise<Blob> {
  const hash = crypto.createHash('sha256');
  const migrations = path.resolve(import.meta.dirname, '../../src/db/migrations');
  for (const name of fs.readdirSync(migrations).sort()) hash.update(name).update(fs.readFileSync(path.join(migrations, name)));
  hash.update(fs.readFileSync(path.resolve(import.meta.dirname, '../../../../node_modules/pg-boss/package.json')));
  hash.update(fs.readFileSync(path.resolve(import.meta.dirname, '../../src/jobs/registry.ts')));
  const file = path.join(os.tmpdir(), `atelier-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
  if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
  const blob = await build();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
  fs.renameSync(tmp, file);
  return blob;
}

function buildTemplate(): Promise<Blob> {
  return (async () => {
    const database = await openDatabase({ kind: 'pglite', dir: 'memory://' });
    await migrateToLatest(database.db);
    const jobs = createJobRunner(database, JOB_DEFINITIONS, createLogger('silent')); // creates pg-boss's schema and queues
    await jobs.start({ work: false, concurrency: 1 });
    await jobs.stop();
    const dump = await database.dump!();
    await database.close();
    return dump;
  })();
}

async function withTemplate(config: Config): Promise<Config> {
  if (config.database.kind !== 'pglite') return config;
  return { ...config, database: { kind: 'pglite', dir: 'memory://', loadDataDir: await pgliteTemplate() } };
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
  // Tests that are not about credits or limits get plenty of both; the credits tests set their own.
  const env = { DATA_DIR: dataDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', PUBLIC_URL: 'http://localhost:3000', SIGNUP_CREDITS: '100000', FREE_MAX_CONCURRENT: '1000', ...database.env, ...opts.env };
  // A test that brings its own data directory (and so its own embedded database) keeps it.
  const config = opts.env?.DATA_DIR ? loadConfig(env) : await withTemplate(loadConfig(env));
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
    payload: { email, password: 'correct horse battery staple', name: 'Test User', ageConfirmed: true },
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
