import { z } from 'zod';
import { planLimitsSchema } from './credits.ts';

const itemId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, dot, dash and underscore; at most 64');

/**
 * What operators sell (BILLING_FILE): credit packs and subscription plans. Prices live in Stripe (a
 * Price id each); credits and limits live here. The free tier and sign-up credits are environment
 * variables (FREE_MONTHLY_CREDITS, SIGNUP_CREDITS, FREE_MAX_MEGAPIXELS, FREE_MAX_CONCURRENT).
 */
export const billingCatalogueSchema = z
  .object({
    packs: z
      .array(
        z
          .object({
            id: itemId,
            name: z.string().min(1).max(100),
            credits: z.number().int().min(1).max(10_000_000),
            stripe_price: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'a Stripe Price id (price_…)'),
            expires_in_days: z.number().int().min(1).max(3650).nullable().default(null),
          })
          .strict(),
      )
      .default([]),
    plans: z
      .array(
        z
          .object({
            id: itemId,
            name: z.string().min(1).max(100),
            stripe_price: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'a Stripe Price id (price_…)'),
            monthly_credits: z.number().int().min(0).max(10_000_000),
            features: z.array(z.string().max(200)).max(20).default([]),
          })
          .extend(planLimitsSchema.shape)
          .strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = [...c.packs.map((p) => p.id), ...c.plans.map((p) => p.id), 'free'];
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) ctx.addIssue({ code: 'custom', message: `id "${dup}" is used twice (packs, plans and "free" share one namespace)` });
  });
export type BillingCatalogue = z.infer<typeof billingCatalogueSchema>;

export const priceSchema = z.object({
  amount: z.number().int().min(0).describe('In the currency’s minor unit (cents)'),
  currency: z.string().describe('ISO 4217, lowercase'),
  interval: z.enum(['month', 'year']).nullable(),
});
export type Price = z.infer<typeof priceSchema>;

export const packSchema = z.object({
  id: z.string(),
  name: z.string(),
  credits: z.number().int(),
  price: priceSchema.nullable().describe('null when Stripe could not be asked just now'),
  expires_in_days: z.number().int().nullable(),
});
export type Pack = z.infer<typeof packSchema>;

export const planSchema = z.object({
  id: z.string(),
  name: z.string(),
  monthly_credits: z.number().int(),
  price: priceSchema.nullable(),
  limits: planLimitsSchema,
  features: z.array(z.string()),
});
export type Plan = z.infer<typeof planSchema>;

export const subscriptionSchema = z.object({
  id: z.string(),
  plan_id: z.string(),
  plan_name: z.string(),
  status: z.string().describe('Stripe’s status: active, past_due, canceled, incomplete…'),
  current_period_end: z.string().nullable(),
  cancel_at_period_end: z.boolean(),
});
export type Subscription = z.infer<typeof subscriptionSchema>;

export const billingOverviewSchema = z.object({
  payments_enabled: z.boolean(),
  packs: z.array(packSchema),
  plans: z.array(planSchema),
  free: z.object({ monthly_credits: z.number().int(), limits: planLimitsSchema }),
  subscription: subscriptionSchema.nullable(),
  /** Set when a payment was disputed: purchases are paused until it is resolved. */
  flagged: z.boolean(),
  /** Whether this account has a Stripe customer (after its first checkout), so the Customer Portal can open. */
  has_billing_account: z.boolean(),
});
export type BillingOverview = z.infer<typeof billingOverviewSchema>;

export const checkoutRequestSchema = z
  .object({
    kind: z.enum(['pack', 'plan']),
    id: itemId,
  })
  .strict();
export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;
export const redirectResponseSchema = z.object({ url: z.string().describe('Where to send the browser (Stripe Checkout or the Customer Portal)') });

export const PAYMENT_STATUSES = ['pending', 'paid', 'failed', 'refunded', 'partially_refunded', 'disputed', 'dispute_lost'] as const;
export const paymentSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  description: z.string(),
  credits: z.number().int(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  receipt_url: z.string().nullable().describe('Stripe’s receipt or hosted invoice page'),
});
export type Payment = z.infer<typeof paymentSchema>;
export const paymentListSchema = z.object({ data: z.array(paymentSchema) });
