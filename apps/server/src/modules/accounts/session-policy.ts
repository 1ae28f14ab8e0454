import type { Db } from '#src/db/client.ts';
import type { Clock } from '#src/lib/clock.ts';

/**
 * Session timeouts (SEC-6, ASVS 7.1.1; documented in docs/architecture.md). A session ends after
 * `idle` without a request or `absolute` after its sign-in, whichever comes first. Staff (anyone holding
 * a staff role) get the admin-console limits. better-auth slides `expires_at` forward on use (updateAge),
 * so it never enforces an absolute limit itself; the auth hook does, from `created_at` (set when the
 * session is created: at sign-in and at each rotation) and `updated_at` (last seen, refreshed below).
 */
export const SESSION_TIMEOUTS = {
  user: { idleMs: 7 * 24 * 3600_000, absoluteMs: 30 * 24 * 3600_000 },
  staff: { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 },
} as const;

/** Sensitive actions (email change, API-key creation, account deletion) need a sign-in or re-entry this recent (SEC-6, ASVS 7.5.1). */
export const REAUTH_WINDOW_MS = 5 * 60_000;

/** Last-seen granularity: a session's updated_at is rewritten at most this often. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export type SessionExpiry = 'idle' | 'absolute' | null;

export function sessionExpiry(session: { createdAt: Date; updatedAt: Date }, now: Date, limits: { idleMs: number; absoluteMs: number }): SessionExpiry {
  if (now.getTime() - session.createdAt.getTime() >= limits.absoluteMs) return 'absolute';
  if (now.getTime() - session.updatedAt.getTime() >= limits.idleMs) return 'idle';
  return null;
}

export type SessionGuard = ReturnType<typeof createSessionGuard>;

/**
 * Checks a session better-auth has already found valid against our timeouts, revokes it when it is
 * over, and records "last seen". The staff lookup only runs for a session past the staff limits.
 */
export function createSessionGuard(deps: { db: Db; isStaff: (userId: string) => Promise<boolean>; clock: Clock }) {
  return {
    /** `country`: where this request comes from (session-location.ts), noted with last seen; null or absent keeps the last one. */
    async check(session: { id: string; userId: string; createdAt: Date; updatedAt: Date; country?: string | null }): Promise<SessionExpiry> {
      const now = deps.clock.now();
      const asStaff = sessionExpiry(session, now, SESSION_TIMEOUTS.staff);
      const expiry = asStaff && (await deps.isStaff(session.userId)) ? asStaff : sessionExpiry(session, now, SESSION_TIMEOUTS.user);
      if (expiry) {
        await deps.db.deleteFrom('sessions').where('id', '=', session.id).execute();
        return expiry;
      }
      if (now.getTime() - session.updatedAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
        await deps.db
          .updateTable('sessions')
          .set({ updated_at: now, ...(session.country ? { country: session.country } : {}) })
          .where('id', '=', session.id)
          .execute();
      }
      return null;
    },
  };
}
