import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { CreditBalance, CreditTransactionKind } from '@atelier/contracts';
import type { DB } from '#src/db/schema.ts';
import type { Clock } from '#src/lib/clock.ts';
import { AppError } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import { SYSTEM, userAccount, type CreditsRepository, type LotRow, type Posting } from './credits.repository.ts';

/**
 * The credits ledger (reliability.md LED-1…LED-10). Integer credits in append-only double-entry
 * transactions, each with an idempotency key, so a retried job or a redelivered webhook posts nothing
 * twice. Every change to a user's credits runs under a per-user lock (their `available` row, FOR UPDATE)
 * inside the caller's transaction, so an admission check and the hold it reserves see one state, and
 * the balance CHECK constraints are only the last line of defence.
 *
 * A generation reserves its price when admitted (`reserve`, in the transaction that inserts it), and is
 * then either charged (`capture`, on success) or given back (`release`, on failure, block, cancel or
 * deletion): a conditional update of the hold's state makes the two mutually exclusive and idempotent.
 * Expiring credits (monthly allowances, plan credits) are spent first.
 */
export interface CreditsDeps {
  db: Kysely<DB>;
  repository: CreditsRepository;
  clock: Clock;
  logger: Logger;
  /** Free credits this user gets this calendar month (0 when subscribed, or when the allowance is off). */
  monthlyAllowance: (trx: Transaction<DB>, userId: string) => Promise<number>;
  /** Notifies the user's open studio pages that their balance changed (in the same transaction). */
  publishChanged: (trx: Transaction<DB>, userId: string) => Promise<void>;
}

export interface GrantInput {
  userId: string;
  amount: number;
  kind: Extract<CreditTransactionKind, 'signup_grant' | 'allowance' | 'grant' | 'purchase' | 'plan_grant' | 'dispute_release'>;
  key: string;
  expiresAt?: Date | null;
  reference?: string | null;
  actorId?: string | null;
  reason?: string | null;
  metadata?: Record<string, unknown>;
}

export interface ReverseResult {
  /** Credits actually taken from the user. */
  taken: number;
  /** What could not be taken (already spent): recorded as a loss, never as a negative balance. */
  shortfall: number;
  applied: boolean;
}

export type CreditsService = ReturnType<typeof createCreditsService>;

export function createCreditsService(deps: CreditsDeps) {
  const { db, repository: repo, clock, logger } = deps;

  /** Posts a balanced transaction once per idempotency key; false when the key was already posted. */
  const post = async (trx: Transaction<DB>, tx: Parameters<CreditsRepository['insertTransaction']>[1], postings: Posting[]): Promise<boolean> => {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || postings.some((p) => !Number.isSafeInteger(p.amount))) throw new Error(`unbalanced ledger transaction ${tx.kind}: ${JSON.stringify(postings)}`);
    const id = await repo.insertTransaction(trx, tx);
    if (!id) return false;
    await repo.insertPostings(trx, id, postings);
    if (tx.userId) await deps.publishChanged(trx, tx.userId);
    return true;
  };

  /** Takes up to `amount` from the user's spendable lots (the preferred lot first, then expiring first); returns what each lot gave. */
  const drawLots = async (trx: Transaction<DB>, lots: LotRow[], amount: number): Promise<{ lotId: string; amount: number }[]> => {
    const draws: { lotId: string; amount: number }[] = [];
    let left = amount;
    for (const lot of lots) {
      if (left === 0) break;
      const take = Math.min(left, lot.remaining);
      if (take <= 0) continue;
      lot.remaining -= take;
      left -= take;
      draws.push({ lotId: lot.id, amount: take });
      await repo.adjustLot(trx, lot.id, -take);
    }
    if (left !== 0) throw new Error('drawLots: the lots hold less than the amount asked for');
    return draws;
  };
  const sumOf = (lots: readonly LotRow[]) => lots.reduce((s, l) => s + l.remaining, 0);

  /** Moves credits whose time is up from available to expired (LED-8). Caller holds the user lock. */
  const expireDue = async (trx: Transaction<DB>, userId: string): Promise<void> => {
    for (const lot of await repo.expiredLots(trx, userId, clock.now())) {
      const posted = await post(trx, { id: newId(), idempotencyKey: `expiry:${lot.id}`, kind: 'expiry', userId, metadata: { lot: lot.id } }, [
        { account: userAccount(userId, 'available'), amount: -lot.remaining },
        { account: SYSTEM.expired, amount: lot.remaining },
      ]);
      if (posted) await repo.adjustLot(trx, lot.id, -lot.remaining);
    }
  };

  const grantLocked = async (trx: Transaction<DB>, g: GrantInput): Promise<boolean> => {
    if (!Number.isSafeInteger(g.amount) || g.amount <= 0) throw new AppError('validation_failed', 'A grant must be a positive whole number of credits');
    const id = newId();
    const source = g.kind === 'purchase' || g.kind === 'plan_grant' ? SYSTEM.purchases : g.kind === 'dispute_release' ? userAccount(g.userId, 'disputed') : SYSTEM.grants;
    const posted = await post(
      trx,
      { id, idempotencyKey: g.key, kind: g.kind, userId: g.userId, reference: g.reference ?? null, actorId: g.actorId ?? null, reason: g.reason ?? null, metadata: g.metadata ?? {} },
      [
        { account: userAccount(g.userId, 'available'), amount: g.amount },
        { account: source, amount: -g.amount },
      ],
    );
    if (posted) await repo.insertLot(trx, { id: newId(), userId: g.userId, transactionId: id, source: g.kind, amount: g.amount, expiresAt: g.expiresAt ?? null });
    return posted;
  };

  /** This month's free allowance, granted once per user and month (keyed), expiring when the month ends. */
  const ensureAllowance = async (trx: Transaction<DB>, userId: string): Promise<void> => {
    const now = clock.now();
    const period = now.toISOString().slice(0, 7);
    const key = `allowance:${userId}:${period}`;
    if (await repo.getKey(trx, key)) return;
    const amount = await deps.monthlyAllowance(trx, userId);
    if (amount <= 0) return;
    const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    await grantLocked(trx, { userId, amount, kind: 'allowance', key, expiresAt: monthEnd, metadata: { period } });
  };

  /** Locks the user and brings their balance up to date (expiries, this month's allowance). */
  const open = async (trx: Transaction<DB>, userId: string) => {
    await repo.lockUser(trx, userId);
    await expireDue(trx, userId);
    await ensureAllowance(trx, userId);
  };

  /** Takes credits from available (expiring first, `preferLot` first) into `to`; what is missing is the shortfall. */
  const takeAvailable = async (trx: Transaction<DB>, userId: string, amount: number, preferLot: string | null) => {
    const lots = await repo.spendableLots(trx, userId, clock.now());
    const ordered = preferLot ? [...lots.filter((l) => l.id === preferLot), ...lots.filter((l) => l.id !== preferLot)] : lots;
    const taken = Math.min(amount, sumOf(ordered));
    await drawLots(trx, ordered, taken);
    return taken;
  };

  const service = {
    /** The balance, brought up to date (expired credits removed, this month's allowance granted). */
    async balance(userId: string): Promise<CreditBalance> {
      return db.transaction().execute(async (trx) => {
        await open(trx, userId);
        const b = await repo.balances(trx, userId);
        return { available: b.available, held: b.held };
      });
    },

    /** The user's movements, newest first (keyset-paged by id). */
    listTransactions: (userId: string, opts: { beforeId: string | null; limit: number }) => repo.listTransactions(userId, opts),

    /** The last nightly check of the books, if one has run. */
    latestReconciliation: () => repo.latestReconciliation(),

    /** The stored balance as it stands, without granting or expiring anything (staff views). */
    async peekBalance(userId: string): Promise<CreditBalance> {
      const b = await repo.balances(db, userId);
      return { available: b.available, held: b.held };
    },

    /** Grants credits (sign-up, allowance, staff, purchases, plan periods). Idempotent by `key`; false when already granted. */
    async grant(g: GrantInput, trx?: Transaction<DB>): Promise<boolean> {
      const run = async (t: Transaction<DB>) => {
        await repo.lockUser(t, g.userId);
        await expireDue(t, g.userId);
        return grantLocked(t, g);
      };
      return trx ? run(trx) : db.transaction().execute(run);
    },

    /**
     * Reserves the price of each generation being admitted, in the caller's transaction (the one that
     * inserts them), under the user lock. All or nothing: if the available credits do not cover them
     * all, nothing is reserved and the request fails with `insufficient_credits` (402).
     */
    async reserve(trx: Transaction<DB>, input: { userId: string; apiKeyId: string | null; expiresAt: Date; holds: { generationId: string; amount: number }[] }): Promise<void> {
      await open(trx, input.userId);
      const lots = await repo.spendableLots(trx, input.userId, clock.now());
      const required = input.holds.reduce((s, h) => s + h.amount, 0);
      const available = sumOf(lots);
      if (required > available) {
        throw new AppError('insufficient_credits', `Not enough credits: this costs ${required} and you have ${available} available. Buy credits or wait for your monthly allowance.`, {
          details: { required, available },
        });
      }
      for (const h of input.holds) {
        const draws = await drawLots(trx, lots, h.amount);
        if (h.amount > 0) {
          await post(trx, { id: newId(), idempotencyKey: `hold:${h.generationId}`, kind: 'hold', userId: input.userId, generationId: h.generationId }, [
            { account: userAccount(input.userId, 'available'), amount: -h.amount },
            { account: userAccount(input.userId, 'held'), amount: h.amount },
          ]);
        }
        await repo.insertHold(trx, { generationId: h.generationId, userId: input.userId, amount: h.amount, apiKeyId: input.apiKeyId, expiresAt: input.expiresAt }, draws);
      }
    },

    /** Lock + count for admission rules that must be exact under concurrency (e.g. an API key's generations in flight). */
    async lockForAdmission(trx: Transaction<DB>, userId: string): Promise<void> {
      await repo.lockUser(trx, userId);
    },
    countOpenHoldsForKey: (trx: Transaction<DB>, apiKeyId: string) => repo.countOpenHoldsForKey(trx, apiKeyId),
    /** The lot a grant with this idempotency key created (a purchase's, taken back first on a refund or dispute). */
    lotForKey: (trx: Transaction<DB>, key: string) => repo.lotForKey(trx, key),

    /** Charges a succeeded generation its held price. A no-op when already captured or released. */
    async capture(trx: Transaction<DB>, generationId: string): Promise<'captured' | 'released' | 'none'> {
      const existing = await repo.getHold(trx, generationId);
      if (!existing) return 'none';
      await repo.lockUser(trx, existing.user_id);
      const hold = await repo.settleHold(trx, generationId, 'captured');
      if (!hold) return (await repo.getHold(trx, generationId))?.state === 'released' ? 'released' : 'captured';
      if (hold.amount > 0) {
        await post(trx, { id: newId(), idempotencyKey: `capture:${generationId}`, kind: 'capture', userId: hold.user_id, generationId }, [
          { account: userAccount(hold.user_id, 'held'), amount: -hold.amount },
          { account: SYSTEM.consumed, amount: hold.amount },
        ]);
      }
      return 'captured';
    },

    /**
     * Gives a generation's hold back (failed, blocked, canceled, deleted): to the lots it came from, or
     * straight to `expired` for a lot whose time ran out meanwhile. A no-op when already settled.
     */
    async release(trx: Transaction<DB>, generationId: string, why: 'failed' | 'blocked' | 'canceled' | 'deleted'): Promise<'released' | 'captured' | 'none'> {
      const existing = await repo.getHold(trx, generationId);
      if (!existing) return 'none';
      await repo.lockUser(trx, existing.user_id);
      const hold = await repo.settleHold(trx, generationId, 'released');
      if (!hold) return (await repo.getHold(trx, generationId))?.state === 'captured' ? 'captured' : 'released';
      if (hold.amount === 0) return 'released';
      const draws = await repo.holdLots(trx, generationId);
      const lots = new Map((await repo.lotsById(trx, draws.map((d) => d.lot_id))).map((l) => [l.id, l]));
      const now = clock.now().getTime();
      let back = 0;
      let lapsed = 0;
      for (const d of draws) {
        const lot = lots.get(d.lot_id);
        if (lot?.expires_at && lot.expires_at.getTime() <= now) lapsed += d.amount;
        else {
          back += d.amount;
          await repo.adjustLot(trx, d.lot_id, d.amount);
        }
      }
      await post(trx, { id: newId(), idempotencyKey: `release:${generationId}`, kind: 'release', userId: hold.user_id, generationId, metadata: { why } }, [
        { account: userAccount(hold.user_id, 'held'), amount: -hold.amount },
        { account: userAccount(hold.user_id, 'available'), amount: back },
        { account: SYSTEM.expired, amount: lapsed },
      ]);
      return 'released';
    },

    /**
     * Takes credits back for a refunded payment or a staff claw-back: as much as is available (the
     * purchase's own lot first); what was already spent is recorded as a loss, the balance never goes
     * negative (PAY-6). `source` is the account the credits came from.
     */
    async reverse(
      input: { userId: string; amount: number; key: string; kind: Extract<CreditTransactionKind, 'reversal' | 'clawback'>; reference?: string | null; preferLot?: string | null; actorId?: string | null; reason?: string | null; metadata?: Record<string, unknown> },
      trx?: Transaction<DB>,
    ): Promise<ReverseResult> {
      const run = async (t: Transaction<DB>): Promise<ReverseResult> => {
        await repo.lockUser(t, input.userId);
        await expireDue(t, input.userId);
        if (await repo.getKey(t, input.key)) return { taken: 0, shortfall: 0, applied: false };
        const taken = await takeAvailable(t, input.userId, input.amount, input.preferLot ?? null);
        const shortfall = input.amount - taken;
        const source = input.kind === 'clawback' ? SYSTEM.grants : SYSTEM.purchases;
        await post(t, { id: newId(), idempotencyKey: input.key, kind: input.kind, userId: input.userId, reference: input.reference ?? null, actorId: input.actorId ?? null, reason: input.reason ?? null, metadata: { ...input.metadata, requested: input.amount, shortfall } }, [
          { account: userAccount(input.userId, 'available'), amount: -taken },
          { account: source, amount: input.amount },
          { account: SYSTEM.disputeLoss, amount: -shortfall },
        ]);
        return { taken, shortfall, applied: true };
      };
      return trx ? run(trx) : db.transaction().execute(run);
    },

    /** A disputed payment: its credits (as many as are left) are set aside until the dispute closes (PAY-7). Returns how many. */
    async freeze(trx: Transaction<DB>, input: { userId: string; amount: number; key: string; reference: string; preferLot: string | null }): Promise<number> {
      await repo.lockUser(trx, input.userId);
      await expireDue(trx, input.userId);
      if (await repo.getKey(trx, input.key)) return 0;
      const frozen = await takeAvailable(trx, input.userId, input.amount, input.preferLot);
      await post(trx, { id: newId(), idempotencyKey: input.key, kind: 'dispute_hold', userId: input.userId, reference: input.reference, metadata: { requested: input.amount, frozen } }, [
        { account: userAccount(input.userId, 'available'), amount: -frozen },
        { account: userAccount(input.userId, 'disputed'), amount: frozen },
      ]);
      return frozen;
    },

    /** A dispute lost: the set-aside credits are gone for good; what had already been spent is a loss. */
    async forfeit(trx: Transaction<DB>, input: { userId: string; amount: number; frozen: number; key: string; reference: string }): Promise<boolean> {
      await repo.lockUser(trx, input.userId);
      return post(trx, { id: newId(), idempotencyKey: input.key, kind: 'dispute_reversal', userId: input.userId, reference: input.reference, metadata: { requested: input.amount, frozen: input.frozen } }, [
        { account: userAccount(input.userId, 'disputed'), amount: -input.frozen },
        { account: SYSTEM.purchases, amount: input.amount },
        { account: SYSTEM.disputeLoss, amount: input.frozen - input.amount },
      ]);
    },

    /** Expires due credits for every user who has some (the periodic sweep; balance reads do it per user too). */
    async expireAll(): Promise<number> {
      let users = 0;
      for (;;) {
        const batch = await repo.systemUsersWithExpiredLots(clock.now(), 200);
        if (batch.length === 0) return users;
        for (const { user_id } of batch) {
          await db.transaction().execute(async (trx) => {
            await repo.lockUser(trx, user_id);
            await expireDue(trx, user_id);
          });
        }
        users += batch.length;
      }
    },

    /**
     * Settles holds that outlived their generation's deadline (LED-7): captured if the generation
     * succeeded, released if it ended otherwise or no longer exists; left alone while it still runs.
     */
    async sweepHolds(statusOf: (generationIds: string[]) => Promise<Map<string, string>>): Promise<{ captured: number; released: number }> {
      const expired = await repo.systemListExpiredHolds(clock.now(), 500);
      const statuses = await statusOf(expired.map((h) => h.generation_id));
      let captured = 0;
      let released = 0;
      for (const h of expired) {
        const status = statuses.get(h.generation_id);
        if (status === 'queued' || status === 'running') continue;
        await db.transaction().execute(async (trx) => {
          if (status === 'succeeded') captured += (await service.capture(trx, h.generation_id)) === 'captured' ? 1 : 0;
          else released += (await service.release(trx, h.generation_id, status === undefined ? 'deleted' : status === 'blocked' ? 'blocked' : status === 'canceled' ? 'canceled' : 'failed')) === 'released' ? 1 : 0;
        });
      }
      if (captured || released) logger.warn({ captured, released }, 'settled credit holds left open past their deadline');
      return { captured, released };
    },

    repository: repo,
  };
  return service;
}
