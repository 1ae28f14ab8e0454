import { z } from 'zod';
import type { CreditTransaction, Subscription } from '@atelier/contracts';
import { isEntitled } from './money';

/**
 * Coming back from Stripe Checkout: /billing?checkout=<session id> after paying, ?checkout=canceled after
 * backing out. Payment is confirmed to Atelier by Stripe's webhook, which may land a moment after the
 * browser is back, so the page waits for the proof: the purchase line in the credit history (its
 * reference is the Checkout Session), a balance that went up while waiting, or the subscribed plan.
 */
const STORAGE_KEY = 'atelier.checkout';

const pendingSchema = z.object({ kind: z.enum(['pack', 'plan']), id: z.string(), name: z.string(), credits: z.number().int() });
export type PendingCheckout = z.infer<typeof pendingSchema>;

/** Remembered when leaving for Checkout (this tab only), so the return can say what was bought. */
export function rememberCheckout(item: PendingCheckout): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(item));
  } catch {
    /* storage unavailable (private mode): the return notice is just less specific */
  }
}

export function recallCheckout(): PendingCheckout | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const parsed = raw ? pendingSchema.safeParse(JSON.parse(raw)) : null;
    return parsed?.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function forgetCheckout(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing to forget */
  }
}

export type CheckoutReturn =
  | { state: 'canceled' }
  | { state: 'waiting' }
  | { state: 'arrived'; credits: number | null; plan: string | null };

export function checkoutReturn(input: {
  param: string | null;
  pending: PendingCheckout | null;
  transactions: readonly CreditTransaction[];
  /** The available balance when the page came back from Checkout, and now. */
  baseline: number | null;
  available: number | null;
  subscription: Subscription | null;
}): CheckoutReturn | null {
  const { param, pending } = input;
  if (!param) return null;
  if (param === 'canceled') return { state: 'canceled' };
  const purchase = input.transactions.find((t) => t.reference === param && t.available_change > 0);
  if (purchase) return { state: 'arrived', credits: purchase.available_change, plan: null };
  if (pending?.kind === 'plan' && input.subscription?.plan_id === pending.id && isEntitled(input.subscription)) {
    return { state: 'arrived', credits: null, plan: input.subscription.plan_name };
  }
  if (input.baseline !== null && input.available !== null && input.available > input.baseline) {
    return { state: 'arrived', credits: input.available - input.baseline, plan: null };
  }
  return { state: 'waiting' };
}
