import { useMutation, useQuery } from '@tanstack/react-query';
import type { CheckoutRequest } from '@atelier/contracts';
import { newUuid } from '#/lib/ids';
import { billingOverviewQuery, openPortal, paymentsQuery, startCheckout } from '../api';

export function useBillingOverview() {
  return useQuery(billingOverviewQuery);
}

export function usePayments(enabled = true) {
  return useQuery({ ...paymentsQuery, enabled });
}

/** Leaves for a Stripe-hosted page. The mutation stays pending while the browser navigates away. */
function leaveFor(url: string): Promise<never> {
  window.location.assign(url);
  return new Promise<never>(() => {});
}

/** Buy a pack or subscribe: off to Stripe Checkout, which comes back to /billing?checkout=… */
export function useCheckout() {
  return useMutation({
    // A fresh key per click: a retried request (same click) is the same Checkout, a second click a new one.
    mutationFn: async (input: CheckoutRequest) => leaveFor((await startCheckout(input, newUuid())).url),
  });
}

/** Stripe's Customer Portal: payment method, invoices, plan changes, cancellation. */
export function usePortal() {
  return useMutation({ mutationFn: async () => leaveFor((await openPortal()).url) });
}
