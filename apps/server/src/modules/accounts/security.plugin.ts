import type { BetterAuthPlugin } from 'better-auth';
import { APIError, createAuthMiddleware, getSessionFromCtx } from 'better-auth/api';
import { twoFactor } from 'better-auth/plugins';
import type { Db } from '#src/db/client.ts';
import { REAUTH_WINDOW_MS, type SessionGuard } from './session-policy.ts';
import { pendingSignInUser, recordRefusal, type RefusalDeps } from './auth-refusals.ts';
import { claimTotpCode, verifySecondFactor } from './two-factor-codes.ts';

/**
 * better-auth's TOTP two-factor plugin on our snake_case tables (migration 0007), and our own rules
 * around better-auth's endpoints:
 * - a TOTP code is accepted once (the plugin alone accepts it again for its whole 90 s window);
 * - turning 2FA off needs a current code (or a recovery code) as well as the password;
 * - changing the password always signs out the other sessions (SEC-5, ASVS 7.4.3);
 * - a valid password-reset token unlocks an email the sign-in throttle locked;
 * - sessions past their idle or absolute timeout are refused here too, not only on /api routes;
 * - changing the email and deleting the account need a sign-in or re-authentication in the last 5 minutes
 *   (403 `reauth_required`, like routes declaring `recentAuth`).
 */
export interface SecurityPluginDeps extends RefusalDeps {
  db: Db;
  guard?: Pick<SessionGuard, 'check'>;
  unlockSignIn?: (email: string) => Promise<void>;
}

export const twoFactorPlugin = () =>
  twoFactor({
    issuer: 'Atelier',
    schema: {
      user: { fields: { twoFactorEnabled: 'two_factor_enabled' } },
      twoFactor: {
        modelName: 'two_factors',
        fields: { userId: 'user_id', backupCodes: 'backup_codes', failedVerificationCount: 'failed_verification_count', lockedUntil: 'locked_until' },
      },
    },
  });

/** Endpoints a signed-out visitor uses; everything else under /api/auth acts on the caller's session. */
const SESSIONLESS = ['/sign-in', '/sign-up', '/sign-out', '/callback', '/oauth2', '/reset-password', '/request-password-reset', '/verify-email', '/send-verification-email', '/magic-link', '/error', '/ok'];
const isSessionless = (path: string) => SESSIONLESS.some((p) => path === p || path.startsWith(`${p}/`));

/** better-auth endpoints that need a recent sign-in or re-authentication. */
const SENSITIVE = new Set(['/change-email', '/delete-user']);

const invalidCode = () => APIError.from('UNAUTHORIZED', { message: 'Invalid code', code: 'INVALID_CODE' });

export const securityPlugin = (deps: SecurityPluginDeps): BetterAuthPlugin => ({
  id: 'atelier-security',
  hooks: {
    before: [
      {
        // HTTP requests only: the auth hook (http/auth-hook.ts) checks the sessions it reads through auth.api itself.
        matcher: (ctx) => ctx.request !== undefined && !isSessionless(ctx.path ?? '') && deps.guard !== undefined,
        handler: createAuthMiddleware(async (ctx) => {
          if (!ctx.headers?.get('cookie')?.includes('session_token')) return;
          const session = await getSessionFromCtx(ctx);
          if (!session) return;
          const expired = await deps.guard!.check({ id: session.session.id, userId: session.user.id, createdAt: session.session.createdAt, updatedAt: session.session.updatedAt });
          if (expired) throw APIError.from('UNAUTHORIZED', { message: 'Your session expired. Sign in again.', code: 'SESSION_EXPIRED' });
        }),
      },
      {
        matcher: (ctx) => ctx.request !== undefined && SENSITIVE.has(ctx.path ?? ''),
        handler: createAuthMiddleware(async (ctx) => {
          const session = await getSessionFromCtx(ctx);
          if (!session) return;
          const { createdAt, reauthenticatedAt } = session.session as { createdAt: Date; reauthenticatedAt?: Date | string | null };
          const last = Math.max(new Date(createdAt).getTime(), reauthenticatedAt ? new Date(reauthenticatedAt).getTime() : 0);
          if (Date.now() - last > REAUTH_WINDOW_MS) {
            throw APIError.from('FORBIDDEN', { message: 'Confirm it is you: enter your password or a two-factor code, then try again.', code: 'reauth_required' });
          }
        }),
      },
      {
        matcher: (ctx) => ctx.path === '/two-factor/verify-totp',
        handler: createAuthMiddleware(async (ctx) => {
          const code = (ctx.body as { code?: unknown } | undefined)?.code;
          if (typeof code !== 'string') return;
          const signedIn = (await getSessionFromCtx(ctx))?.user.id ?? null;
          const userId = signedIn ?? (await pendingSignInUser(ctx));
          if (userId && !(await claimTotpCode(deps.db, userId, code))) {
            await recordRefusal(deps, ctx, { action: 'auth.two_factor_refused', userId, actor: signedIn, details: { method: 'totp', step: signedIn ? 'confirm' : 'sign_in', code: 'CODE_ALREADY_USED' } });
            throw invalidCode();
          }
        }),
      },
      {
        matcher: (ctx) => ctx.path === '/two-factor/disable',
        handler: createAuthMiddleware(async (ctx) => {
          const session = await getSessionFromCtx(ctx);
          const code = (ctx.body as { code?: unknown } | undefined)?.code;
          if (!session) return; // better-auth answers 401
          if (typeof code !== 'string' || !(await verifySecondFactor(deps.db, ctx.context.secretConfig, session.user.id, code, { allowRecovery: true }))) {
            await recordRefusal(deps, ctx, { action: 'auth.two_factor_refused', userId: session.user.id, actor: session.user.id, details: { method: 'totp_or_recovery_code', step: 'disable', code: 'INVALID_CODE' } });
            throw invalidCode();
          }
        }),
      },
      {
        matcher: (ctx) => ctx.path === '/change-password',
        handler: createAuthMiddleware(async (ctx) => ({ context: { body: { ...(ctx.body as object), revokeOtherSessions: true } } })),
      },
      {
        matcher: (ctx) => ctx.path === '/reset-password' && deps.unlockSignIn !== undefined,
        handler: createAuthMiddleware(async (ctx) => {
          const token = (ctx.body as { token?: unknown } | undefined)?.token ?? ctx.query?.token;
          if (typeof token !== 'string') return;
          const verification = await ctx.context.internalAdapter.findVerificationValue(`reset-password:${token}`);
          if (!verification || verification.expiresAt < new Date()) return;
          const user = await ctx.context.internalAdapter.findUserById(verification.value);
          if (user) await deps.unlockSignIn!(user.email);
        }),
      },
    ],
    after: [
      {
        matcher: (ctx) => ctx.path === '/change-password' && deps.unlockSignIn !== undefined,
        handler: createAuthMiddleware(async (ctx) => {
          const email = ctx.context.session?.user.email;
          if (email && !(ctx.context.returned instanceof Error)) await deps.unlockSignIn!(email);
        }),
      },
    ],
  },
});
