import path from 'node:path';
import { z } from 'zod';
import type { DatabaseConfig } from './db/client.ts';

/**
 * The only module that reads process.env. Every variable is documented in .env.example.
 * Parsed once at boot; a bad value stops the process with a message naming the variable.
 */
const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());
const bool = z.preprocess((v) => (v === undefined ? undefined : ['1', 'true', 'yes', 'on'].includes(String(v).toLowerCase())), z.boolean().optional());

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalUrl,
  PUBLIC_URL: optionalUrl,
  TRUST_PROXY: bool,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MASTER_KEY: optionalString,
  AUTH_SECRET: optionalString,
  BFL_API_KEY: optionalString,
  BFL_BASE_URL: z.preprocess(emptyToUndefined, z.url().default('https://api.bfl.ai')),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  GENERATION_DEADLINE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
  GENERATION_LEASE_SECONDS: z.coerce.number().int().min(15).max(3600).default(60),
  ENGINE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_GENERATIONS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  WEB_DIST_DIR: optionalString,
});

export type Config = ReturnType<typeof buildConfig>;

/** Loads ./.env into the environment when there is one (variables already set win). */
export function loadDotEnv(file = '.env'): void {
  try {
    process.loadEnvFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<z.input<typeof envSchema>> = {}): Config {
  const parsed = envSchema.safeParse({ ...env, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every variable and its format.`);
  }
  return buildConfig(parsed.data);
}

function buildConfig(env: z.infer<typeof envSchema>) {
  const dataDir = path.resolve(env.DATA_DIR);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '');
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    /** Cookies get the Secure flag and HSTS is sent only when the public URL is https. */
    isHttps: publicUrl.startsWith('https://'),
    trustProxy: env.TRUST_PROXY ?? false,
    logLevel: env.LOG_LEVEL,
    dataDir,
    database: (env.DATABASE_URL ? { kind: 'postgres', url: env.DATABASE_URL } : { kind: 'pglite', dir: path.join(dataDir, 'db') }) satisfies DatabaseConfig as DatabaseConfig,
    filesDir: path.join(dataDir, 'files'),
    secretsDir: path.join(dataDir, 'secrets'),
    masterKey: env.MASTER_KEY,
    authSecret: env.AUTH_SECRET,
    engines: {
      bfl: env.BFL_API_KEY ? { apiKey: env.BFL_API_KEY, baseUrl: env.BFL_BASE_URL.replace(/\/$/, '') } : null,
    },
    jobs: {
      concurrency: env.WORKER_CONCURRENCY,
      generationDeadlineSeconds: env.GENERATION_DEADLINE_SECONDS,
      engineMaxAttempts: env.ENGINE_MAX_ATTEMPTS,
      leaseSeconds: env.GENERATION_LEASE_SECONDS,
    },
    rateLimits: { authPerMinute: env.RATE_LIMIT_AUTH_PER_MINUTE, generationsPerMinute: env.RATE_LIMIT_GENERATIONS_PER_MINUTE },
    webDistDir: env.WEB_DIST_DIR ? path.resolve(env.WEB_DIST_DIR) : path.resolve(import.meta.dirname, '../../web/dist'),
  };
}
