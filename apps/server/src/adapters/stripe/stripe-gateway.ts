import Stripe from 'stripe';
import type { StripeConfig } from '#src/config.ts';

/**
 * Every call Atelier makes to Stripe, through the official SDK. Mutating calls carry an idempotency
 * key derived from the business operation (PAY-8); reads re-fetch the current object, since webhook
 * payloads may be stale or arrive out of order (PAY-3). Signature checks of incoming webhooks use the
 * SDK's own `constructEvent` (HMAC-SHA256 over the raw body, 300 s tolerance), tried with each
 * configured secret so an endpoint secret can be rolled without dropping events (PAY-1).
 */
export type StripeGateway = ReturnType<typeof createStripeGateway>;

export const STRIPE_TOLERANCE_SECONDS = 300;

export function createStripeGateway(config: StripeConfig) {
  const stripe = new Stripe(config.secretKey, {
    ...(config.api ?? {}),
    // Retries happen at the job layer (reliability.md JOB-4); the SDK may retry a dropped connection once.
    maxNetworkRetries: 1,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'Atelier' },
  });

  return {
    /** The event, if the signature matches one of the secrets within the tolerance; null otherwise. */
    verifyEvent(rawBody: Buffer, signature: string | undefined): Stripe.Event | null {
      if (!signature) return null;
      // The SDK refuses timestamps older than the tolerance but not ones from the future; T-PAY-1 wants both.
      const timestamp = Number(/(?:^|,)t=(\d+)/.exec(signature)?.[1]);
      if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > STRIPE_TOLERANCE_SECONDS) return null;
      for (const secret of config.webhookSecrets) {
        try {
          return stripe.webhooks.constructEvent(rawBody, signature, secret, STRIPE_TOLERANCE_SECONDS);
        } catch {
          // Try the next secret (during a rotation the old and the new one are both valid).
        }
      }
      return null;
    },

    createCustomer: (input: { userId: string; email: string; name: string }) =>
      stripe.customers.create({ email: input.email, name: input.name || undefined, metadata: { atelier_user_id: input.userId } }, { idempotencyKey: `customer:${input.userId}` }),

    createCheckoutSession: (params: Stripe.Checkout.SessionCreateParams, idempotencyKey: string) => stripe.checkout.sessions.create(params, { idempotencyKey }),
    retrieveCheckoutSession: (id: string) => stripe.checkout.sessions.retrieve(id, { expand: ['line_items'] }),
    createPortalSession: (customer: string, returnUrl: string) => stripe.billingPortal.sessions.create({ customer, return_url: returnUrl }),
    retrieveSubscription: (id: string) => stripe.subscriptions.retrieve(id),
    retrieveInvoice: (id: string) => stripe.invoices.retrieve(id, { expand: ['payments'] }),
    retrieveCharge: (id: string) => stripe.charges.retrieve(id, { expand: ['refunds'] }),
    retrievePaymentIntent: (id: string) => stripe.paymentIntents.retrieve(id),
    retrieveDispute: (id: string) => stripe.disputes.retrieve(id),
    retrievePrice: (id: string) => stripe.prices.retrieve(id),
    retrieveEvent: (id: string) => stripe.events.retrieve(id),

    /** Events Stripe could not deliver to us (PAY-4), from `since`, oldest page first. */
    async *undeliveredEvents(since: Date): AsyncGenerator<Stripe.Event> {
      let startingAfter: string | undefined;
      for (;;) {
        const page = await stripe.events.list({ delivery_success: false, created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) });
        for (const event of page.data) yield event;
        if (!page.has_more || page.data.length === 0) return;
        startingAfter = page.data.at(-1)!.id;
      }
    },
  };
}

export { Stripe };
