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
  GEO_COUNTRY_HEADER: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name, e.g. cf-ipcountry').optional()),
  RATE_LIMIT_API_KEY_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MASTER_KEY: optionalString,
  AUTH_SECRET: optionalString,
  BFL_API_KEY: optionalString,
  BFL_BASE_URL: z.preprocess(emptyToUndefined, z.url().default('https://api.bfl.ai')),
  FAL_KEY: optionalString,
  FAL_BASE_URL: z.preprocess(emptyToUndefined, z.url().default('https://queue.fal.run')),
  FAL_JWKS_URL: z.preprocess(emptyToUndefined, z.url().default('https://rest.alpha.fal.ai/.well-known/jwks.json')),
  REPLICATE_API_TOKEN: optionalString,
  REPLICATE_BASE_URL: z.preprocess(emptyToUndefined, z.url().default('https://api.replicate.com')),
  REPLICATE_WEBHOOK_SECRET: optionalString,
  COMFYUI_URLS: z.preprocess(emptyToUndefined, z.string().optional()),
  OPENAI_IMAGES_API_KEY: optionalString,
  OPENAI_IMAGES_BASE_URL: z.preprocess(emptyToUndefined, z.url().default('https://api.openai.com/v1')),
  CATALOGUE_FILE: optionalString,
  ENGINE_WEBHOOKS: z.enum(['auto', 'on', 'off']).default('auto'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  GENERATION_DEADLINE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
  GENERATION_LEASE_SECONDS: z.coerce.number().int().min(15).max(3600).default(60),
  ENGINE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  CAPTCHA_MAX_NUMBER: z.coerce.number().int().min(100).max(100_000_000).default(100_000),
  RATE_LIMIT_GENERATIONS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  UPLOAD_QUOTA_BYTES: z.coerce.number().int().min(0).default(2 * 1024 ** 3),
  UPLOAD_QUOTA_COUNT: z.coerce.number().int().min(0).default(5000),
  UPLOAD_RATE_LIMIT: z.coerce.number().int().min(0).default(60),
  WEB_DIST_DIR: optionalString,
  // Identity: mail, third-party sign-in, age gate.
  SMTP_URL: optionalUrl,
  MAIL_FROM: z.preprocess(emptyToUndefined, z.string().default('Atelier <no-reply@localhost>')),
  MIN_AGE: z.coerce.number().int().min(13).max(21).default(13),
  MAGIC_LINK: z.preprocess((v) => emptyToUndefined(v) ?? 'on', bool),
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  GITHUB_CLIENT_ID: optionalString,
  GITHUB_CLIENT_SECRET: optionalString,
  OIDC_ISSUER: optionalUrl,
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: z.preprocess(emptyToUndefined, z.string().max(40).default('single sign-on')),
  // Credits and billing.
  SIGNUP_CREDITS: z.coerce.number().int().min(0).max(1_000_000).default(50),
  FREE_MONTHLY_CREDITS: z.coerce.number().int().min(0).max(1_000_000).default(100),
  FREE_MAX_MEGAPIXELS: z.coerce.number().int().min(1).max(64).default(4),
  FREE_MAX_CONCURRENT: z.coerce.number().int().min(1).max(10_000).default(16),
  API_KEY_MAX_CONCURRENT: z.coerce.number().int().min(1).max(10_000).default(10),
  BILLING_FILE: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_API_URL: optionalUrl,
  RATE_LIMIT_CHECKOUTS_PER_HOUR: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_SIGNUPS_PER_HOUR: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_GENERATIONS_PER_MINUTE_PER_IP: z.coerce.number().int().min(1).default(300),
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
    /** The header a trusted proxy or CDN sets to the client's country (shown in the sessions list); never read without TRUST_PROXY. */
    geoCountryHeader: env.TRUST_PROXY && env.GEO_COUNTRY_HEADER ? env.GEO_COUNTRY_HEADER.toLowerCase() : null,
    /** Requests a minute each API key may make on /v1 (0 turns the limit off: null). */
    apiKeyRatePerMinute: env.RATE_LIMIT_API_KEY_PER_MINUTE || null,
    logLevel: env.LOG_LEVEL,
    dataDir,
    database: (env.DATABASE_URL ? { kind: 'postgres', url: env.DATABASE_URL } : { kind: 'pglite', dir: path.join(dataDir, 'db') }) satisfies DatabaseConfig as DatabaseConfig,
    filesDir: path.join(dataDir, 'files'),
    secretsDir: path.join(dataDir, 'secrets'),
    masterKey: env.MASTER_KEY,
    authSecret: env.AUTH_SECRET,
    engines: {
      bfl: env.BFL_API_KEY ? { apiKey: env.BFL_API_KEY, baseUrl: trimSlash(env.BFL_BASE_URL) } : null,
      fal: env.FAL_KEY ? { apiKey: env.FAL_KEY, baseUrl: trimSlash(env.FAL_BASE_URL), jwksUrl: env.FAL_JWKS_URL } : null,
      replicate: env.REPLICATE_API_TOKEN
        ? { apiToken: env.REPLICATE_API_TOKEN, baseUrl: trimSlash(env.REPLICATE_BASE_URL), ...(env.REPLICATE_WEBHOOK_SECRET ? { webhookSecret: env.REPLICATE_WEBHOOK_SECRET } : {}) }
        : null,
      comfyui: env.COMFYUI_URLS ? { urls: parseUrlList('COMFYUI_URLS', env.COMFYUI_URLS) } : null,
      openai: env.OPENAI_IMAGES_API_KEY ? { apiKey: env.OPENAI_IMAGES_API_KEY, baseUrl: trimSlash(env.OPENAI_IMAGES_BASE_URL) } : null,
    },
    /**
     * Engines call back only when they can reach us: an explicit PUBLIC_URL that is not loopback
     * (ENGINE_WEBHOOKS=auto), or always/never when forced. Polling runs either way.
     */
    webhookBaseUrl: env.ENGINE_WEBHOOKS === 'on' || (env.ENGINE_WEBHOOKS === 'auto' && env.PUBLIC_URL !== undefined && !isLoopback(publicUrl)) ? publicUrl : null,
    catalogueFile: env.CATALOGUE_FILE ? path.resolve(env.CATALOGUE_FILE) : null,
    jobs: {
      concurrency: env.WORKER_CONCURRENCY,
      generationDeadlineSeconds: env.GENERATION_DEADLINE_SECONDS,
      engineMaxAttempts: env.ENGINE_MAX_ATTEMPTS,
      leaseSeconds: env.GENERATION_LEASE_SECONDS,
    },
    rateLimits: {
      authPerMinute: env.RATE_LIMIT_AUTH_PER_MINUTE,
      generationsPerMinute: env.RATE_LIMIT_GENERATIONS_PER_MINUTE,
      generationsPerMinutePerIp: env.RATE_LIMIT_GENERATIONS_PER_MINUTE_PER_IP,
      checkoutsPerHour: env.RATE_LIMIT_CHECKOUTS_PER_HOUR,
      signUpsPerHour: env.RATE_LIMIT_SIGNUPS_PER_HOUR,
    },
    /** Sign-in CAPTCHA difficulty: the browser tries up to this many SHA-256 hashes (half of it at least). */
    captcha: { maxNumber: env.CAPTCHA_MAX_NUMBER },
    /** Per user; 0 turns a limit off (null). */
    uploads: {
      quota: { maxBytes: env.UPLOAD_QUOTA_BYTES || null, maxCount: env.UPLOAD_QUOTA_COUNT || null },
      ratePerMinute: env.UPLOAD_RATE_LIMIT || null,
    },
    identity: buildIdentityConfig(env),
    credits: {
      signupCredits: env.SIGNUP_CREDITS,
      free: { monthlyCredits: env.FREE_MONTHLY_CREDITS, maxMegapixels: env.FREE_MAX_MEGAPIXELS, maxConcurrentGenerations: env.FREE_MAX_CONCURRENT },
      apiKeyMaxConcurrent: env.API_KEY_MAX_CONCURRENT,
    },
    billing: {
      file: env.BILLING_FILE ? path.resolve(env.BILLING_FILE) : null,
      stripe: buildStripeConfig(env),
    },
    webDistDir: env.WEB_DIST_DIR ? path.resolve(env.WEB_DIST_DIR) : path.resolve(import.meta.dirname, '../../web/dist'),
  };
}

/** Third-party sign-in providers are on only when both halves of their credentials are set. */
function buildIdentityConfig(env: z.infer<typeof envSchema>) {
  const pair = (name: string, id: string | undefined, secret: string | undefined) => {
    if (!id && !secret) return null;
    if (!id || !secret) throw new Error(`Invalid configuration:\n  ${name}_CLIENT_ID and ${name}_CLIENT_SECRET: set both or neither`);
    return { clientId: id, clientSecret: secret };
  };
  const oidc = env.OIDC_ISSUER || env.OIDC_CLIENT_ID || env.OIDC_CLIENT_SECRET ? pair('OIDC', env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET) : null;
  if (oidc && !env.OIDC_ISSUER) throw new Error('Invalid configuration:\n  OIDC_ISSUER: required with OIDC_CLIENT_ID (the issuer URL; its /.well-known/openid-configuration is read)');
  return {
    mail: { smtpUrl: env.SMTP_URL ?? null, from: env.MAIL_FROM },
    minAge: env.MIN_AGE,
    magicLink: env.MAGIC_LINK ?? true,
    google: pair('GOOGLE', env.GOOGLE_CLIENT_ID, env.GOOGLE_CLIENT_SECRET),
    github: pair('GITHUB', env.GITHUB_CLIENT_ID, env.GITHUB_CLIENT_SECRET),
    oidc: oidc && env.OIDC_ISSUER ? { ...oidc, issuer: env.OIDC_ISSUER, name: env.OIDC_NAME } : null,
  };
}
export type IdentityConfig = ReturnType<typeof buildIdentityConfig>;

/** Payments are on only with a secret key; webhooks need at least one signing secret (several during a rotation). */
function buildStripeConfig(env: z.infer<typeof envSchema>) {
  if (!env.STRIPE_SECRET_KEY) {
    if (env.STRIPE_WEBHOOK_SECRET) throw new Error('Invalid configuration:\n  STRIPE_WEBHOOK_SECRET: set STRIPE_SECRET_KEY too (payments are off without it)');
    return null;
  }
  const secrets = (env.STRIPE_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (secrets.length === 0) throw new Error('Invalid configuration:\n  STRIPE_WEBHOOK_SECRET: required with STRIPE_SECRET_KEY (the whsec_… signing secret of your webhook endpoint; comma-separate old and new during a rotation)');
  const api = env.STRIPE_API_URL ? new URL(env.STRIPE_API_URL) : null;
  return {
    secretKey: env.STRIPE_SECRET_KEY,
    webhookSecrets: secrets,
    /** Another Stripe-compatible API (a local mock or proxy); default api.stripe.com. */
    api: api ? { host: api.hostname, port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)), protocol: api.protocol === 'https:' ? ('https' as const) : ('http' as const) } : null,
  };
}
export type StripeConfig = NonNullable<ReturnType<typeof buildStripeConfig>>;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

function parseUrlList(name: string, value: string): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  for (const url of urls) {
    if (!z.url().safeParse(url).success) throw new Error(`Invalid configuration:\n  ${name}: "${url}" is not a URL (expected a comma-separated list of http(s) URLs)`);
  }
  return urls.map(trimSlash);
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
