import type { Kysely } from 'kysely';
import type { CreditBalance } from '@atelier/contracts';
import type { DB } from '#src/db/schema.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import type { CreditsService } from './credits.service.ts';

export type CreditAdjustments = ReturnType<typeof createCreditAdjustments>;

/**
 * Staff and operator adjustments (LED-10): a grant or a claw-back is a ledger entry carrying the actor
 * and the reason, with its audit event in the same transaction. A claw-back never takes more than is
 * available (held credits belong to work in progress). `key` makes a retried request post once.
 */
export function createCreditAdjustments(deps: { db: Kysely<DB>; credits: CreditsService; audit: Pick<AuditLog, 'record'> }) {
  const { db, credits } = deps;
  const adjustments = {
    async adjust(input: { userId: string; amount: number; reason: string; actorId: string | null; actorIp: string | null; key: string; expiresInDays?: number | null | undefined }): Promise<CreditBalance> {
      const exists = await db.selectFrom('users').select('id').where('id', '=', input.userId).executeTakeFirst();
      if (!exists) throw new AppError('not_found', 'User not found');
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
      const user = await db.selectFrom('users').select('id').where('email', '=', input.email.trim().toLowerCase()).executeTakeFirst();
      if (!user) throw new AppError('not_found', `No user with email ${input.email}`);
      const balance = await adjustments.adjust({ userId: user.id, amount: input.amount, reason: input.reason, actorId: null, actorIp: null, key: input.key, expiresInDays: input.expiresInDays ?? null });
      return { userId: user.id, balance };
    },
  };
  return adjustments;
}
