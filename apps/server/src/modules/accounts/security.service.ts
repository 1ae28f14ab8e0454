import { verify } from '@node-rs/argon2';
import { UAParser } from 'ua-parser-js';
import type { SecurityStatus, SessionInfo } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { Clock } from '#src/lib/clock.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { REAUTH_WINDOW_MS } from './session-policy.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';
import { verifySecondFactor } from './two-factor-codes.ts';


export type SecurityService = ReturnType<typeof createSecurityService>;
type SecretKey = Parameters<typeof verifySecondFactor>[1];

export function createSecurityService(deps: { db: Db; clock: Clock; throttle: SignInThrottle; secretKey: () => Promise<SecretKey> }) {
  const { db, clock } = deps;

  const session = (userId: string, sessionId: string) =>
    db.selectFrom('sessions').select(['created_at', 'reauthenticated_at']).where('id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst();

  return {
    async status(userId: string): Promise<SecurityStatus> {
      const user = await db.selectFrom('users').select('two_factor_enabled').where('id', '=', userId).executeTakeFirst();
      const credential = await db.selectFrom('accounts').select('id').where('user_id', '=', userId).where('provider_id', '=', 'credential').where('password', 'is not', null).executeTakeFirst();
      return { two_factor_enabled: user?.two_factor_enabled === true, has_password: credential !== undefined };
    },

    /** Throws 403 `reauth_required` unless the session signed in or re-authenticated in the last 5 minutes. */
    async assertRecentAuth(userId: string, sessionId: string): Promise<void> {
      const row = await session(userId, sessionId);
      const last = Math.max(row?.created_at.getTime() ?? 0, row?.reauthenticated_at?.getTime() ?? 0);
      if (clock.now().getTime() - last > REAUTH_WINDOW_MS) {
        throw new AppError('reauth_required', 'Confirm it is you: enter your password or a two-factor code, then try again.');
      }
    },

    /** Password (throttled like sign-in) or a TOTP code; on success the session counts as freshly authenticated. */
    async reauthenticate(userId: string, sessionId: string, input: { password: string } | { code: string }, ip: string): Promise<Date> {
      const user = await db.selectFrom('users').select(['email']).where('id', '=', userId).executeTakeFirstOrThrow();
      await deps.throttle.assertMayAttempt(user.email, ip);
      let ok: boolean;
      if ('password' in input) {
        const account = await db.selectFrom('accounts').select('password').where('user_id', '=', userId).where('provider_id', '=', 'credential').executeTakeFirst();
        ok = account?.password ? await verify(account.password, input.password).catch(() => false) : false;
      } else {
        ok = await verifySecondFactor(db, await deps.secretKey(), userId, input.code, { allowRecovery: false });
      }
      if (!ok) {
        await deps.throttle.recordFailure(user.email, ip, 'password' in input ? 'reauth_password' : 'reauth_code', userId);
        throw new AppError('invalid_credentials', 'password' in input ? 'That password is not right.' : 'That code is not right (or was already used).');
      }
      await deps.throttle.recordSuccess(user.email);
      const now = clock.now();
      await db.updateTable('sessions').set({ reauthenticated_at: now }).where('id', '=', sessionId).where('user_id', '=', userId).execute();
      return new Date(now.getTime() + REAUTH_WINDOW_MS);
    },

    async listSessions(userId: string, currentSessionId: string): Promise<SessionInfo[]> {
      const rows = await db
        .selectFrom('sessions')
        .select(['id', 'ip_address', 'user_agent', 'country', 'created_at', 'updated_at'])
        .where('user_id', '=', userId)
        .where('expires_at', '>', clock.now())
        .orderBy('updated_at', 'desc')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        current: row.id === currentSessionId,
        ...describeUserAgent(row.user_agent),
        ip: truncateIp(row.ip_address),
        location: row.country,
        created_at: row.created_at.toISOString(),
        last_seen_at: row.updated_at.toISOString(),
      }));
    },

    async revokeSession(userId: string, sessionId: string): Promise<void> {
      const deleted = await db.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst();
      if (deleted.numDeletedRows === 0n) throw notFound('Session');
    },

    async revokeOtherSessions(userId: string, currentSessionId: string): Promise<number> {
      const deleted = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', currentSessionId).executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },
  };
}

export function describeUserAgent(ua: string | null): Pick<SessionInfo, 'browser' | 'os' | 'device'> {
  if (!ua) return { browser: null, os: null, device: 'other' };
  const parsed = new UAParser(ua).getResult();
  const join = (name?: string, version?: string) => (name ? [name, version?.split('.')[0]].filter(Boolean).join(' ') : null);
  const type = parsed.device.type;
  return {
    browser: join(parsed.browser.name, parsed.browser.version),
    os: join(parsed.os.name, parsed.os.version),
    device: type === 'mobile' || type === 'tablet' ? type : parsed.os.name ? 'desktop' : 'other',
  };
}

/** Enough to recognise a network without publishing the address: 203.0.113.x, 2001:db8:1:2::/64. */
export function truncateIp(ip: string | null): string | null {
  if (!ip) return null;
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.x`;
  if (ip.includes(':')) return `${ip.split(':').slice(0, 4).join(':')}::/64`;
  return null;
}
