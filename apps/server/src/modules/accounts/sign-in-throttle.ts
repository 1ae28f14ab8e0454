import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '#src/db/client.ts';
import type { Clock } from '#src/lib/clock.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';

/**
 * Password-guessing limits (SEC-3, NIST SP 800-63B §5.2.2), in the database so every API process
 * shares them:
 * - per account (the normalized email, whether or not an account has it, so answers never tell):
 *   from the 5th consecutive failure on, the next attempt waits 1 s, doubling per failure up to 15 min;
 *   the 100th consecutive failure locks the email until its password is reset;
 * - per client IP: 20 password attempts a minute.
 * A refused attempt never checks the password and does not count as a failure.
 */
export const THROTTLE = {
  freeFailures: 5,
  firstDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  lockAt: 100,
  ipAttemptsPerMinute: 20,
} as const;

/** How long after `failures` consecutive failures the next attempt must wait (0: no wait). */
export function delayAfter(failures: number): number {
  if (failures < THROTTLE.freeFailures) return 0;
  return Math.min(THROTTLE.firstDelayMs * 2 ** (failures - THROTTLE.freeFailures), THROTTLE.maxDelayMs);
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
export type AuthFailureKind = 'password' | 'reauth_password' | 'reauth_code' | 'totp' | 'throttled' | 'locked' | 'captcha';

export function createSignInThrottle(deps: { db: Db; clock: Clock; logger: Logger; audit?: Pick<AuditLog, 'record'> }) {
  const { db, clock } = deps;
  const normalize = (email: string) => email.trim().toLowerCase();

  /** Every refusal and failure is an `auth.failure` log line and an audit event (ASVS 16.3.1). */
  async function report(kind: AuthFailureKind, email: string | null, ip: string, userId: string | null = null, details: Record<string, unknown> = {}) {
    deps.logger.warn({ event: 'auth.failure', kind, email, ip, userId, ...details }, 'authentication failure');
    await deps.audit
      ?.record({ actorId: userId, actorIp: ip, action: 'auth.failure', targetType: email ? 'email' : null, targetId: email, details: { kind, ...details } })
      .catch((error: unknown) => deps.logger.error({ err: error }, 'audit write failed'));
  }

  return {
    report,

    /**
     * Throws `rate_limited` (with `details.retry_after_seconds`) or `account_locked` when this attempt may not be
     * made now; otherwise answers the email's consecutive failures so far (the sign-in CAPTCHA starts at 5).
     */
    async assertMayAttempt(rawEmail: string, ip: string): Promise<{ failures: number }> {
      const email = normalize(rawEmail);
      const now = clock.now();
      const windowStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
      const ipRow = await db
        .insertInto('auth_ip_attempts')
        .values({ ip, window_start: windowStart, attempts: 1 })
        .onConflict((oc) => oc.columns(['ip', 'window_start']).doUpdateSet({ attempts: sql`auth_ip_attempts.attempts + 1` }))
        .returning('attempts')
        .executeTakeFirstOrThrow();
      // The first attempt of a window sweeps windows long past, so the table holds only recent minutes.
      if (ipRow.attempts === 1) await db.deleteFrom('auth_ip_attempts').where('window_start', '<', new Date(windowStart.getTime() - 10 * 60_000)).execute();
      if (ipRow.attempts > THROTTLE.ipAttemptsPerMinute) {
        const retry = Math.ceil((windowStart.getTime() + 60_000 - now.getTime()) / 1000);
        await report('throttled', email, ip, null, { scope: 'ip' });
        throw new AppError('rate_limited', `Too many sign-in attempts from this network. Try again in ${retry} s.`, { details: { retry_after_seconds: retry } });
      }
      const row = await db.selectFrom('auth_throttle').select(['failures', 'last_failure_at', 'locked_at']).where('email', '=', email).executeTakeFirst();
      if (!row) return { failures: 0 };
      if (row.locked_at) {
        await report('locked', email, ip);
        throw new AppError('account_locked', 'Sign-in is locked after too many failed attempts. Reset your password to unlock it.');
      }
      const waitUntil = (row.last_failure_at?.getTime() ?? 0) + delayAfter(row.failures);
      if (now.getTime() < waitUntil) {
        const retry = Math.ceil((waitUntil - now.getTime()) / 1000);
        await report('throttled', email, ip, null, { scope: 'account', failures: row.failures });
        throw new AppError('rate_limited', `Too many failed sign-in attempts. Try again in ${retry} s.`, { details: { retry_after_seconds: retry } });
      }
      return { failures: row.failures };
    },

    async recordFailure(rawEmail: string, ip: string, kind: AuthFailureKind, userId: string | null = null): Promise<number> {
      const email = normalize(rawEmail);
      const now = clock.now();
      const row = await db
        .insertInto('auth_throttle')
        .values({ email, failures: 1, last_failure_at: now })
        .onConflict((oc) =>
          oc.column('email').doUpdateSet({
            failures: sql`auth_throttle.failures + 1`,
            last_failure_at: now,
            locked_at: sql`case when auth_throttle.failures + 1 >= ${THROTTLE.lockAt} then coalesce(auth_throttle.locked_at, ${now}) else auth_throttle.locked_at end`,
          }),
        )
        .returning('failures')
        .executeTakeFirstOrThrow();
      await report(kind, email, ip, userId, { failures: row.failures });
      return row.failures;
    },

    /** A correct password ends the run of failures (a locked email never gets here). */
    async recordSuccess(rawEmail: string): Promise<void> {
      await db.deleteFrom('auth_throttle').where('email', '=', normalize(rawEmail)).where('locked_at', 'is', null).execute();
    },

    /** A password reset or change unlocks the email. */
    async unlock(rawEmail: string): Promise<void> {
      await db.deleteFrom('auth_throttle').where('email', '=', normalize(rawEmail)).execute();
    },
  };
}
