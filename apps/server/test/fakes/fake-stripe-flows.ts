import type Stripe from 'stripe';
import {
  addInterval, customerDetails, finalizeInvoice, formatAmount, markInvoiceAttemptFailed, markInvoicePaid, newInvoice, newInvoicePayment, newSubscription,
} from './fake-stripe-billing.ts';
import type { EventBus, EventRequest } from './fake-stripe-events.ts';
import { stateError } from './fake-stripe-form.ts';
import { newCharge, newCustomer, newDispute, newPaymentIntent, newRefund, reinstate, settleCharge } from './fake-stripe-objects.ts';
import type { PaymentSpec } from './fake-stripe-objects.ts';
import { toJson } from './fake-stripe-store.ts';
import type { Store } from './fake-stripe-store.ts';

/**
 * What happens on Stripe's side when the customer pays, a subscription renews, a bank debit settles,
 * money is refunded or disputed — each as Stripe does it, emitting Stripe's events in Stripe's usual
 * order. A flow changes state synchronously and returns the events it created; the caller delivers them.
 */

export interface Outcome<T> {
  result: T;
  events: Stripe.Event[];
}

const CUSTOMER_NAME = 'Jenny Rosen';

export function createFlows(store: Store, bus: EventBus) {
  const recorder = (request: EventRequest | null) => {
    const events: Stripe.Event[] = [];
    const emit = (type: Stripe.Event.Type, object: object, previous?: Record<string, unknown>) => {
      events.push(bus.emit(type, object, { previous, request }));
    };
    return { events, emit };
  };

  /** A session past `expires_at` expires the next time anyone looks (Stripe expires them on a timer). */
  const expireIfDue = (session: Stripe.Checkout.Session): Stripe.Event[] => {
    if (session.status !== 'open' || store.nowS() < session.expires_at) return [];
    return expireSession(session.id, null).events;
  };

  function expireSession(sessionId: string, request: EventRequest | null): Outcome<Stripe.Checkout.Session> {
    const session = store.need('checkout_session', sessionId);
    if (session.status !== 'open') throw stateError(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status ?? 'unknown'}".`, 'checkout_session_not_open');
    const { events, emit } = recorder(request);
    session.status = 'expired';
    session.url = null;
    emit('checkout.session.expired', session);
    return { result: session, events };
  }

  const chargeOf = (id: string, param?: string): Stripe.Charge => {
    if (id.startsWith('pi_')) {
      const pi = store.need('payment_intent', id, param);
      if (!pi.latest_charge) throw stateError(`PaymentIntent ${id} does not have a successful charge to refund.`, 'charge_not_refundable', param);
      return store.need('charge', String(pi.latest_charge));
    }
    return store.need('charge', id, param);
  };

  /** A PaymentIntent with its first charge; card payments succeed at once, bank debits stay processing. */
  const pay = (spec: PaymentSpec, emit: (type: Stripe.Event.Type, object: object) => void, outcome: 'succeeded' | 'failed' | 'processing') => {
    const pi = newPaymentIntent(store, spec);
    emit('payment_intent.created', pi);
    const charge = newCharge(store, pi, spec, outcome === 'processing' ? 'pending' : outcome);
    pi.latest_charge = charge.id;
    pi.payment_method = charge.payment_method;
    if (outcome === 'succeeded') {
      pi.status = 'succeeded';
      pi.amount_received = spec.amount;
      emit('charge.succeeded', charge);
      emit('payment_intent.succeeded', pi);
    } else if (outcome === 'processing') {
      pi.status = 'processing';
      emit('charge.pending', charge);
      emit('payment_intent.processing', pi);
    } else {
      failIntent(pi, charge);
      emit('charge.failed', charge);
      emit('payment_intent.payment_failed', pi);
    }
    return { pi, charge };
  };

  const failIntent = (pi: Stripe.PaymentIntent, charge: Stripe.Charge) => {
    pi.status = 'requires_payment_method';
    pi.last_payment_error = {
      type: charge.payment_method_details?.type === 'card' ? 'card_error' : 'invalid_request_error', charge: charge.id,
      code: charge.failure_code === 'card_declined' ? 'card_declined' : 'payment_method_unactivated', decline_code: charge.failure_code ?? undefined,
      message: charge.failure_message ?? 'The payment failed.', payment_method_type: charge.payment_method_details?.type,
    };
  };

  /** Charges an open invoice; on success marks it (and its payment) paid and emits Stripe's invoice events. */
  const collect = (invoice: Stripe.Invoice, emit: (type: Stripe.Event.Type, object: object) => void, succeed: boolean) => {
    const customer = store.need('customer', String(invoice.customer));
    const spec: PaymentSpec = {
      amount: invoice.amount_due, currency: invoice.currency, customer: customer.id, description: invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
      metadata: {}, method: 'card', email: customer.email,
    };
    const { pi, charge } = pay(spec, emit, succeed ? 'succeeded' : 'failed');
    const payment = newInvoicePayment(store, invoice, pi.id);
    if (succeed) {
      markInvoicePaid(store, invoice, payment);
      emit('invoice_payment.paid', payment);
      emit('invoice.paid', invoice);
      emit('invoice.payment_succeeded', invoice);
    } else {
      markInvoiceAttemptFailed(store, invoice);
      emit('invoice.payment_failed', invoice);
    }
    return { pi, charge };
  };

  function completeCheckout(sessionId: string, method: 'card' | 'bank_debit', enteredEmail?: string): Outcome<Stripe.Checkout.Session> {
    const session = store.need('checkout_session', sessionId);
    if (session.status !== 'open') throw new Error(`Checkout Session ${sessionId} is ${session.status ?? 'not open'}; it cannot be paid`);
    const extras = store.sessions.get(sessionId)!;
    const { events, emit } = recorder(null);
    let customer = session.customer ? store.need('customer', String(session.customer)) : null;
    const email = session.customer_email ?? customer?.email ?? enteredEmail ?? 'jenny.rosen@example.com';
    session.customer_details = customerDetails(email, customer?.name ?? CUSTOMER_NAME);
    if (session.mode === 'payment') {
      const spec: PaymentSpec = { amount: session.amount_total ?? 0, currency: session.currency ?? 'usd', customer: customer?.id ?? null, description: null, metadata: extras.paymentIntentMetadata, method, email };
      const { pi } = pay(spec, emit, method === 'card' ? 'succeeded' : 'processing');
      session.payment_intent = pi.id;
      session.payment_status = method === 'card' ? 'paid' : 'unpaid';
      extras.asyncPending = method === 'bank_debit';
    } else {
      if (method !== 'card') throw new Error('The fake offers bank debit only in payment mode');
      if (!customer) {
        customer = newCustomer(store, { email, name: CUSTOMER_NAME, metadata: {} });
        emit('customer.created', customer);
        session.customer = customer.id;
      }
      const line = extras.lineItems.find((li) => li.price?.recurring) ?? extras.lineItems[0]!;
      const sub = newSubscription(store, { customer: customer.id, price: line.price!, quantity: line.quantity ?? 1, metadata: extras.subscriptionMetadata });
      const t = store.nowS();
      const invoice = newInvoice(store, { subscription: sub, billingReason: 'subscription_create', periodStart: t, periodEnd: t });
      sub.latest_invoice = invoice.id;
      emit('customer.subscription.created', sub);
      emit('invoice.created', invoice);
      finalizeInvoice(store, invoice);
      emit('invoice.finalized', invoice);
      collect(invoice, emit, true);
      sub.status = 'active';
      emit('customer.subscription.updated', sub, { status: 'incomplete' });
      session.subscription = sub.id;
      session.invoice = invoice.id;
      session.payment_status = 'paid';
    }
    session.status = 'complete';
    session.url = null;
    emit('checkout.session.completed', session);
    return { result: session, events };
  }

  function settleAsync(sessionId: string, ok: boolean): Outcome<Stripe.Checkout.Session> {
    const session = store.need('checkout_session', sessionId);
    const extras = store.sessions.get(sessionId);
    if (session.status !== 'complete' || !extras?.asyncPending || !session.payment_intent) throw new Error(`Checkout Session ${sessionId} has no async payment in flight`);
    const { events, emit } = recorder(null);
    const pi = store.need('payment_intent', String(session.payment_intent));
    const charge = store.need('charge', String(pi.latest_charge));
    settleCharge(store, charge, ok);
    extras.asyncPending = false;
    if (ok) {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
      session.payment_status = 'paid';
      emit('charge.succeeded', charge);
      emit('payment_intent.succeeded', pi);
      emit('checkout.session.async_payment_succeeded', session);
    } else {
      failIntent(pi, charge);
      emit('charge.failed', charge);
      emit('payment_intent.payment_failed', pi);
      emit('checkout.session.async_payment_failed', session);
    }
    return { result: session, events };
  }

  /** The period boundary: items move to the next period and a `subscription_cycle` invoice is collected. */
  function cycle(subscriptionId: string, succeed: boolean): Outcome<Stripe.Invoice> {
    const sub = store.need('subscription', subscriptionId);
    if (sub.status !== 'active' && sub.status !== 'past_due') throw new Error(`Subscription ${subscriptionId} is ${sub.status}; only active or past_due subscriptions renew`);
    if (sub.cancel_at_period_end) throw new Error(`Subscription ${subscriptionId} cancels at period end; it ends instead of renewing — use cancelSubscription(id)`);
    const { events, emit } = recorder(null);
    const previousItems = toJson(sub.items);
    const previousInvoice = sub.latest_invoice;
    const oldStart = sub.items.data[0]!.current_period_start;
    const oldEnd = sub.items.data[0]!.current_period_end;
    for (const si of sub.items.data) {
      si.current_period_start = si.current_period_end;
      si.current_period_end = addInterval(si.current_period_end, si.price.recurring?.interval ?? 'month', si.price.recurring?.interval_count);
    }
    // Stripe's quirk: a cycle invoice's own period is the one that just ended; the line's period is the new one.
    const invoice = newInvoice(store, { subscription: sub, billingReason: 'subscription_cycle', periodStart: oldStart, periodEnd: oldEnd });
    sub.latest_invoice = invoice.id;
    emit('customer.subscription.updated', sub, { items: previousItems, latest_invoice: previousInvoice });
    emit('invoice.created', invoice);
    finalizeInvoice(store, invoice);
    emit('invoice.finalized', invoice);
    collect(invoice, emit, succeed);
    if (!succeed && sub.status !== 'past_due') {
      sub.status = 'past_due';
      emit('customer.subscription.updated', sub, { status: 'active' });
    }
    return { result: invoice, events };
  }

  /** A retry of an open invoice that now succeeds (Smart Retries, or the customer updating their card). */
  function payInvoice(invoiceId: string): Outcome<Stripe.Invoice> {
    const invoice = store.need('invoice', invoiceId);
    if (invoice.status !== 'open') throw new Error(`Invoice ${invoiceId} is ${invoice.status ?? 'unknown'}; only open invoices can be paid`);
    const { events, emit } = recorder(null);
    collect(invoice, emit, true);
    const subId = invoice.parent?.subscription_details?.subscription;
    const sub = subId ? store.get('subscription', String(subId)) : undefined;
    if (sub && sub.status === 'past_due' && sub.latest_invoice === invoice.id) {
      sub.status = 'active';
      emit('customer.subscription.updated', sub, { status: 'past_due' });
    }
    return { result: invoice, events };
  }

  function cancel(subscriptionId: string, atPeriodEnd: boolean, request: EventRequest | null, reason: Stripe.Subscription.CancellationDetails.Reason = 'cancellation_requested'): Outcome<Stripe.Subscription> {
    const sub = store.need('subscription', subscriptionId);
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') throw stateError('A canceled subscription can only update its cancellation_details and metadata.');
    const { events, emit } = recorder(request);
    const t = store.nowS();
    if (atPeriodEnd) {
      if (sub.cancel_at_period_end) return { result: sub, events };
      const previous = { cancel_at: sub.cancel_at, cancel_at_period_end: false, canceled_at: sub.canceled_at, cancellation_details: { ...sub.cancellation_details } };
      sub.cancel_at_period_end = true;
      sub.cancel_at = sub.items.data[0]!.current_period_end;
      sub.canceled_at = t;
      sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason };
      emit('customer.subscription.updated', sub, previous);
    } else {
      sub.status = 'canceled';
      sub.canceled_at ??= t;
      sub.ended_at = t;
      sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: sub.cancellation_details?.reason ?? reason };
      emit('customer.subscription.deleted', sub);
    }
    return { result: sub, events };
  }

  function resume(subscriptionId: string, request: EventRequest | null): Outcome<Stripe.Subscription> {
    const sub = store.need('subscription', subscriptionId);
    const { events, emit } = recorder(request);
    if (!sub.cancel_at_period_end) return { result: sub, events };
    const previous = { cancel_at: sub.cancel_at, cancel_at_period_end: true, canceled_at: sub.canceled_at, cancellation_details: { ...sub.cancellation_details } };
    sub.cancel_at_period_end = false;
    sub.cancel_at = null;
    sub.canceled_at = null;
    sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: null };
    emit('customer.subscription.updated', sub, previous);
    return { result: sub, events };
  }

  function refund(id: string, amount: number | undefined, p: { reason: Stripe.Refund.Reason | null; metadata: Record<string, string>; request: EventRequest | null; param?: string }): Outcome<Stripe.Refund> {
    const charge = chargeOf(id, p.param);
    if (charge.status !== 'succeeded') throw stateError(`Charge ${charge.id} has not succeeded; it cannot be refunded.`, 'charge_not_refundable');
    if (charge.disputed) throw stateError(`Charge ${charge.id} has been charged back; cannot issue a refund.`, 'charge_disputed');
    const remaining = charge.amount - charge.amount_refunded;
    if (remaining <= 0) throw stateError(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    const value = amount ?? remaining;
    if (value <= 0) throw stateError('Invalid positive integer', 'parameter_invalid_integer', 'amount');
    if (value > remaining) throw stateError(`Refund amount (${formatAmount(value, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`, 'amount_too_large', 'amount');
    const { events, emit } = recorder(p.request);
    const re = newRefund(store, charge, value, { reason: p.reason, metadata: p.metadata });
    const previous: Record<string, unknown> = { amount_refunded: charge.amount_refunded };
    charge.amount_refunded += value;
    if (charge.amount_refunded === charge.amount) {
      previous.refunded = false;
      charge.refunded = true;
    }
    emit('charge.refunded', charge, previous);
    emit('refund.created', re);
    return { result: re, events };
  }

  function dispute(chargeOrIntentId: string, amount: number | undefined): Outcome<Stripe.Dispute> {
    const charge = chargeOf(chargeOrIntentId);
    if (charge.status !== 'succeeded') throw new Error(`Charge ${charge.id} did not succeed; it cannot be disputed`);
    if (charge.disputed) throw new Error(`Charge ${charge.id} is already disputed`);
    const value = amount ?? charge.amount;
    if (value <= 0 || value > charge.amount) throw new Error(`A dispute amount must be between 1 and the charge amount ${charge.amount}`);
    const { events, emit } = recorder(null);
    charge.disputed = true;
    const dp = newDispute(store, charge, value, 'fraudulent');
    emit('charge.dispute.created', dp);
    emit('charge.dispute.funds_withdrawn', dp);
    return { result: dp, events };
  }

  function closeDispute(disputeId: string, outcome: 'won' | 'lost'): Outcome<Stripe.Dispute> {
    const dp = store.need('dispute', disputeId);
    if (dp.status === 'won' || dp.status === 'lost') throw new Error(`Dispute ${disputeId} is already closed (${dp.status})`);
    const { events, emit } = recorder(null);
    dp.status = outcome;
    if (outcome === 'won') reinstate(store, dp);
    emit('charge.dispute.closed', dp);
    if (outcome === 'won') emit('charge.dispute.funds_reinstated', dp);
    return { result: dp, events };
  }

  return { expireIfDue, expireSession, completeCheckout, settleAsync, cycle, payInvoice, cancel, resume, refund, dispute, closeDispute };
}

export type Flows = ReturnType<typeof createFlows>;
