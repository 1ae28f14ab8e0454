import { queryOptions } from '@tanstack/react-query';
import { billingOverviewSchema, paymentListSchema, redirectResponseSchema, type CheckoutRequest } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const billingKeys = {
  all: ['billing'] as const,
  overview: ['billing', 'overview'] as const,
  payments: ['billing', 'payments'] as const,
};

/** Packs and plans on sale (prices from Stripe), the free tier, the subscription. */
export const billingOverviewQuery = queryOptions({
  queryKey: billingKeys.overview,
  queryFn: ({ signal }) => request('/api/billing', { schema: billingOverviewSchema, signal }),
});

export const paymentsQuery = queryOptions({
  queryKey: billingKeys.payments,
  queryFn: async ({ signal }) => (await request('/api/billing/payments', { schema: paymentListSchema, signal })).data,
});

/** A Stripe Checkout page for a pack or a plan. The key makes a retried click the same checkout, not a second one. */
export function startCheckout(input: CheckoutRequest, idempotencyKey: string) {
  return request('/api/billing/checkout', { method: 'POST', body: input, headers: { 'Idempotency-Key': idempotencyKey }, schema: redirectResponseSchema });
}

/** Stripe's Customer Portal: payment method, invoices, plan changes, cancellation. */
export function openPortal() {
  return request('/api/billing/portal', { method: 'POST', body: {}, schema: redirectResponseSchema });
}
