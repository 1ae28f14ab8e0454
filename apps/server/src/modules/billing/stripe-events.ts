import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '#src/db/schema.ts';
import type { Stripe, StripeGateway } from '#src/adapters/stripe/stripe-gateway.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import type { CreditsService } from '#src/modules/credits/credits.service.ts';
import type { PackDefinition, PlanDefinition } from './billing.catalogue.ts';
import type { BillingRepository, PurchaseRow } from './billing.repository.ts';

/**
 * What each Stripe event does (PAY-5…PAY-7). Handlers never trust the payload: they re-read the object
 * from Stripe, so a late or repeated event applies the current state, and every credit movement has a
 * ledger key derived from Stripe's ids (`checkout:<cs>`, `invoice:<in>`, `refund:<re>`,
 * `dispute:<dp>:…`), so the same effect can never happen twice whatever the delivery order.
 */
export function createStripeEventHandlers(deps: {
  db: Kysely<DB>;
  repository: BillingRepository;
  credits: Pick<CreditsService, 'grant' | 'reverse' | 'freeze' | 'forfeit' | 'lockForAdmission' | 'lotForKey'>;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
  packs: Map<string, PackDefinition>;
  planByPrice: Map<string, PlanDefinition>;
  requireStripe: () => StripeGateway;
  /** Tells the user a renewal payment failed (PAY-5: past_due and notify). */
  notifyPaymentFailed: (userId: string, planName: string) => Promise<void>;
}) {
  const { db, repository: repo, credits, logger } = deps;
  const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

  const userOf = async (ex: Kysely<DB> | Transaction<DB>, customer: string | { id: string } | null | undefined, metadataUserId?: string | null): Promise<string | null> => {
    const id = idOf(customer);
    const mapped = id ? await repo.userOfCustomer(ex, id) : undefined;
    return mapped ?? metadataUserId ?? null;
  };

  /** The charge behind a PaymentIntent, for its receipt and for matching refunds and disputes later. */
  const chargeOf = async (paymentIntent: string | null): Promise<{ charge: string | null; receiptUrl: string | null }> => {
    if (!paymentIntent) return { charge: null, receiptUrl: null };
    const stripe = deps.requireStripe();
    const pi = await stripe.retrievePaymentIntent(paymentIntent);
    const chargeId = idOf(pi.latest_charge);
    if (!chargeId) return { charge: null, receiptUrl: null };
    const charge = await stripe.retrieveCharge(chargeId);
    return { charge: charge.id, receiptUrl: charge.receipt_url ?? null };
  };

  /** Stripe's current view of a subscription, written under the user's lock (so two events cannot write an older view last). */
  const syncSubscription = async (subscriptionId: string): Promise<void> => {
    const stripe = deps.requireStripe();
    const first = await stripe.retrieveSubscription(subscriptionId);
    const userId = await userOf(db, first.customer, first.metadata?.atelier_user_id ?? null);
    if (!userId) return logger.warn({ subscriptionId }, 'Stripe subscription for an unknown customer; ignored');
    await db.transaction().execute(async (trx) => {
      await credits.lockForAdmission(trx, userId);
      const sub = await stripe.retrieveSubscription(subscriptionId); // re-read under the lock: the newest state wins
      const item = sub.items.data[0];
      const plan = item ? deps.planByPrice.get(item.price.id) : undefined;
      if (!plan) return logger.warn({ subscriptionId, price: item?.price.id }, 'Stripe subscription for a price that is not a plan in BILLING_FILE; ignored');
      await repo.upsertSubscription(trx, {
        id: sub.id,
        userId,
        planId: plan.id,
        status: sub.status,
        currentPeriodEnd: item?.current_period_end ? new Date(item.current_period_end * 1000) : null,
        cancelAtPeriodEnd: sub.cancel_at_period_end,
      });
    });
  };

  /** A paid checkout of a pack: its credits, once (PAY-5, key `checkout:<cs>`). Subscriptions are granted per invoice instead. */
  const onCheckout = async (sessionId: string): Promise<void> => {
    const session = await deps.requireStripe().retrieveCheckoutSession(sessionId);
    if (session.mode === 'subscription') {
      const subscriptionId = idOf(session.subscription);
      if (subscriptionId) await syncSubscription(subscriptionId);
      return;
    }
    if (session.mode !== 'payment' || session.status !== 'complete') return;
    const userId = await userOf(db, session.customer, session.client_reference_id ?? session.metadata?.atelier_user_id ?? null);
    const pack = deps.packs.get(session.metadata?.item_id ?? '');
    if (!userId || !pack) return logger.warn({ sessionId, item: session.metadata?.item_id }, 'paid checkout for an unknown user or pack; not granted');
    const paymentIntent = idOf(session.payment_intent);
    const purchaseId = `checkout:${session.id}`;
    const paid = session.payment_status === 'paid';
    const { charge, receiptUrl } = paid ? await chargeOf(paymentIntent) : { charge: null, receiptUrl: null };
    await db.transaction().execute(async (trx) => {
      const base = { id: purchaseId, user_id: userId, kind: 'pack' as const, item_id: pack.id, item_name: pack.name, credits: pack.credits, amount: session.amount_total ?? 0, currency: session.currency ?? 'usd', payment_intent: paymentIntent, stripe_object: session.id };
      await repo.insertPurchase(trx, { ...base, status: paid ? 'paid' : 'pending', charge, receipt_url: receiptUrl });
      if (!paid) return; // an async payment (bank debit): granted on checkout.session.async_payment_succeeded
      const existing = await repo.getPurchase(trx, purchaseId);
      if (existing?.status === 'pending') await repo.setPurchase(trx, purchaseId, { status: 'paid', charge, receipt_url: receiptUrl });
      await credits.grant(
        {
          userId,
          amount: pack.credits,
          kind: 'purchase',
          key: purchaseId,
          reference: session.id,
          expiresAt: pack.expires_in_days ? new Date(Date.now() + pack.expires_in_days * 86_400_000) : null,
          metadata: { item_id: pack.id, item_name: pack.name, amount: session.amount_total, currency: session.currency },
        },
        trx,
      );
    });
  };

  const onAsyncPaymentFailed = async (sessionId: string): Promise<void> => {
    await db.transaction().execute(async (trx) => {
      const purchase = await repo.getPurchase(trx, `checkout:${sessionId}`);
      if (purchase?.status === 'pending') await repo.setPurchase(trx, purchase.id, { status: 'failed' });
    });
  };

  /** A paid subscription invoice: the plan's credits for that period, once (key `invoice:<in>`), expiring at the period's end. */
  const onInvoice = async (invoiceId: string, eventType: string): Promise<void> => {
    const stripe = deps.requireStripe();
    const invoice = await stripe.retrieveInvoice(invoiceId);
    const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
    if (subscriptionId) await syncSubscription(subscriptionId);
    if (eventType === 'invoice.payment_failed' && invoice.status === 'open' && subscriptionId) {
      const priceId = idOf(invoice.lines.data[0]?.pricing?.price_details?.price);
      const plan = priceId ? deps.planByPrice.get(priceId) : undefined;
      const userId = await userOf(db, invoice.customer, null);
      if (plan && userId) await deps.notifyPaymentFailed(userId, plan.name);
      return;
    }
    if (invoice.status !== 'paid' || !subscriptionId) return;
    const line = invoice.lines.data[0];
    const priceId = idOf(line?.pricing?.price_details?.price);
    const plan = priceId ? deps.planByPrice.get(priceId) : undefined;
    const userId = await userOf(db, invoice.customer, invoice.parent?.subscription_details?.metadata?.atelier_user_id ?? null);
    if (!plan || !userId) return logger.warn({ invoiceId, priceId }, 'paid invoice for an unknown user or plan; not granted');
    const payment = invoice.payments?.data.find((p) => p.status === 'paid') ?? invoice.payments?.data[0];
    const paymentIntent = idOf(payment?.payment.payment_intent);
    const { charge } = await chargeOf(paymentIntent);
    const periodEnd = line?.period?.end ? new Date(line.period.end * 1000) : null;
    await db.transaction().execute(async (trx) => {
      const purchaseId = `invoice:${invoice.id}`;
      await repo.insertPurchase(trx, {
        id: purchaseId,
        user_id: userId,
        kind: 'plan',
        item_id: plan.id,
        item_name: plan.name,
        credits: plan.monthly_credits,
        amount: invoice.amount_paid,
        currency: invoice.currency,
        status: 'paid',
        payment_intent: paymentIntent,
        charge,
        receipt_url: invoice.hosted_invoice_url ?? null,
        stripe_object: invoice.id,
      });
      if (plan.monthly_credits > 0) {
        await credits.grant(
          { userId, amount: plan.monthly_credits, kind: 'plan_grant', key: purchaseId, reference: invoice.id, expiresAt: periodEnd, metadata: { item_id: plan.id, item_name: plan.name, period_end: periodEnd?.toISOString() ?? null } },
          trx,
        );
      }
    });
  };

  /** PAY-6: each refund takes back floor(credits × refunded / paid) once (key `refund:<re>`); a shortfall is a loss, never a negative balance. */
  const onChargeRefunded = async (chargeId: string): Promise<void> => {
    const charge = await deps.requireStripe().retrieveCharge(chargeId);
    const purchase = await repo.purchaseByPayment(db, { paymentIntent: idOf(charge.payment_intent), charge: charge.id });
    if (!purchase) return logger.warn({ chargeId }, 'refund of a charge that bought no credits; ignored');
    for (const refund of charge.refunds?.data ?? []) {
      if (refund.status !== 'succeeded' && refund.status !== 'pending') continue;
      const credits_ = Math.floor((Number(purchase.credits) * refund.amount) / Math.max(1, Number(purchase.amount)));
      await db.transaction().execute(async (trx) => {
        if (credits_ > 0) {
          const result = await credits.reverse(
            { userId: purchase.user_id, amount: credits_, key: `refund:${refund.id}`, kind: 'reversal', reference: refund.id, preferLot: await lotOf(trx, purchase), metadata: { purchase: purchase.id, refunded: refund.amount } },
            trx,
          );
          if (result.applied && result.shortfall > 0) {
            await repo.flagCustomer(trx, purchase.user_id, `refund ${refund.id}: ${result.shortfall} credits had already been spent`);
            await deps.audit.record({ actorId: null, actorIp: null, action: 'billing.refund_shortfall', targetType: 'user', targetId: purchase.user_id, details: { refund: refund.id, credits: credits_, shortfall: result.shortfall } }, trx);
          }
        }
        await repo.setPurchase(trx, purchase.id, { status: charge.amount_refunded >= charge.amount ? 'refunded' : 'partially_refunded' });
      });
    }
  };

  /** PAY-7: a dispute sets the purchase's credits aside and flags the account; won gives them back, lost takes them for good. */
  const onDispute = async (disputeId: string): Promise<void> => {
    const dispute = await deps.requireStripe().retrieveDispute(disputeId);
    const purchase = await repo.purchaseByPayment(db, { paymentIntent: idOf(dispute.payment_intent), charge: idOf(dispute.charge) });
    if (!purchase) return logger.warn({ disputeId }, 'dispute of a charge that bought no credits; ignored');
    const credits_ = Math.floor((Number(purchase.credits) * dispute.amount) / Math.max(1, Number(purchase.amount)));
    await db.transaction().execute(async (trx) => {
      let row = await repo.getDispute(trx, dispute.id);
      if (!row) {
        const frozen = await credits.freeze(trx, { userId: purchase.user_id, amount: credits_, key: `dispute:${dispute.id}:hold`, reference: dispute.id, preferLot: await lotOf(trx, purchase) });
        await repo.insertDispute(trx, { id: dispute.id, userId: purchase.user_id, purchaseId: purchase.id, credits: credits_, frozen, status: 'open' });
        await repo.flagCustomer(trx, purchase.user_id, `payment disputed (${dispute.id})`);
        await repo.setPurchase(trx, purchase.id, { status: 'disputed' });
        await deps.audit.record({ actorId: null, actorIp: null, action: 'billing.dispute_opened', targetType: 'user', targetId: purchase.user_id, details: { dispute: dispute.id, credits: credits_, frozen } }, trx);
        row = await repo.getDispute(trx, dispute.id);
      }
      if (!row || (dispute.status !== 'won' && dispute.status !== 'lost')) return;
      const closed = await repo.closeDispute(trx, dispute.id, dispute.status);
      if (!closed) return;
      const frozen = Number(closed.frozen);
      if (dispute.status === 'won') {
        if (frozen > 0) await credits.grant({ userId: purchase.user_id, amount: frozen, kind: 'dispute_release', key: `dispute:${dispute.id}:release`, reference: dispute.id }, trx);
        await repo.setPurchase(trx, purchase.id, { status: 'paid' });
        if ((await repo.countOpenDisputes(trx, purchase.user_id)) === 0) await repo.flagCustomer(trx, purchase.user_id, null);
      } else {
        await credits.forfeit(trx, { userId: purchase.user_id, amount: Number(closed.credits), frozen, key: `dispute:${dispute.id}:lost`, reference: dispute.id });
        await repo.setPurchase(trx, purchase.id, { status: 'dispute_lost' });
      }
      await deps.audit.record({ actorId: null, actorIp: null, action: `billing.dispute_${dispute.status}`, targetType: 'user', targetId: purchase.user_id, details: { dispute: dispute.id, credits: Number(closed.credits), frozen } }, trx);
    });
  };

  /** The lot a purchase's credits went into, taken back first on a refund or dispute. */
  const lotOf = (trx: Transaction<DB>, purchase: PurchaseRow) => credits.lotForKey(trx, purchase.id);

  return {
    async handle(type: string, objectId: string | null): Promise<void> {
      if (!objectId) return;
      switch (type as Stripe.Event.Type) {
        case 'checkout.session.completed':
        case 'checkout.session.async_payment_succeeded':
          return onCheckout(objectId);
        case 'checkout.session.async_payment_failed':
          return onAsyncPaymentFailed(objectId);
        case 'invoice.paid':
        case 'invoice.payment_succeeded':
        case 'invoice.payment_failed':
          return onInvoice(objectId, type);
        case 'customer.subscription.created':
        case 'customer.subscription.updated':
        case 'customer.subscription.deleted':
          return syncSubscription(objectId);
        case 'charge.refunded':
          return onChargeRefunded(objectId);
        case 'charge.dispute.created':
        case 'charge.dispute.updated':
        case 'charge.dispute.funds_withdrawn':
        case 'charge.dispute.funds_reinstated':
        case 'charge.dispute.closed':
          return onDispute(objectId);
        default:
          return; // stored (so a replay is recognised) but nothing to do
      }
    },
  };
}
