import Stripe from 'stripe';
import { emptyList } from './fake-stripe-store.ts';
import type { Store } from './fake-stripe-store.ts';
import { planOf, productName } from './fake-stripe-objects.ts';

/**
 * Builders for the billing-side objects in the modelled API version's shape: Checkout Sessions and
 * their line items, portal sessions, subscriptions (current period on the items, as in API versions
 * since 2025-03-31), invoices (subscription under `parent.subscription_details`, payments as
 * `invoice_payment` objects instead of `charge`/`payment_intent`).
 */

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

/** "$12.50", "€9.00", "¥500" — amounts are in the currency's smallest unit, as Stripe's are. */
export function formatAmount(amount: number, currency: string, display: 'symbol' | 'code' = 'symbol'): string {
  const digits = ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), currencyDisplay: display, minimumFractionDigits: digits, maximumFractionDigits: digits })
    .format(amount / 10 ** digits).replace(/\u00a0/g, ' ');
}

/** One billing interval later, on the same day of the month where it exists (Stripe's anchoring). */
export function addInterval(seconds: number, interval: Stripe.Price.Recurring.Interval, count = 1): number {
  const d = new Date(seconds * 1000);
  const day = d.getUTCDate();
  if (interval === 'day') d.setUTCDate(day + count);
  else if (interval === 'week') d.setUTCDate(day + 7 * count);
  else {
    const months = interval === 'year' ? 12 * count : count;
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + months);
    const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, lastDay));
  }
  return Math.floor(d.getTime() / 1000);
}

export function newLineItem(store: Store, price: Stripe.Price, quantity: number): Stripe.LineItem {
  const amount = (price.unit_amount ?? 0) * quantity;
  return {
    id: store.id('li'), object: 'item', adjustable_quantity: null, amount_discount: 0, amount_subtotal: amount, amount_tax: 0, amount_total: amount,
    currency: price.currency, description: productName(store, price), metadata: {}, price, quantity,
  };
}

export interface SessionSpec {
  mode: 'payment' | 'subscription';
  customer: Stripe.Customer | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  successUrl: string | null;
  cancelUrl: string | null;
  metadata: Record<string, string>;
  lineItems: Stripe.LineItem[];
  expiresAt: number;
  locale: Stripe.Checkout.Session.Locale | null;
}

export function newCheckoutSession(store: Store, s: SessionSpec): Stripe.Checkout.Session {
  const id = `cs_test_${store.id('x').slice(2)}${store.id('x').slice(2, 36)}`;
  const total = s.lineItems.reduce((sum, li) => sum + li.amount_total, 0);
  const payment = s.mode === 'payment';
  return store.insert('checkout_session', {
    id, object: 'checkout.session', adaptive_pricing: payment ? { enabled: false } : null, after_expiration: null, allow_promotion_codes: null,
    allowed_payment_method_types: null, amount_subtotal: total, amount_total: total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null }, billing_address_collection: null, cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId, client_secret: null, collected_information: null, consent: null, consent_collection: null, created: store.nowS(),
    currency: s.lineItems[0]?.currency ?? null, currency_conversion: null, custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: s.customer?.id ?? null, customer_account: null, customer_creation: s.customer ? null : payment ? 'if_required' : 'always', customer_details: null,
    customer_email: s.customerEmail, discounts: [], expires_at: s.expiresAt, integration_identifier: null, invoice: null,
    invoice_creation: payment ? { enabled: false, invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null } } : null,
    livemode: false, locale: s.locale, managed_payments: null, metadata: s.metadata, mode: s.mode, origin_context: null, payment_intent: null, payment_link: null,
    payment_method_collection: payment ? null : 'always', payment_method_configuration_details: null, payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: payment ? ['card', 'us_bank_account'] : ['card'], payment_status: 'unpaid', permissions: null, phone_number_collection: { enabled: false },
    recovered_from: null, saved_payment_method_options: null, setup_intent: null, shipping_address_collection: null, shipping_cost: null, shipping_options: [],
    status: 'open', submit_type: null, subscription: null, success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 }, ui_mode: 'hosted', url: `${store.baseUrl}/checkout/pay/${id}`, wallet_options: null,
  });
}

export function customerDetails(email: string | null, name: string | null): Stripe.Checkout.Session.CustomerDetails {
  return { address: { city: null, country: 'US', line1: null, line2: null, postal_code: '94103', state: null }, business_name: null, email, individual_name: null, name, phone: null, tax_exempt: 'none', tax_ids: [] };
}

export function newPortalSession(store: Store, customer: string, returnUrl: string | null): Stripe.BillingPortal.Session {
  const id = store.id('bps');
  return store.insert('billing_portal_session', {
    id, object: 'billing_portal.session', configuration: 'bpc_fakeDefaultConfiguration', created: store.nowS(), customer, customer_account: null, flow: null,
    livemode: false, locale: null, on_behalf_of: null, return_url: returnUrl, url: `${store.baseUrl}/portal/${id}`,
  });
}

export function newSubscription(store: Store, p: { customer: string; price: Stripe.Price; quantity: number; metadata: Record<string, string> }): Stripe.Subscription {
  const id = store.id('sub');
  const t = store.nowS();
  const interval = p.price.recurring?.interval ?? 'month';
  const item: Stripe.SubscriptionItem = {
    id: store.id('si'), object: 'subscription_item', billing_thresholds: null, created: t, current_period_start: t, current_period_end: addInterval(t, interval, p.price.recurring?.interval_count),
    current_trial: null, discounts: [], metadata: {}, plan: planOf(p.price), price: p.price, quantity: p.quantity, subscription: id, tax_rates: [],
  };
  return store.insert('subscription', {
    id, object: 'subscription', application: null, application_fee_percent: null, automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: t, billing_cycle_anchor_config: null, billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: t }, billing_schedules: [],
    billing_thresholds: null, cancel_at: null, cancel_at_period_end: false, canceled_at: null, cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically', created: t, currency: p.price.currency, customer: p.customer, customer_account: null, days_until_due: null,
    default_payment_method: store.id('pm'), default_source: null, default_tax_rates: [], description: null, discounts: [], ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { ...emptyList<Stripe.SubscriptionItem>(`/v1/subscription_items?subscription=${id}`), data: [item] }, latest_invoice: null, livemode: false, managed_payments: null,
    metadata: p.metadata, next_pending_invoice_item_invoice: null, on_behalf_of: null, pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' }, pending_invoice_item_interval: null,
    pending_setup_intent: null, pending_update: null, schedule: null, start_date: t, status: 'incomplete', test_clock: null, transfer_data: null, trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } }, trial_start: null,
  });
}

export function newInvoice(store: Store, p: { subscription: Stripe.Subscription; billingReason: 'subscription_create' | 'subscription_cycle'; periodStart: number; periodEnd: number }): Stripe.Invoice {
  const sub = p.subscription;
  const customer = store.need('customer', String(sub.customer));
  const id = store.id('in');
  const t = store.nowS();
  const lines = sub.items.data.map((si): Stripe.InvoiceLineItem => {
    const amount = (si.price.unit_amount ?? 0) * (si.quantity ?? 1);
    const interval = si.price.recurring?.interval ?? 'month';
    return {
      id: store.id('il'), object: 'line_item', amount, currency: si.price.currency,
      description: `${si.quantity ?? 1} × ${productName(store, si.price)} (at ${formatAmount(si.price.unit_amount ?? 0, si.price.currency)} / ${interval})`,
      discount_amounts: [], discountable: true, discounts: [], invoice: id, livemode: false, metadata: {},
      parent: { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: sub.id, subscription_item: si.id } },
      period: { start: si.current_period_start, end: si.current_period_end }, pretax_credit_amounts: [],
      pricing: { type: 'price_details', price_details: { price: si.price.id, product: String(si.price.product) }, unit_amount_decimal: si.price.unit_amount_decimal },
      quantity: si.quantity ?? 1, quantity_decimal: Stripe.Decimal.from(String(si.quantity ?? 1)), subscription: sub.id, subtotal: amount, taxes: [],
    };
  });
  const total = lines.reduce((s, l) => s + l.amount, 0);
  return store.insert('invoice', {
    id, object: 'invoice', account_country: 'US', account_name: 'Atelier (fake)', account_tax_ids: null, amount_due: total, amount_overpaid: 0, amount_paid: 0,
    amount_remaining: total, amount_shipping: 0, application: null, attempt_count: 0, attempted: false, auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null }, automatically_finalizes_at: null, billing_reason: p.billingReason,
    collection_method: 'charge_automatically', created: t, currency: sub.currency, custom_fields: null, customer: customer.id, customer_account: null, customer_address: null,
    customer_email: customer.email, customer_name: customer.name ?? null, customer_phone: null, customer_shipping: null, customer_tax_exempt: 'none', customer_tax_ids: [],
    default_payment_method: null, default_source: null, default_tax_rates: [], description: null, discounts: [], due_date: null, effective_at: null, ending_balance: null,
    footer: null, from_invoice: null, hosted_invoice_url: null, invoice_pdf: null, issuer: { type: 'self' }, last_finalization_error: null, latest_revision: null,
    lines: { ...emptyList<Stripe.InvoiceLineItem>(`/v1/invoices/${id}/lines`), data: lines }, livemode: false, metadata: {}, next_payment_attempt: null, number: null,
    on_behalf_of: null, parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id } },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null }, period_end: p.periodEnd, period_start: p.periodStart,
    post_payment_credit_notes_amount: 0, pre_payment_credit_notes_amount: 0, receipt_number: null, rendering: null, shipping_cost: null, shipping_details: null,
    starting_balance: 0, statement_descriptor: null, status: 'draft', status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total, subtotal_excluding_tax: total, test_clock: null, total, total_discount_amounts: [], total_excluding_tax: total, total_pretax_credit_amounts: [],
    total_taxes: [], webhooks_delivered_at: null,
  });
}

/** draft → open: a number, the hosted page and the PDF. */
export function finalizeInvoice(store: Store, invoice: Stripe.Invoice): void {
  const customer = store.need('customer', String(invoice.customer));
  const seq = customer.next_invoice_sequence ?? 1;
  customer.next_invoice_sequence = seq + 1;
  const token = store.id('test').slice(5);
  store.invoiceTokens.set(token, invoice.id);
  const t = store.nowS();
  invoice.status = 'open';
  invoice.number = `${customer.invoice_prefix ?? 'FAKE'}-${String(seq).padStart(4, '0')}`;
  invoice.hosted_invoice_url = `${store.baseUrl}/i/${token}`;
  invoice.invoice_pdf = `${store.baseUrl}/i/${token}/pdf`;
  invoice.status_transitions.finalized_at = t;
  invoice.effective_at = t;
  invoice.webhooks_delivered_at = t;
}

export function newInvoicePayment(store: Store, invoice: Stripe.Invoice, paymentIntent: string): Stripe.InvoicePayment {
  return store.insert('invoice_payment', {
    id: store.id('inpay'), object: 'invoice_payment', amount_paid: null, amount_requested: invoice.amount_due, created: store.nowS(), currency: invoice.currency,
    invoice: invoice.id, is_default: true, livemode: false, payment: { type: 'payment_intent', payment_intent: paymentIntent }, status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  });
}

export function markInvoicePaid(store: Store, invoice: Stripe.Invoice, payment: Stripe.InvoicePayment): void {
  const t = store.nowS();
  invoice.status = 'paid';
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.attempted = true;
  invoice.attempt_count += 1;
  invoice.next_payment_attempt = null;
  invoice.ending_balance = 0;
  invoice.status_transitions.paid_at = t;
  payment.status = 'paid';
  payment.amount_paid = invoice.amount_due;
  payment.status_transitions.paid_at = t;
}

/** A failed automatic collection attempt: the invoice stays open and Smart Retries schedule the next try. */
export function markInvoiceAttemptFailed(store: Store, invoice: Stripe.Invoice): void {
  invoice.attempted = true;
  invoice.attempt_count += 1;
  invoice.ending_balance = 0;
  invoice.next_payment_attempt = store.nowS() + 3 * 86_400;
}
