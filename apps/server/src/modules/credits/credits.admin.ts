import type { Kysely } from 'kysely';
import type { CreditBalance } from '@atelier/contracts';
import type { DB } from '#src/db/schema.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import type { CreditsService } from './credits.service.ts';
import type { AccountSummaries } from '#src/modules/accounts/account-summary.ts';

export type CreditAdjustments = ReturnType<typeof createCreditAdjustments>;

/**
 * Staff and operator adjustments (LED-10): a grant or a claw-back is a ledger entry carrying the actor
 * and the reason, with its audit event in the same transaction. A claw-back never takes more than is
 * available (held credits belong to work in progress). `key` makes a retried request post once.
 */
export function createCreditAdjustments(deps: { db: Kysely<DB>; credits: CreditsService; audit: Pick<AuditLog, 'record'>; users: Pick<AccountSummaries, 'profile' | 'idByEmail'> }) {
  const { db, credits } = deps;
  const adjustments = {
    async adjust(input: { userId: string; amount: number; reason: string; actorId: string | null; actorIp: string | null; key: string; expiresInDays?: number | null | undefined }): Promise<CreditBalance> {
      await deps.users.profile(input.userId); // 404 for an unknown user
      const via = input.actorId ? 'console' : 'cli';
      await db.transaction().execute(async (trx) => {
        if (input.amount > 0) {
          const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
          const posted = await credits.grant({ userId: input.userId, amount: input.amount, kind: 'grant', key: input.key, actorId: input.actorId, reason: input.reason, expiresAt, metadata: { via } }, trx);
          if (posted) await deps.audit.record({ actorId: input.actorId, actorIp: input.actorIp, action: 'credits.granted', targetType: 'user', targetId: input.userId, reason: input.reason, details: { amount: input.amount, via, expires_at: expiresAt?.toISOString() ?? null } }, trx);
          return;
        }
        const wanted = -input.amount;
        await credits.lockForAdmission(trx, input.userId);
        const { available } = await credits.repository.balances(trx, input.userId);
        if (wanted > available) throw new AppError('invalid_state', `Only ${available} credits are available to take back (held credits belong to generations in progress).`, { details: { available, requested: wanted } });
        const result = await credits.reverse({ userId: input.userId, amount: wanted, key: input.key, kind: 'clawback', actorId: input.actorId, reason: input.reason, metadata: { via } }, trx);
        if (result.applied) await deps.audit.record({ actorId: input.actorId, actorIp: input.actorIp, action: 'credits.clawed_back', targetType: 'user', targetId: input.userId, reason: input.reason, details: { amount: wanted, via } }, trx);
      });
      return credits.balance(input.userId);
    },

    async adjustByEmail(input: { email: string; amount: number; reason: string; key: string; expiresInDays?: number | null }): Promise<{ userId: string; balance: CreditBalance }> {
      const userId = await deps.users.idByEmail(input.email);
      if (!userId) throw new AppError('not_found', `No user with email ${input.email}`);
      const balance = await adjustments.adjust({ userId, amount: input.amount, reason: input.reason, actorId: null, actorIp: null, key: input.key, expiresInDays: input.expiresInDays ?? null });
      return { userId, balance };
    },
  };
  return adjustments;
}
