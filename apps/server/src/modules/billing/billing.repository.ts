import { sql, type Kysely, type Transaction } from 'kysely';
import type { CreditPurchasesTable, DB } from '#src/db/schema.ts';
import type { Insertable, Selectable } from 'kysely';
import { ENTITLED_STATUSES } from './billing.catalogue.ts';

type Executor = Kysely<DB> | Transaction<DB>;
export type PurchaseRow = Selectable<CreditPurchasesTable>;

export type BillingRepository = ReturnType<typeof createBillingRepository>;

/** SQL of payments (migration 0012). */
export function createBillingRepository(db: Kysely<DB>) {
  return {
    getCustomer: (ex: Executor, userId: string) => ex.selectFrom('billing_customers').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    userOfCustomer: async (ex: Executor, customerId: string) => (await ex.selectFrom('billing_customers').select('user_id').where('stripe_customer_id', '=', customerId).executeTakeFirst())?.user_id,
    async insertCustomer(userId: string, customerId: string): Promise<void> {
      await db.insertInto('billing_customers').values({ user_id: userId, stripe_customer_id: customerId }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
    },
    async flagCustomer(trx: Transaction<DB>, userId: string, reason: string | null): Promise<void> {
      await trx.updateTable('billing_customers').set({ flagged_at: reason ? sql<Date>`now()` : null, flag_reason: reason }).where('user_id', '=', userId).execute();
    },

    // Events: stored once, processed from the queue.
    async insertEvent(trx: Transaction<DB>, e: { id: string; type: string; objectId: string | null; created: Date; source: 'webhook' | 'reconciliation' }): Promise<boolean> {
      const r = await trx
        .insertInto('stripe_events')
        .values({ id: e.id, type: e.type, object_id: e.objectId, stripe_created: e.created, source: e.source })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },
    getEvent: (id: string) => db.selectFrom('stripe_events').selectAll().where('id', '=', id).executeTakeFirst(),
    async markEvent(id: string, outcome: { processed: true } | { error: string }): Promise<void> {
      await db
        .updateTable('stripe_events')
        .set('processed' in outcome ? { processed_at: sql<Date>`now()`, last_error: null, attempts: sql<number>`attempts + 1` } : { last_error: outcome.error.slice(0, 1000), attempts: sql<number>`attempts + 1` })
        .where('id', '=', id)
        .execute();
    },
    systemListUnprocessed: (receivedBefore: Date, limit: number) => db.selectFrom('stripe_events').select('id').where('processed_at', 'is', null).where('received_at', '<', receivedBefore).orderBy('received_at').limit(limit).execute(),
    async systemPruneEvents(before: Date): Promise<number> {
      const r = await db.deleteFrom('stripe_events').where('received_at', '<', before).where('processed_at', 'is not', null).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    // Subscriptions: Stripe's current view, replaced wholesale on every event.
    async upsertSubscription(trx: Transaction<DB>, s: { id: string; userId: string; planId: string; status: string; currentPeriodEnd: Date | null; cancelAtPeriodEnd: boolean }): Promise<void> {
      await trx
        .insertInto('subscriptions')
        .values({ id: s.id, user_id: s.userId, plan_id: s.planId, status: s.status, current_period_end: s.currentPeriodEnd, cancel_at_period_end: s.cancelAtPeriodEnd })
        .onConflict((oc) => oc.column('id').doUpdateSet({ plan_id: s.planId, status: s.status, current_period_end: s.currentPeriodEnd, cancel_at_period_end: s.cancelAtPeriodEnd, updated_at: sql<Date>`now()` }))
        .execute();
    },
    /** The user's subscription that gives them a plan now (newest first), if any. */
    entitledSubscription: (ex: Executor, userId: string) =>
      ex.selectFrom('subscriptions').selectAll().where('user_id', '=', userId).where('status', 'in', [...ENTITLED_STATUSES]).orderBy('updated_at', 'desc').limit(1).executeTakeFirst(),
    latestSubscription: (ex: Executor, userId: string) => ex.selectFrom('subscriptions').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').limit(1).executeTakeFirst(),

    // Purchases: what each payment granted.
    async insertPurchase(trx: Transaction<DB>, p: Insertable<CreditPurchasesTable>): Promise<boolean> {
      const r = await trx.insertInto('credit_purchases').values(p).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },
    async setPurchase(trx: Transaction<DB>, id: string, patch: { status?: string; charge?: string | null; receipt_url?: string | null; payment_intent?: string | null }): Promise<void> {
      await trx.updateTable('credit_purchases').set(patch).where('id', '=', id).execute();
    },
    getPurchase: (ex: Executor, id: string) => ex.selectFrom('credit_purchases').selectAll().where('id', '=', id).executeTakeFirst(),
    purchaseByPayment: (ex: Executor, ref: { paymentIntent: string | null; charge: string | null }) =>
      ex
        .selectFrom('credit_purchases')
        .selectAll()
        .where((eb) => eb.or([...(ref.paymentIntent ? [eb('payment_intent', '=', ref.paymentIntent)] : []), ...(ref.charge ? [eb('charge', '=', ref.charge)] : []), eb.val(false)]))
        .executeTakeFirst(),
    listPurchases: (userId: string, limit: number) => db.selectFrom('credit_purchases').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').limit(limit).execute(),

    // Disputes.
    getDispute: (ex: Executor, id: string) => ex.selectFrom('billing_disputes').selectAll().where('id', '=', id).executeTakeFirst(),
    async insertDispute(trx: Transaction<DB>, d: { id: string; userId: string; purchaseId: string; credits: number; frozen: number; status: string }): Promise<boolean> {
      const r = await trx
        .insertInto('billing_disputes')
        .values({ id: d.id, user_id: d.userId, purchase_id: d.purchaseId, credits: d.credits, frozen: d.frozen, status: d.status })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },
    /** Closes an open dispute; undefined when it was already closed (so its effect happens once). */
    closeDispute: (trx: Transaction<DB>, id: string, status: string) =>
      trx.updateTable('billing_disputes').set({ status, closed_at: sql<Date>`now()` }).where('id', '=', id).where('closed_at', 'is', null).returningAll().executeTakeFirst(),
    async countOpenDisputes(ex: Executor, userId: string): Promise<number> {
      const r = await ex.selectFrom('billing_disputes').select(sql<number>`count(*)::int`.as('n')).where('user_id', '=', userId).where('closed_at', 'is', null).executeTakeFirstOrThrow();
      return r.n;
    },
  };
}
