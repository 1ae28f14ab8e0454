import { AsyncLocalStorage } from 'node:async_hooks';
import type { BetterAuthPlugin } from 'better-auth';
import { createAuthMiddleware, getSessionFromCtx, isAPIError } from 'better-auth/api';
import type { Logger } from 'pino';
import type { AuditEntry, AuditLog } from '#src/modules/audit/audit.service.ts';

/**
 * Audit events for the authentication steps better-auth refuses itself (issue 5 "bad input and abuse",
 * ASVS 16.3.1): links from e-mails (verification, password reset, magic link) that were replayed, expired
 * or tampered with; OAuth/OIDC callbacks refused for a bad state, nonce or issuer, or an identity that
 * is not linked; wrong, replayed or used-up second-factor codes. What the person sees does not change:
 * these hooks only watch the answer. Password sign-in failures and lockouts are recorded by the
 * sign-in throttle (`auth.failure`), and refusals our own hooks throw before better-auth runs (a replayed
 * TOTP code, a wrong code to turn 2FA off) call `recordRefusal` from security.plugin.ts.
 *
 * Details never hold a token, code or password: only which flow, better-auth's error code and, when it
 * is known without trusting the request, the account concerned (as `target_id`, the user id).
 */
export type RefusalAction = 'auth.link_refused' | 'auth.oauth_refused' | 'auth.two_factor_refused';

export interface RefusalDeps {
  audit?: Pick<AuditLog, 'record'> | undefined;
  logger?: Logger | undefined;
}

type AuthContext = Parameters<Parameters<typeof createAuthMiddleware>[0]>[0];

/**
 * Why a step failed, when better-auth's answer does not say: a wrong nonce and an ID token from another
 * issuer both reach the sign-in page as `unable_to_get_user_info`. The code that sees the cause notes it
 * (identity.ts, the better-auth logger in auth.ts) and the refusal event carries it. One store per HTTP
 * request to better-auth (`withRefusalNotes` wraps auth.handler).
 */
const notes = new AsyncLocalStorage<{ reason?: string }>();
export const withRefusalNotes = <T>(fn: () => T): T => notes.run({}, fn);
export function noteRefusalReason(reason: string): void {
  const store = notes.getStore();
  if (store) store.reason ??= reason;
}

/** The client IP the Fastify bridge put on the request (accounts.routes.ts); never a header the client chose. */
export const clientIpOf = (ctx: AuthContext): string | null => ctx.headers?.get('x-atelier-client-ip') ?? null;

/** Writes one refusal; a failed write is logged, never turned into another answer for the person. */
export async function recordRefusal(deps: RefusalDeps, ctx: AuthContext, entry: Pick<AuditEntry, 'action' | 'details'> & { userId: string | null; actor?: string | null }): Promise<void> {
  if (!deps.audit) return;
  await deps.audit
    .record({
      actorId: entry.actor ?? null,
      actorIp: clientIpOf(ctx),
      action: entry.action,
      targetType: entry.userId ? 'user' : null,
      targetId: entry.userId,
      details: entry.details ?? {},
    })
    .catch((error: unknown) => deps.logger?.error({ err: error, action: entry.action }, 'audit write failed'));
}

/**
 * The error code of a refused answer, or null when the endpoint did not refuse. better-auth answers a
 * refusal with an error (401 INVALID_TOKEN, …) or, on browser flows, a redirect carrying `?error=<code>`;
 * a redirect that created a session is a success whatever its target URL holds.
 */
export function refusalCode(returned: unknown, createdSession: boolean): string | null {
  if (!isAPIError(returned)) return null;
  const status = returned.statusCode;
  if (status >= 400) {
    const code = (returned.body as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && code ? code : `http_${status}`;
  }
  if (status < 300 || status >= 400 || createdSession) return null;
  const headers = returned.headers instanceof Headers ? returned.headers : new Headers(returned.headers as Record<string, string> | undefined);
  const location = headers.get('location');
  if (!location) return null;
  try {
    return new URL(location, 'http://localhost').searchParams.get('error');
  } catch {
    return null;
  }
}

const LINKS: Record<string, string> = {
  '/verify-email': 'verify_email',
  '/reset-password/:token': 'reset_password',
  '/reset-password': 'reset_password',
  '/magic-link/verify': 'magic_link',
};
const OAUTH_CALLBACKS = new Set(['/callback/:id', '/oauth2/callback/:providerId']);
const TWO_FACTOR: Record<string, 'totp' | 'recovery_code'> = { '/two-factor/verify-totp': 'totp', '/two-factor/verify-backup-code': 'recovery_code' };

/** A sign-in waiting for its second factor: better-auth's signed `two_factor` cookie names a verification row holding the user id. */
export async function pendingSignInUser(ctx: AuthContext): Promise<string | null> {
  const cookie = ctx.context.createAuthCookie('two_factor');
  const identifier = await ctx.getSignedCookie(cookie.name, ctx.context.secret);
  if (!identifier) return null;
  const verification = await ctx.context.internalAdapter.findVerificationValue(identifier);
  return verification?.value ?? null;
}

const sessionUser = async (ctx: AuthContext): Promise<string | null> => {
  if (!ctx.headers?.get('cookie')?.includes('session_token')) return null;
  return (await getSessionFromCtx(ctx).catch(() => null))?.user.id ?? null;
};

/** The account a reset token was issued for, while its row still exists (an expired link); null once used or when forged. */
async function resetTokenOwner(ctx: AuthContext): Promise<{ userId: string; expired: boolean } | null> {
  const token = ctx.params?.token ?? (ctx.body as { token?: unknown } | undefined)?.token ?? ctx.query?.token;
  if (typeof token !== 'string' || token.length > 200) return null;
  const row = await ctx.context.internalAdapter.findVerificationValue(`reset-password:${token}`);
  return row ? { userId: row.value, expired: row.expiresAt < new Date() } : null;
}

export const refusalAuditPlugin = (deps: RefusalDeps): BetterAuthPlugin => ({
  id: 'atelier-refusal-audit',
  hooks: {
    after: [
      {
        // HTTP requests only (calls through auth.api are our own code).
        matcher: (ctx) => ctx.request !== undefined && deps.audit !== undefined && Object.hasOwn(LINKS, ctx.path ?? ''),
        handler: createAuthMiddleware(async (ctx) => {
          const code = refusalCode(ctx.context.returned, ctx.context.newSession !== null && ctx.context.newSession !== undefined);
          const path = ctx.path ?? '';
          // POST /reset-password also refuses weak passwords: only token refusals are about the link.
          if (!code || (path === '/reset-password' && !/TOKEN/i.test(code))) return;
          const owner = path.startsWith('/reset-password') ? await resetTokenOwner(ctx) : null;
          await recordRefusal(deps, ctx, { action: 'auth.link_refused', userId: owner?.userId ?? null, details: { flow: LINKS[path], code, ...(owner?.expired ? { expired: true } : {}) } });
        }),
      },
      {
        matcher: (ctx) => ctx.request !== undefined && deps.audit !== undefined && OAUTH_CALLBACKS.has(ctx.path ?? ''),
        handler: createAuthMiddleware(async (ctx) => {
          const code = refusalCode(ctx.context.returned, ctx.context.newSession !== null && ctx.context.newSession !== undefined);
          if (!code) return;
          const provider = ctx.params?.id ?? ctx.params?.providerId ?? null;
          // Linking a provider from Settings happens signed in: that user is the actor and the account concerned.
          const userId = await sessionUser(ctx);
          const reason = notes.getStore()?.reason;
          await recordRefusal(deps, ctx, { action: 'auth.oauth_refused', userId, actor: userId, details: { provider, code, ...(reason ? { reason } : {}), linking: userId !== null } });
        }),
      },
      {
        matcher: (ctx) => ctx.request !== undefined && deps.audit !== undefined && Object.hasOwn(TWO_FACTOR, ctx.path ?? ''),
        handler: createAuthMiddleware(async (ctx) => {
          const code = refusalCode(ctx.context.returned, false);
          if (!code) return;
          const signedIn = await sessionUser(ctx);
          const userId = signedIn ?? (await pendingSignInUser(ctx).catch(() => null));
          await recordRefusal(deps, ctx, { action: 'auth.two_factor_refused', userId, actor: signedIn, details: { method: TWO_FACTOR[ctx.path ?? ''], step: signedIn ? 'confirm' : 'sign_in', code } });
        }),
      },
    ],
  },
});
