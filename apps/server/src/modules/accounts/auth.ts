import crypto from 'node:crypto';
import path from 'node:path';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { hash, verify } from '@node-rs/argon2';
import type { Logger } from 'pino';
import type { Db } from '#src/db/client.ts';
import { loadOrCreateSecret } from '#src/adapters/kms/local-kms.ts';
import { identityOptions, type IdentityDeps } from './identity.ts';
import { noteRefusalReason, refusalAuditPlugin, withRefusalNotes } from './auth-refusals.ts';
import { securityPlugin, twoFactorPlugin, type SecurityPluginDeps } from './security.plugin.ts';
import { sessionLocationPlugin } from './session-location.ts';

/**
 * Sign-up, sign-in, sessions and (later) OAuth, e-mail verification and 2FA, by better-auth on our own
 * database. Its tables use snake_case columns through the field maps below; migration 0001 creates
 * them, and a test checks better-auth finds nothing to migrate.
 */

// OWASP / ASVS appendix C: argon2id, m = 46 MiB, t = 1, p = 1. `algorithm: 2` is Argon2id (a const enum in the typings).
const ARGON2 = { algorithm: 2, memoryCost: 47_104, timeCost: 1, parallelism: 1 } as const;

export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

const ts = { createdAt: 'created_at', updatedAt: 'updated_at' } as const;

export function authOptions(deps: { db: Db; onUserCreated?: ((userId: string) => Promise<void>) | undefined; baseURL: string; secret: string; isHttps: boolean; logger?: Logger; geoCountryHeader?: string | null | undefined } & IdentityDeps & Partial<Omit<SecurityPluginDeps, 'db'>>): BetterAuthOptions {
  const identity = identityOptions(deps);
  return {
    appName: 'Atelier',
    baseURL: deps.baseURL,
    basePath: '/api/auth',
    secret: deps.secret,
    database: { db: deps.db, type: 'postgres' },
    telemetry: { enabled: false },
    // Into our structured logs; the extra arguments (which can hold emails) are left out.
    logger: {
      level: 'warn',
      log: (level, message) => {
        // The one place better-auth says an ID token failed its signature, audience or nonce check.
        if (message.includes('id_token failed verification')) noteRefusalReason('id_token_rejected');
        deps.logger?.[level]({ component: 'auth' }, message);
      },
    },
    trustedOrigins: [deps.baseURL],
    // Rate limits are ours (http/rate-limit.ts), shared with the rest of the API.
    rateLimit: { enabled: false },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: 8,
      maxPasswordLength: 1024,
      autoSignIn: true,
      ...identity.emailAndPassword,
      password: {
        hash: (password) => hash(password, ARGON2),
        verify: ({ hash: stored, password }) => verify(stored, password),
      },
    },
    session: {
      modelName: 'sessions',
      expiresIn: SESSION_MAX_AGE_SECONDS,
      updateAge: 24 * 3600,
      fields: { ...ts, expiresAt: 'expires_at', ipAddress: 'ip_address', userAgent: 'user_agent', userId: 'user_id' },
      // Set at sign-in and by POST /api/me/reauthenticate (security.service.ts); copied when a session is rotated.
      additionalFields: {
        reauthenticatedAt: { type: 'date', required: false, input: false, fieldName: 'reauthenticated_at' },
        // From the trusted proxy's country header (session-location.ts); refreshed with last seen by the auth hook.
        country: { type: 'string', required: false, input: false, fieldName: 'country' },
      },
    },
    user: { modelName: 'users', fields: { ...ts, emailVerified: 'email_verified' }, additionalFields: identity.userFields },
    // Third-party sign-in, verification, reset, magic links, age gate, password policy: see identity.ts.
    socialProviders: identity.socialProviders,
    // 2FA, TOTP replay, password change signs out others, session timeouts: see security.plugin.ts.
    // Refused links, OAuth callbacks and second-factor codes are audit events: see auth-refusals.ts.
    plugins: [...identity.plugins, twoFactorPlugin(), securityPlugin({ db: deps.db, guard: deps.guard, unlockSignIn: deps.unlockSignIn, audit: deps.audit, logger: deps.logger }), refusalAuditPlugin({ audit: deps.audit, logger: deps.logger }), ...(deps.geoCountryHeader ? [sessionLocationPlugin(deps.geoCountryHeader)] : [])],
    // Our /api/me/sessions lists and revokes sessions without handing session tokens to page scripts.
    disabledPaths: ['/list-sessions', '/revoke-session'],
    emailVerification: identity.emailVerification,
    hooks: { before: identity.beforeHook },
    // Sign-up credits (issue 6) are granted once the user row exists, by whoever wires `onUserCreated`.
    databaseHooks: { ...identity.databaseHooks, user: { create: { after: async (user: { id: string }) => void (await deps.onUserCreated?.(user.id)) } } },
    // OAuth callback failures land on the sign-in page with ?error=<code>.
    onAPIError: { errorURL: `${deps.baseURL}/sign-in` },
    account: {
      modelName: 'accounts',
      accountLinking: identity.accountLinking,
      updateAccountOnSignIn: false,
      additionalFields: identity.accountFields,
      fields: {
        ...ts,
        accountId: 'account_id',
        providerId: 'provider_id',
        userId: 'user_id',
        accessToken: 'access_token',
        refreshToken: 'refresh_token',
        idToken: 'id_token',
        accessTokenExpiresAt: 'access_token_expires_at',
        refreshTokenExpiresAt: 'refresh_token_expires_at',
      },
    },
    verification: { modelName: 'verifications', fields: { ...ts, expiresAt: 'expires_at' } },
    advanced: {
      cookiePrefix: 'atelier',
      useSecureCookies: deps.isHttps,
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax', path: '/' },
      // The Fastify bridge sets this from request.ip (TRUST_PROXY decides whether proxies count), overwriting any sent by the client.
      ipAddress: { ipAddressHeaders: ['x-atelier-client-ip'] },
    },
  };
}

export function createAuth(deps: Parameters<typeof authOptions>[0]) {
  const auth = betterAuth(authOptions(deps));
  const { handler } = auth;
  // Each HTTP request gets its own notes on why a step was refused (auth-refusals.ts).
  return Object.assign(auth, { handler: (request: Request) => withRefusalNotes(() => handler(request)) });
}
export type Auth = ReturnType<typeof createAuth>;

export function loadAuthSecret(envValue: string | undefined, secretsDir: string): string {
  return loadOrCreateSecret(envValue, path.join(secretsDir, 'auth.secret'), () => crypto.randomBytes(32).toString('base64url'));
}
