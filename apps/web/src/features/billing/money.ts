import type { Price, Subscription } from '@atelier/contracts';

/** The currency's minor units per major unit (100 for USD and EUR, 1 for JPY), as Intl knows them. */
function minorUnitDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * "$5.00", "€9.99", "¥500" from Stripe's amount in minor units. Whole amounts keep their decimals only
 * when the currency has them (the way receipts show prices). An unknown currency code is shown as-is.
 */
export function formatMoney(amount: number, currency: string, locale?: string): string {
  const code = currency.toUpperCase();
  const digits = minorUnitDigits(code);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount / 10 ** digits);
  } catch {
    return `${(amount / 100).toFixed(2)} ${code}`;
  }
}

/** "$5.00", "$19.00 / month"; null when Stripe could not be asked for the price just now. */
export function formatPrice(price: Price | null, locale?: string): string | null {
  if (!price) return null;
  const money = formatMoney(price.amount, price.currency, locale);
  return price.interval ? `${money} / ${price.interval}` : money;
}

/** Subscription statuses that still give the plan's features (as the server counts them). */
const ENTITLED = new Set(['active', 'trialing', 'past_due']);
export const isEntitled = (subscription: Pick<Subscription, 'status'> | null): boolean => subscription !== null && ENTITLED.has(subscription.status);

export type SubscriptionNotice = { tone: 'warning' | 'info' | 'danger'; text: string } | null;

/** What the subscription's status means for the user, in words; null when all is well and nothing needs saying. */
export function subscriptionNotice(subscription: Subscription | null, formatDate: (iso: string) => string): SubscriptionNotice {
  if (!subscription) return null;
  const end = subscription.current_period_end ? formatDate(subscription.current_period_end) : null;
  switch (subscription.status) {
    case 'past_due':
      return { tone: 'warning', text: 'Your last payment did not go through. Stripe will try again; update your payment method to keep your plan and its monthly credits.' };
    case 'unpaid':
      return { tone: 'danger', text: 'Payments for your plan failed and it is paused. Update your payment method to start it again.' };
    case 'incomplete':
      return { tone: 'warning', text: 'Your subscription is waiting for its first payment to complete.' };
    case 'incomplete_expired':
    case 'canceled':
      return { tone: 'info', text: `Your ${subscription.plan_name} subscription has ended; you are on the free tier.` };
    default:
      if (subscription.cancel_at_period_end) return { tone: 'info', text: `Your ${subscription.plan_name} plan is canceled and ends${end ? ` on ${end}` : ' at the end of this period'}. You keep it until then and will not be charged again.` };
      return null;
  }
}
