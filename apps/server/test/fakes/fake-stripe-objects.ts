import Stripe from 'stripe';
import type { Store } from './fake-stripe-store.ts';

/**
 * Builders for the payment-side objects in the modelled API version's shape (every field the SDK's
 * types declare, null where Stripe sends null): customers, products and prices, PaymentIntents,
 * charges, refunds, disputes and their balance transactions.
 */

const FEE_PERCENT = 2.9;
const FEE_FIXED = 30;

export function newCustomer(store: Store, p: { email: string | null; name: string | null; metadata: Record<string, string>; description?: string | null }): Stripe.Customer {
  return store.insert('customer', {
    id: store.id('cus'), object: 'customer', address: null, balance: 0, created: store.nowS(), currency: null, default_source: null,
    delinquent: false, description: p.description ?? null, discount: null, email: p.email, invoice_prefix: randomPrefix(store),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false, metadata: p.metadata, name: p.name, next_invoice_sequence: 1, phone: null, preferred_locales: [], shipping: null, tax_exempt: 'none', test_clock: null,
  });
}

function randomPrefix(store: Store): string {
  return store.id('x').slice(2, 10).toUpperCase().replace(/[^A-Z0-9]/g, 'X');
}

export function newProduct(store: Store, name: string): Stripe.Product {
  const t = store.nowS();
  return store.insert('product', {
    id: store.id('prod'), object: 'product', active: true, created: t, default_price: null, description: null, images: [], livemode: false,
    marketing_features: [], metadata: {}, name, package_dimensions: null, shippable: null, statement_descriptor: null, tax_code: null,
    tax_details: null, type: 'service', unit_label: null, updated: t, url: null,
  });
}

export function newPrice(store: Store, p: { id?: string; unit_amount: number; currency: string; product: string; recurring?: { interval: 'month' | 'year' }; metadata?: Record<string, string>; nickname?: string | null; lookup_key?: string | null }): Stripe.Price {
  return store.insert('price', {
    id: p.id ?? store.id('price'), object: 'price', active: true, billing_scheme: 'per_unit', created: store.nowS(), currency: p.currency.toLowerCase(),
    custom_unit_amount: null, livemode: false, lookup_key: p.lookup_key ?? null, metadata: p.metadata ?? {}, nickname: p.nickname ?? null, product: p.product,
    recurring: p.recurring ? { interval: p.recurring.interval, interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' } : null,
    tax_behavior: 'unspecified', tiers_mode: null, transform_quantity: null, type: p.recurring ? 'recurring' : 'one_time',
    unit_amount: p.unit_amount, unit_amount_decimal: Stripe.Decimal.from(String(p.unit_amount)),
  });
}

/** The legacy `plan` Stripe still renders beside `price` on subscription items. */
export function planOf(price: Stripe.Price): Stripe.Plan {
  if (!price.recurring) throw new Error(`price ${price.id} is not recurring`);
  return {
    id: price.id, object: 'plan', active: price.active, amount: price.unit_amount, amount_decimal: price.unit_amount_decimal, billing_scheme: 'per_unit',
    created: price.created, currency: price.currency, interval: price.recurring.interval, interval_count: price.recurring.interval_count, livemode: false,
    metadata: price.metadata, meter: null, nickname: price.nickname, product: price.product, tiers_mode: null, transform_usage: null, trial_period_days: null, usage_type: 'licensed',
  };
}

export function productName(store: Store, price: Stripe.Price): string {
  const product = typeof price.product === 'string' ? store.get('product', price.product) : price.product;
  return product && !('deleted' in product && product.deleted) ? (product as Stripe.Product).name : price.id;
}

export interface PaymentSpec {
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  /** Card (confirms at once) or a bank debit that stays `processing` until it settles or fails. */
  method: 'card' | 'bank_debit';
  email: string | null;
}

export function newPaymentIntent(store: Store, s: PaymentSpec): Stripe.PaymentIntent {
  const id = store.id('pi');
  return store.insert('payment_intent', {
    id, object: 'payment_intent', allowed_payment_method_types: null, amount: s.amount, amount_capturable: 0,
    amount_details: { tip: {} }, amount_received: 0, application: null, application_fee_amount: null, automatic_payment_methods: null,
    canceled_at: null, cancellation_reason: null, capture_method: 'automatic_async', client_secret: `${id}_secret_${store.id('s').slice(2, 26)}`,
    confirmation_method: 'automatic', created: store.nowS(), currency: s.currency, customer: s.customer, customer_account: null, description: s.description,
    excluded_payment_method_types: null, last_payment_error: null, latest_charge: null, livemode: false, managed_payments: null, metadata: s.metadata,
    next_action: null, on_behalf_of: null, payment_method: null, payment_method_configuration_details: null, payment_method_options: null,
    payment_method_types: [s.method === 'card' ? 'card' : 'us_bank_account'], payment_record: null, processing: null, receipt_email: s.email, review: null,
    setup_future_usage: null, shipping: null, source: null, statement_descriptor: null, statement_descriptor_suffix: null, status: 'requires_payment_method', transfer_group: null,
  });
}

export function newBalanceTransaction(store: Store, p: { amount: number; currency: string; source: string; type: Stripe.BalanceTransaction.Type; description: string; fee?: number }): Stripe.BalanceTransaction {
  const t = store.nowS();
  const fee = p.fee ?? 0;
  return store.insert('balance_transaction', {
    id: store.id('txn'), object: 'balance_transaction', amount: p.amount, available_on: t + 2 * 86_400, balance_type: 'payments', created: t, currency: p.currency,
    description: p.description, exchange_rate: null, fee, fee_details: fee ? [{ amount: fee, application: null, currency: p.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : [],
    net: p.amount - fee, reporting_category: p.type === 'charge' ? 'charge' : p.type === 'refund' ? 'refund' : p.type === 'adjustment' ? 'dispute' : 'other',
    source: p.source, status: 'pending', type: p.type,
  });
}

export function newCharge(store: Store, pi: Stripe.PaymentIntent, s: PaymentSpec, status: 'pending' | 'succeeded' | 'failed'): Stripe.Charge {
  const id = store.id('ch');
  const t = store.nowS();
  const paid = status === 'succeeded';
  const charge: Stripe.Charge = {
    id, object: 'charge', amount: s.amount, amount_captured: paid ? s.amount : 0, amount_refunded: 0, application: null, application_fee: null, application_fee_amount: null,
    balance_transaction: null, billing_details: { address: null, email: s.email, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'ATELIER', captured: paid, created: t, currency: s.currency, customer: s.customer, description: s.description, disputed: false,
    failure_balance_transaction: null, failure_code: status === 'failed' ? (s.method === 'card' ? 'card_declined' : 'insufficient_funds') : null,
    failure_message: status === 'failed' ? (s.method === 'card' ? 'Your card was declined.' : 'The account has insufficient funds to cover this payment.') : null,
    fraud_details: {}, livemode: false, metadata: s.metadata, on_behalf_of: null,
    outcome: status === 'pending' ? null : {
      advice_code: null, network_advice_code: null, network_decline_code: null, network_status: paid ? 'approved_by_network' : 'declined_by_network',
      reason: paid ? null : 'generic_decline', risk_level: 'normal', risk_score: 20, seller_message: paid ? 'Payment complete.' : 'The bank did not return any further details with this decline.',
      type: paid ? 'authorized' : 'issuer_declined',
    },
    paid, payment_intent: pi.id, payment_method: store.id('pm'), payment_method_details: s.method === 'card' ? cardDetails(s.amount) : { type: 'us_bank_account' },
    receipt_email: s.email, receipt_number: null, receipt_url: `https://pay.stripe.com/receipts/payment/${id}`, refunded: false, review: null, shipping: null, source: null,
    source_transfer: null, statement_descriptor: null, statement_descriptor_suffix: null, status, transfer_data: null, transfer_group: null,
  };
  if (paid) charge.balance_transaction = newBalanceTransaction(store, { amount: s.amount, currency: s.currency, source: id, type: 'charge', description: s.description ?? 'Payment', fee: Math.round((s.amount * FEE_PERCENT) / 100) + FEE_FIXED }).id;
  return store.insert('charge', charge);
}

function cardDetails(amount: number): Stripe.Charge.PaymentMethodDetails {
  return {
    type: 'card',
    card: {
      amount_authorized: amount, authorization_code: '123456', brand: 'visa', checks: { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: 'pass' },
      country: 'US', electronic_commerce_indicator: null, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, fingerprint: 'fakeFingerprint0', funding: 'credit',
      installments: null, last4: '4242', mandate: null, network: 'visa', network_token: { used: false }, network_transaction_id: '100000000000000',
      regulated_status: 'unregulated', three_d_secure: null, transaction_link_id: null, wallet: null,
    },
  };
}

/** Settles a charge that was pending (bank debit) or marks it failed. */
export function settleCharge(store: Store, charge: Stripe.Charge, ok: boolean): void {
  charge.status = ok ? 'succeeded' : 'failed';
  charge.paid = ok;
  charge.captured = ok;
  charge.amount_captured = ok ? charge.amount : 0;
  if (ok) {
    charge.balance_transaction = newBalanceTransaction(store, { amount: charge.amount, currency: charge.currency, source: charge.id, type: 'charge', description: charge.description ?? 'Payment', fee: Math.round((charge.amount * 0.8) / 100) }).id;
    charge.outcome = { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null, risk_level: 'not_assessed', seller_message: 'Payment complete.', type: 'authorized' };
  } else {
    charge.failure_code = 'insufficient_funds';
    charge.failure_message = 'The account has insufficient funds to cover this payment.';
    charge.outcome = { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'declined_by_network', reason: null, risk_level: 'not_assessed', seller_message: 'The bank returned the decline code `insufficient_funds`.', type: 'issuer_declined' };
  }
}

export function newRefund(store: Store, charge: Stripe.Charge, amount: number, p: { reason: Stripe.Refund.Reason | null; metadata: Record<string, string> }): Stripe.Refund {
  const id = store.id('re');
  return store.insert('refund', {
    id, object: 'refund', amount, balance_transaction: newBalanceTransaction(store, { amount: -amount, currency: charge.currency, source: id, type: 'refund', description: 'REFUND FOR CHARGE' }).id,
    charge: charge.id, created: store.nowS(), currency: charge.currency, customer: typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null),
    customer_account: null, destination_details: { type: 'card', card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } },
    metadata: p.metadata, payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null), payment_method: charge.payment_method,
    reason: p.reason, receipt_number: null, source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
  });
}

const DISPUTE_FEE = 1500;

export function newDispute(store: Store, charge: Stripe.Charge, amount: number, reason: string): Stripe.Dispute {
  const id = store.id('dp');
  const t = store.nowS();
  const withdrawal = newBalanceTransaction(store, { amount: -amount, currency: charge.currency, source: id, type: 'adjustment', description: `Chargeback withdrawal for ${charge.id}`, fee: DISPUTE_FEE });
  return store.insert('dispute', {
    id, object: 'dispute', amount, balance_transactions: [withdrawal], charge: charge.id, created: t, currency: charge.currency, enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null, billing_address: null, cancellation_policy: null, cancellation_policy_disclosure: null, cancellation_rebuttal: null, customer_communication: null,
      customer_email_address: null, customer_name: null, customer_purchase_ip: null, customer_signature: null, duplicate_charge_documentation: null, duplicate_charge_explanation: null,
      duplicate_charge_id: null, enhanced_evidence: {}, product_description: null, receipt: null, refund_policy: null, refund_policy_disclosure: null, refund_refusal_explanation: null,
      service_date: null, service_documentation: null, shipping_address: null, shipping_carrier: null, shipping_date: null, shipping_documentation: null, shipping_tracking_number: null,
      uncategorized_file: null, uncategorized_text: null,
    },
    evidence_details: { due_by: t + 7 * 86_400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'not_submitted' },
    intended_submission_method: null, is_charge_refundable: false, livemode: false, metadata: {}, network_reason_code: '10.4',
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    payment_method_details: { type: 'card', card: { brand: 'visa', case_type: 'chargeback', network: 'visa', network_reason_code: '10.4' } },
    reason, status: 'needs_response',
  });
}

/** The reinstatement balance transaction of a won dispute (Stripe also returns the dispute fee). */
export function reinstate(store: Store, dispute: Stripe.Dispute): void {
  dispute.balance_transactions.push(newBalanceTransaction(store, { amount: dispute.amount, currency: dispute.currency, source: dispute.id, type: 'adjustment', description: `Chargeback reversal for ${String(dispute.charge)}`, fee: -DISPUTE_FEE }));
}
