import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { BillingCatalogue, BillingOverview, CheckoutRequest, Pack, Payment, Plan, PlanLimits, Price } from '@atelier/contracts';
import type { DB } from '#src/db/schema.ts';
import type { Stripe, StripeGateway } from '#src/adapters/stripe/stripe-gateway.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import type { Clock } from '#src/lib/clock.ts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import type { CreditsService } from '#src/modules/credits/credits.service.ts';
import { freeLimits, planLimits, type FreeTier, type PackDefinition, type PlanDefinition } from './billing.catalogue.ts';
import type { BillingRepository, PurchaseRow } from './billing.repository.ts';
import { processStripeEventJob } from './billing.jobs.ts';
import { createStripeEventHandlers } from './stripe-events.ts';
import { paymentFailedMail } from '#src/adapters/mail/templates.ts';
import type { Mailer } from '#src/adapters/mail/mailer.ts';

const PRICE_CACHE_MS = 10 * 60_000;

export type BillingService = ReturnType<typeof createBillingService>;

/**
 * Plans, packs and payments. Without Stripe (the embedded default) payments are off: every account is
 * on the free tier (monthly allowance, sign-up credits, staff grants) and every other credit rule
 * still applies. With Stripe, checkout and the customer portal are Stripe's hosted pages, so card data
 * never reaches Atelier; webhooks are verified, stored once and processed from the queue.
 */
export function createBillingService(deps: {
  db: Kysely<DB>;
  repository: BillingRepository;
  catalogue: BillingCatalogue;
  free: FreeTier;
  stripe: StripeGateway | null;
  credits: Pick<CreditsService, 'grant' | 'reverse' | 'freeze' | 'forfeit' | 'lockForAdmission' | 'lotForKey'>;
  jobs: JobQueue;
  audit: Pick<AuditLog, 'record'>;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  mailer: Pick<Mailer, 'send'>;
  profileOf: (userId: string) => Promise<{ email: string }>;
}) {
  const { db, repository: repo, catalogue, free, stripe, logger } = deps;
  const packs = new Map(catalogue.packs.map((p) => [p.id, p]));
  const plans = new Map(catalogue.plans.map((p) => [p.id, p]));
  const planByPrice = new Map(catalogue.plans.map((p) => [p.stripe_price, p]));
  const prices = new Map<string, { price: Price; at: number }>();

  const requireStripe = (): StripeGateway => {
    if (!stripe) throw new AppError('invalid_state', 'Payments are not set up on this Atelier: credits come from the monthly allowance and from the operator.');
    return stripe;
  };

  /** Stripe's price for display, cached briefly; null if Stripe cannot be asked right now (the page still works). */
  const priceOf = async (priceId: string): Promise<Price | null> => {
    const cached = prices.get(priceId);
    if (cached && Date.now() - cached.at < PRICE_CACHE_MS) return cached.price;
    if (!stripe) return null;
    try {
      const p = await stripe.retrievePrice(priceId);
      const price: Price = { amount: p.unit_amount ?? 0, currency: p.currency, interval: p.recurring?.interval === 'year' ? 'year' : p.recurring?.interval === 'month' ? 'month' : null };
      prices.set(priceId, { price, at: Date.now() });
      return price;
    } catch (error) {
      logger.warn({ err: error, priceId }, 'could not read a price from Stripe');
      return null;
    }
  };

  const currentPlan = async (ex: Kysely<DB> | Transaction<DB>, userId: string): Promise<{ plan: PlanDefinition | null; status: string }> => {
    const sub = await repo.entitledSubscription(ex, userId);
    const plan = sub ? (plans.get(sub.plan_id) ?? null) : null;
    return plan && sub ? { plan, status: sub.status } : { plan: null, status: 'free' };
  };

  /** Makes (once) the Stripe customer for a user, before their first checkout: every later event then maps to them. */
  const customerFor = async (user: { id: string; email: string; name: string }): Promise<string> => {
    const existing = await repo.getCustomer(db, user.id);
    if (existing) return existing.stripe_customer_id;
    const customer = await requireStripe().createCustomer({ userId: user.id, email: user.email, name: user.name });
    await repo.insertCustomer(user.id, customer.id);
    return (await repo.getCustomer(db, user.id))!.stripe_customer_id;
  };

  /** Stores an event once and enqueues its processing in the same transaction; false for a duplicate. */
  const storeEvent = async (event: Stripe.Event, source: 'webhook' | 'reconciliation'): Promise<boolean> => {
    const object = event.data.object as { id?: unknown };
    return db.transaction().execute(async (trx) => {
      const inserted = await repo.insertEvent(trx, { id: event.id, type: event.type, objectId: typeof object.id === 'string' ? object.id : null, created: new Date(event.created * 1000), source });
      if (inserted) await deps.jobs.enqueue(processStripeEventJob, { eventId: event.id }, { trx });
      return inserted;
    });
  };

  const handlers = createStripeEventHandlers({
    ...deps,
    packs,
    planByPrice,
    requireStripe,
    notifyPaymentFailed: async (userId, planName) => {
      const { email } = await deps.profileOf(userId);
      await deps.mailer.send(paymentFailedMail(email, planName, `${deps.publicUrl}/billing`));
    },
  });

  const presentPayment = (p: PurchaseRow): Payment => ({
    id: p.id,
    created_at: p.created_at.toISOString(),
    description: p.kind === 'pack' ? `${p.item_name} (${p.credits.toLocaleString('en')} credits)` : `${p.item_name} plan (${p.credits.toLocaleString('en')} credits)`,
    credits: Number(p.credits),
    amount: Number(p.amount),
    currency: p.currency,
    status: (['pending', 'paid', 'failed', 'refunded', 'partially_refunded', 'disputed', 'dispute_lost'] as const).find((s) => s === p.status) ?? 'paid',
    receipt_url: p.receipt_url,
  });

  return {
    paymentsEnabled: stripe !== null,

    /** The limits of the user's plan (or the free tier), read inside the admission transaction. */
    async limitsFor(ex: Kysely<DB> | Transaction<DB>, userId: string): Promise<PlanLimits & { planName: string }> {
      const { plan } = await currentPlan(ex, userId);
      return plan ? { ...planLimits(plan), planName: plan.name } : { ...freeLimits(free), planName: 'Free' };
    },

    /** Free credits for this month: the free tier's allowance, unless a plan grants credits instead. */
    async monthlyAllowance(trx: Transaction<DB>, userId: string): Promise<number> {
      if (free.monthlyCredits === 0) return 0;
      return (await currentPlan(trx, userId)).plan ? 0 : free.monthlyCredits;
    },

    async planSummary(userId: string): Promise<{ id: string; name: string; status: string; limits: PlanLimits }> {
      const { plan, status } = await currentPlan(db, userId);
      return plan ? { id: plan.id, name: plan.name, status, limits: planLimits(plan) } : { id: 'free', name: 'Free', status: 'free', limits: freeLimits(free) };
    },

    async overview(userId: string): Promise<BillingOverview> {
      const [packList, planList, sub, customer] = await Promise.all([
        Promise.all(catalogue.packs.map(async (p): Promise<Pack> => ({ id: p.id, name: p.name, credits: p.credits, price: await priceOf(p.stripe_price), expires_in_days: p.expires_in_days }))),
        Promise.all(
          catalogue.plans.map(async (p): Promise<Plan> => ({ id: p.id, name: p.name, monthly_credits: p.monthly_credits, price: await priceOf(p.stripe_price), limits: planLimits(p), features: p.features })),
        ),
        repo.latestSubscription(db, userId),
        repo.getCustomer(db, userId),
      ]);
      return {
        payments_enabled: stripe !== null,
        packs: stripe ? packList : [],
        plans: stripe ? planList : [],
        free: { monthly_credits: free.monthlyCredits, limits: freeLimits(free) },
        subscription: sub
          ? { id: sub.id, plan_id: sub.plan_id, plan_name: plans.get(sub.plan_id)?.name ?? sub.plan_id, status: sub.status, current_period_end: sub.current_period_end?.toISOString() ?? null, cancel_at_period_end: sub.cancel_at_period_end }
          : null,
        flagged: customer?.flagged_at != null,
        has_billing_account: customer !== undefined,
      };
    },

    /**
     * A Stripe Checkout session for a pack or a plan. The client's Idempotency-Key becomes Stripe's
     * (PAY-8): a retried request gets the same session, the same key with another item a 409.
     */
    async checkout(user: { id: string; email: string; name: string }, input: CheckoutRequest, clientKey: string | undefined): Promise<{ url: string }> {
      const gateway = requireStripe();
      const customer = await repo.getCustomer(db, user.id);
      if (customer?.flagged_at) throw new AppError('forbidden', 'Purchases are paused on this account while a payment dispute is open. Contact support to resolve it.');
      const item: PackDefinition | PlanDefinition | undefined = input.kind === 'pack' ? packs.get(input.id) : plans.get(input.id);
      if (!item) throw new AppError('validation_failed', `No ${input.kind} "${input.id}"`, { fields: [{ path: 'id', message: `unknown ${input.kind}; see GET /api/billing for what is on sale` }] });
      if (input.kind === 'plan') {
        const current = await repo.entitledSubscription(db, user.id);
        if (current) throw new AppError('invalid_state', 'You already have a subscription: change or cancel it in the billing portal (Manage subscription).');
      }
      if (clientKey !== undefined && !/^[A-Za-z0-9_.:-]{8,128}$/.test(clientKey)) {
        throw new AppError('validation_failed', 'Idempotency-Key must be 8–128 characters: letters, digits, _ . : -', { fields: [{ path: 'Idempotency-Key', message: 'invalid format' }] });
      }
      const customerId = await customerFor(user);
      const metadata = { atelier_user_id: user.id, kind: input.kind, item_id: item.id };
      const params: Stripe.Checkout.SessionCreateParams = {
        mode: input.kind === 'pack' ? 'payment' : 'subscription',
        customer: customerId,
        client_reference_id: user.id,
        line_items: [{ price: item.stripe_price, quantity: 1 }],
        success_url: `${deps.publicUrl}/billing?checkout={CHECKOUT_SESSION_ID}`,
        cancel_url: `${deps.publicUrl}/billing?checkout=canceled`,
        metadata,
        ...(input.kind === 'pack' ? { payment_intent_data: { metadata } } : { subscription_data: { metadata } }),
      };
      try {
        const session = await gateway.createCheckoutSession(params, `checkout:${user.id}:${clientKey ?? crypto.randomUUID()}`);
        if (!session.url) throw new AppError('service_unavailable', 'Stripe did not return a checkout page. Try again in a moment.');
        return { url: session.url };
      } catch (error) {
        if (isStripeError(error) && error.type === 'StripeIdempotencyError') {
          throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used for a different purchase. Use a new key for a new purchase.');
        }
        throw asUnavailable(error);
      }
    },

    /** Stripe's Customer Portal: payment method, invoices, plan changes and cancellation. */
    async portal(userId: string): Promise<{ url: string }> {
      const gateway = requireStripe();
      const customer = await repo.getCustomer(db, userId);
      if (!customer) throw new AppError('invalid_state', 'There is nothing to manage yet: buy credits or subscribe first.');
      try {
        const session = await gateway.createPortalSession(customer.stripe_customer_id, `${deps.publicUrl}/billing`);
        return { url: session.url };
      } catch (error) {
        throw asUnavailable(error);
      }
    },

    async payments(userId: string): Promise<Payment[]> {
      return (await repo.listPurchases(userId, 100)).map(presentPayment);
    },

    /**
     * The webhook endpoint's work (PAY-1, PAY-2): verify the signature on the raw body, store the event
     * id once and enqueue its processing in the same transaction, and return — the handler runs from
     * the queue. A duplicate delivery changes nothing.
     */
    async receiveWebhook(rawBody: Buffer, signature: string | undefined): Promise<{ duplicate: boolean }> {
      const gateway = requireStripe();
      const event = gateway.verifyEvent(rawBody, signature);
      if (!event) throw new AppError('validation_failed', 'Invalid Stripe-Signature: not signed with a configured webhook secret within 300 seconds.');
      return { duplicate: !(await storeEvent(event, 'webhook')) };
    },

    /** Applies one stored event: re-reads its object from Stripe and makes the effect, idempotently (PAY-3, PAY-5). */
    async processEvent(eventId: string): Promise<void> {
      const row = await repo.getEvent(eventId);
      if (!row || row.processed_at) return;
      try {
        await handlers.handle(row.type, row.object_id);
        await repo.markEvent(eventId, { processed: true });
      } catch (error) {
        await repo.markEvent(eventId, { error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },

    /**
     * PAY-4: events Stripe could not deliver in the last 30 days are fetched and applied, and events
     * stored but never processed are queued again. Returns what it found.
     */
    async reconcile(): Promise<{ replayed: number; requeued: number }> {
      if (!stripe) return { replayed: 0, requeued: 0 };
      let replayed = 0;
      const since = new Date(deps.clock.now().getTime() - 30 * 24 * 3600_000);
      for await (const event of stripe.undeliveredEvents(since)) {
        if (await storeEvent(event, 'reconciliation')) replayed++;
      }
      let requeued = 0;
      for (const { id } of await repo.systemListUnprocessed(new Date(deps.clock.now().getTime() - 10 * 60_000), 1000)) {
        await deps.jobs.enqueue(processStripeEventJob, { eventId: id }, { singletonKey: `stripe-event:${id}` });
        requeued++;
      }
      // Event ids are kept ≥ 30 days (Stripe retries for 3 days; replays reach back 30).
      await repo.systemPruneEvents(new Date(deps.clock.now().getTime() - 90 * 24 * 3600_000));
      if (replayed || requeued) logger.warn({ replayed, requeued }, 'billing reconciliation applied missed Stripe events');
      return { replayed, requeued };
    },
  };
}

const isStripeError = (error: unknown): error is { type: string; message: string; statusCode?: number } =>
  typeof error === 'object' && error !== null && 'type' in error && typeof (error as { type: unknown }).type === 'string' && String((error as { type: string }).type).startsWith('Stripe');

/** Stripe being unreachable or refusing is the operator's problem to fix, not the user's input: 503 with a plain message. */
function asUnavailable(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (isStripeError(error)) return new AppError('service_unavailable', `Payments are unavailable right now (${error.message}). Try again in a moment.`, { cause: error });
  return error;
}
