import { sql, type Kysely, type Transaction } from 'kysely';
import type { CreditHoldsTable, DB, LedgerAccountKind } from '#src/db/schema.ts';

type Executor = Kysely<DB> | Transaction<DB>;

/** The ledger's account ids: a user's three balances, and the system accounts created by migration 0011. */
export const userAccount = (userId: string, kind: 'available' | 'held' | 'disputed') => `user:${userId}:${kind}`;
export const SYSTEM = {
  grants: 'system:grants',
  purchases: 'system:purchases',
  consumed: 'system:consumed',
  expired: 'system:expired',
  disputeLoss: 'system:dispute_loss',
} as const;

export interface Posting {
  account: string;
  amount: number;
}

export interface NewLedgerTransaction {
  id: string;
  idempotencyKey: string;
  kind: string;
  userId: string | null;
  generationId?: string | null;
  reference?: string | null;
  actorId?: string | null;
  reason?: string | null;
  metadata?: Record<string, unknown>;
}

export interface LotRow {
  id: string;
  remaining: number;
  expires_at: Date | null;
}

export type HoldRow = Pick<CreditHoldsTable, 'generation_id' | 'user_id' | 'amount' | 'state' | 'api_key_id'> & { settled_at: Date | null };

export type CreditsRepository = ReturnType<typeof createCreditsRepository>;

/** SQL of the credits ledger (migration 0011). Every write takes the caller's transaction. */
export function createCreditsRepository(db: Kysely<DB>) {
  return {
    /** Creates the user's balance rows if missing, then locks their `available` row: every change to a user's credits runs under this lock. */
    async lockUser(trx: Transaction<DB>, userId: string): Promise<void> {
      await trx
        .insertInto('ledger_accounts')
        .values((['available', 'held', 'disputed'] as const).map((kind) => ({ id: userAccount(userId, kind), user_id: userId, kind })))
        .onConflict((oc) => oc.doNothing())
        .execute();
      await trx.selectFrom('ledger_accounts').select('id').where('id', '=', userAccount(userId, 'available')).forUpdate().execute();
    },

    /** Inserts the transaction unless its idempotency key exists; undefined when it did (nothing else is written then). */
    async insertTransaction(trx: Transaction<DB>, tx: NewLedgerTransaction): Promise<string | undefined> {
      const row = await trx
        .insertInto('ledger_transactions')
        .values({
          id: tx.id,
          idempotency_key: tx.idempotencyKey,
          kind: tx.kind,
          user_id: tx.userId,
          generation_id: tx.generationId ?? null,
          reference: tx.reference ?? null,
          actor_id: tx.actorId ?? null,
          reason: tx.reason ?? null,
          metadata: JSON.stringify(tx.metadata ?? {}),
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row?.id;
    },

    /** Writes the postings and moves the materialised user balances with them (system accounts are summed on demand). */
    async insertPostings(trx: Transaction<DB>, transactionId: string, postings: readonly Posting[]): Promise<void> {
      const nonZero = postings.filter((p) => p.amount !== 0);
      if (nonZero.length === 0) return;
      await trx.insertInto('ledger_postings').values(nonZero.map((p) => ({ transaction_id: transactionId, account_id: p.account, amount: p.amount }))).execute();
      for (const p of nonZero) {
        if (!p.account.startsWith('user:')) continue;
        await trx.updateTable('ledger_accounts').set({ balance: sql<number>`balance + ${p.amount}::bigint` }).where('id', '=', p.account).execute();
      }
    },

    async getKey(ex: Executor, idempotencyKey: string): Promise<{ id: string } | undefined> {
      return ex.selectFrom('ledger_transactions').select('id').where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    },

    async balances(ex: Executor, userId: string): Promise<{ available: number; held: number; disputed: number }> {
      const rows = await ex.selectFrom('ledger_accounts').select(['kind', 'balance']).where('user_id', '=', userId).execute();
      const of = (kind: LedgerAccountKind) => Number(rows.find((r) => r.kind === kind)?.balance ?? 0);
      return { available: of('available'), held: of('held'), disputed: of('disputed') };
    },

    // Lots: where available credits came from, spent expiring-first.

    async insertLot(trx: Transaction<DB>, lot: { id: string; userId: string; transactionId: string; source: string; amount: number; expiresAt: Date | null }): Promise<void> {
      await trx
        .insertInto('credit_lots')
        .values({ id: lot.id, user_id: lot.userId, transaction_id: lot.transactionId, source: lot.source, granted: lot.amount, remaining: lot.amount, expires_at: lot.expiresAt })
        .execute();
    },

    /** Lots with credits left that have not expired at `now`, in spending order. */
    spendableLots(trx: Transaction<DB>, userId: string, now: Date): Promise<LotRow[]> {
      return trx
        .selectFrom('credit_lots')
        .select(['id', 'remaining', 'expires_at'])
        .where('user_id', '=', userId)
        .where('remaining', '>', 0)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .orderBy(sql`expires_at is null`)
        .orderBy('expires_at')
        .orderBy('id')
        .execute();
    },

    /** The user's lots with credits left whose time is up. */
    expiredLots(trx: Transaction<DB>, userId: string, now: Date): Promise<LotRow[]> {
      return trx.selectFrom('credit_lots').select(['id', 'remaining', 'expires_at']).where('user_id', '=', userId).where('remaining', '>', 0).where('expires_at', '<=', now).orderBy('id').execute();
    },

    async lotsById(trx: Transaction<DB>, ids: readonly string[]): Promise<LotRow[]> {
      if (ids.length === 0) return [];
      return trx.selectFrom('credit_lots').select(['id', 'remaining', 'expires_at']).where('id', 'in', ids).execute();
    },

    async lotForKey(trx: Transaction<DB>, idempotencyKey: string): Promise<string | null> {
      const row = await trx
        .selectFrom('credit_lots')
        .innerJoin('ledger_transactions', 'ledger_transactions.id', 'credit_lots.transaction_id')
        .select('credit_lots.id')
        .where('ledger_transactions.idempotency_key', '=', idempotencyKey)
        .executeTakeFirst();
      return row?.id ?? null;
    },

    async adjustLot(trx: Transaction<DB>, lotId: string, delta: number): Promise<void> {
      await trx.updateTable('credit_lots').set({ remaining: sql<number>`remaining + ${delta}::bigint` }).where('id', '=', lotId).execute();
    },

    /** Users who have expired credits still counted as available. */
    systemUsersWithExpiredLots(now: Date, limit: number): Promise<{ user_id: string }[]> {
      return db.selectFrom('credit_lots').select('user_id').distinct().where('remaining', '>', 0).where('expires_at', '<=', now).limit(limit).execute();
    },

    // Holds: one per generation.

    async insertHold(trx: Transaction<DB>, hold: { generationId: string; userId: string; amount: number; apiKeyId: string | null; expiresAt: Date }, lots: readonly { lotId: string; amount: number }[]): Promise<void> {
      await trx
        .insertInto('credit_holds')
        .values({ generation_id: hold.generationId, user_id: hold.userId, amount: hold.amount, state: 'held', api_key_id: hold.apiKeyId, expires_at: hold.expiresAt })
        .execute();
      if (lots.length) await trx.insertInto('credit_hold_lots').values(lots.map((l) => ({ generation_id: hold.generationId, lot_id: l.lotId, amount: l.amount }))).execute();
    },

    /** held → captured | released, only from held: the one of the two that gets here first wins, the other gets nothing. */
    settleHold(trx: Transaction<DB>, generationId: string, to: 'captured' | 'released'): Promise<HoldRow | undefined> {
      return trx
        .updateTable('credit_holds')
        .set({ state: to, settled_at: sql<Date>`now()` })
        .where('generation_id', '=', generationId)
        .where('state', '=', 'held')
        .returning(['generation_id', 'user_id', 'amount', 'state', 'api_key_id', 'settled_at'])
        .executeTakeFirst();
    },

    getHold(ex: Executor, generationId: string): Promise<HoldRow | undefined> {
      return ex.selectFrom('credit_holds').select(['generation_id', 'user_id', 'amount', 'state', 'api_key_id', 'settled_at']).where('generation_id', '=', generationId).executeTakeFirst();
    },

    holdLots(trx: Transaction<DB>, generationId: string): Promise<{ lot_id: string; amount: number }[]> {
      return trx.selectFrom('credit_hold_lots').select(['lot_id', 'amount']).where('generation_id', '=', generationId).orderBy('lot_id').execute();
    },

    /** Open holds past their time (deadline + grace): the sweeper settles them by their generation's outcome. */
    systemListExpiredHolds(now: Date, limit: number): Promise<{ generation_id: string; user_id: string }[]> {
      return db.selectFrom('credit_holds').select(['generation_id', 'user_id']).where('state', '=', 'held').where('expires_at', '<', now).orderBy('expires_at').limit(limit).execute();
    },

    async systemCountOverdueHolds(now: Date): Promise<number> {
      const r = await db.selectFrom('credit_holds').select(sql<number>`count(*)::int`.as('n')).where('state', '=', 'held').where('expires_at', '<', now).executeTakeFirstOrThrow();
      return r.n;
    },

    /** How many holds an API key has open: its generations in flight. */
    async countOpenHoldsForKey(trx: Transaction<DB>, apiKeyId: string): Promise<number> {
      const r = await trx.selectFrom('credit_holds').select(sql<number>`count(*)::int`.as('n')).where('api_key_id', '=', apiKeyId).where('state', '=', 'held').executeTakeFirstOrThrow();
      return r.n;
    },

    // History.

    /** The user's movements, newest first, with what each did to their available and held balances. */
    listTransactions(userId: string, opts: { beforeId: string | null; limit: number }) {
      let q = db
        .selectFrom('ledger_transactions as t')
        .select((eb) => [
          't.id',
          't.kind',
          't.generation_id',
          't.reference',
          't.reason',
          't.metadata',
          't.created_at',
          eb.selectFrom('ledger_postings as p').select(sql<number>`coalesce(sum(p.amount), 0)::bigint`.as('s')).whereRef('p.transaction_id', '=', 't.id').where('p.account_id', '=', userAccount(userId, 'available')).as('available_change'),
          eb.selectFrom('ledger_postings as p').select(sql<number>`coalesce(sum(p.amount), 0)::bigint`.as('s')).whereRef('p.transaction_id', '=', 't.id').where('p.account_id', '=', userAccount(userId, 'held')).as('held_change'),
          eb.selectFrom('credit_lots as l').select('l.expires_at').whereRef('l.transaction_id', '=', 't.id').limit(1).as('expires_at'),
        ])
        .where('t.user_id', '=', userId)
        .orderBy('t.id', 'desc')
        .limit(opts.limit);
      if (opts.beforeId) q = q.where('t.id', '<', opts.beforeId);
      return q.execute();
    },

    // Reconciliation (LED-9).

    async systemSumAllPostings(): Promise<number> {
      const r = await db.selectFrom('ledger_postings').select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('s')).executeTakeFirstOrThrow();
      return Number(r.s);
    },

    /** Accounts whose materialised balance differs from the sum of their postings. */
    systemBalanceDrift(): Promise<{ id: string; balance: number; postings: number }[]> {
      return sql<{ id: string; balance: number; postings: number }>`
        select a.id, a.balance, coalesce(p.s, 0)::bigint as postings
        from ledger_accounts a
        left join (select account_id, sum(amount) as s from ledger_postings group by account_id) p on p.account_id = a.id
        where a.user_id is not null and a.balance <> coalesce(p.s, 0)`
        .execute(db)
        .then((r) => r.rows);
    },

    /** Users whose lots do not add up to their available balance. */
    systemLotDrift(): Promise<{ user_id: string; balance: number; lots: number }[]> {
      return sql<{ user_id: string; balance: number; lots: number }>`
        select a.user_id, a.balance, coalesce(l.s, 0)::bigint as lots
        from ledger_accounts a
        left join (select user_id, sum(remaining) as s from credit_lots group by user_id) l on l.user_id = a.user_id
        where a.kind = 'available' and a.balance <> coalesce(l.s, 0)`
        .execute(db)
        .then((r) => r.rows);
    },

    /** Users whose held balance is not the sum of their open holds. */
    systemHoldDrift(): Promise<{ user_id: string; balance: number; holds: number }[]> {
      return sql<{ user_id: string; balance: number; holds: number }>`
        select a.user_id, a.balance, coalesce(h.s, 0)::bigint as holds
        from ledger_accounts a
        left join (select user_id, sum(amount) as s from credit_holds where state = 'held' group by user_id) h on h.user_id = a.user_id
        where a.kind = 'held' and a.balance <> coalesce(h.s, 0)`
        .execute(db)
        .then((r) => r.rows);
    },

    async systemCountUserAccounts(): Promise<number> {
      const r = await db.selectFrom('ledger_accounts').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      return r.n;
    },

    async insertReconciliation(row: { id: string; ok: boolean; checkedAccounts: number; problems: unknown[] }): Promise<void> {
      await db.insertInto('ledger_reconciliations').values({ id: row.id, ok: row.ok, checked_accounts: row.checkedAccounts, problems: JSON.stringify(row.problems) }).execute();
    },

    latestReconciliation() {
      return db.selectFrom('ledger_reconciliations').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
    },
  };
}
