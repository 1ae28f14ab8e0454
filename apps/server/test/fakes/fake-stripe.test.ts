import type { IncomingMessage, ServerResponse } from 'node:http';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { listenOnLoopback, readBody } from './fake-bfl-http.ts';
import { createFakeStripe } from './fake-stripe.ts';
import type { FakeStripe } from './fake-stripe.ts';

/** The fake Stripe driven by the official SDK, with deliveries checked by the SDK's own signature verification. */

const SECRET = 'whsec_fake_test_secret';

interface Receiver {
  url: string;
  events: Stripe.Event[];
  raw: string[];
  rejected: number;
  respondNext(status: number, times?: number): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const statuses: number[] = [];
  const r = { events: [] as Stripe.Event[], raw: [] as string[], rejected: 0 };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req, 1_000_000);
    const planned = statuses.shift();
    try {
      const event = Stripe.webhooks.constructEvent(raw, req.headers['stripe-signature'] ?? '', SECRET);
      if (planned === undefined || planned < 300) {
        r.events.push(event);
        r.raw.push(raw);
      }
      res.writeHead(planned ?? 200).end();
    } catch {
      r.rejected++;
      res.writeHead(400).end();
    }
  };
  const listening = await listenOnLoopback((req, res) => void handler(req, res));
  return Object.assign(r, {
    url: `${listening.url}/webhooks/stripe`,
    respondNext: (status: number, times = 1) => void statuses.push(...Array<number>(times).fill(status)),
    close: () => listening.close(),
  });
}

let fake: FakeStripe;
let receiver: Receiver;
let stripe: Stripe;
beforeEach(async () => {
  receiver = await startReceiver();
  fake = await createFakeStripe({ webhookUrl: receiver.url, webhookSecret: SECRET });
  stripe = new Stripe(fake.apiKey, { ...fake.clientOptions(), maxNetworkRetries: 0 });
});
afterEach(async () => {
  await fake.close();
  await receiver.close();
});

const types = (events: Stripe.Event[]) => events.map((e) => e.type);
const pack = () => fake.createPrice({ unit_amount: 1000, currency: 'usd', product_name: 'Credit pack 1000' });
const monthly = () => fake.createPrice({ unit_amount: 900, currency: 'eur', product_name: 'Studio plan', recurring: { interval: 'month' } });
const paymentSession = (price: Stripe.Price, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) => stripe.checkout.sessions.create({
  mode: 'payment', line_items: [{ price: price.id, quantity: 1 }], customer_email: 'ada@example.test', client_reference_id: 'user_1',
  success_url: 'https://atelier.test/billing/done?session_id={CHECKOUT_SESSION_ID}', cancel_url: 'https://atelier.test/billing', ...extra,
});
async function paidCharge(): Promise<{ pi: Stripe.PaymentIntent; charge: Stripe.Charge }> {
  const session = await paymentSession(pack());
  await fake.completeCheckout(session.id);
  const pi = await stripe.paymentIntents.retrieve(String((await stripe.checkout.sessions.retrieve(session.id)).payment_intent), { expand: ['latest_charge'] });
  return { pi, charge: pi.latest_charge as Stripe.Charge };
}
async function submitForm(url: string, form: Record<string, string>) {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

describe('fake Stripe: Checkout in payment mode', () => {
  test('a session is created open and unpaid; paying emits Stripe\'s events, signed and verifiable', async () => {
    const price = pack();
    const session = await paymentSession(price, { metadata: { pack: 'p1000' }, payment_intent_data: { metadata: { user: 'u1' } } });
    expect(session).toMatchObject({ object: 'checkout.session', mode: 'payment', status: 'open', payment_status: 'unpaid', amount_total: 1000, currency: 'usd', payment_intent: null, client_reference_id: 'user_1', metadata: { pack: 'p1000' } });
    expect(session.url).toBe(`${fake.url}/checkout/pay/${session.id}`);
    expect(session.expires_at - session.created).toBe(86_400);
    const withItems = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(withItems.line_items?.data).toMatchObject([{ object: 'item', description: 'Credit pack 1000', quantity: 1, amount_total: 1000, price: { id: price.id, unit_amount: 1000 } }]);
    expect((await stripe.checkout.sessions.listLineItems(session.id)).data).toHaveLength(1);

    await fake.completeCheckout(session.id);
    expect(types(receiver.events)).toEqual(['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed']);
    expect(receiver.rejected).toBe(0);
    const completed = receiver.events.at(-1)!;
    expect(completed).toMatchObject({ object: 'event', api_version: Stripe.API_VERSION, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null } });
    expect(completed.data.object).toMatchObject({ id: session.id, status: 'complete', payment_status: 'paid', client_reference_id: 'user_1', customer_details: { email: 'ada@example.test' } });
    expect(receiver.raw[0]).toContain('\n  "id": "evt_'); // pretty-printed like Stripe's, so only the raw bytes verify

    const after = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge'] });
    const pi = after.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({ status: 'succeeded', amount_received: 1000, metadata: { user: 'u1' } });
    expect(pi.latest_charge).toMatchObject({ object: 'charge', amount: 1000, paid: true, captured: true, amount_refunded: 0, payment_intent: pi.id });
    expect((await stripe.events.retrieve(completed.id)).pending_webhooks).toBe(0);
    await expect(fake.completeCheckout(session.id)).rejects.toThrow(/complete/);
  });

  test('the hosted page: amount and options, Pay as a browser form posts it, then 303 to success_url', async () => {
    const session = await paymentSession(pack());
    const page = await fetch(session.url!);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Credit pack 1000');
    expect(html).toContain('$10.00');
    expect(html).toContain('Bank debit (confirms later)');
    expect(html).toMatch(/<button type="submit">Pay<\/button>/);
    expect(html).toContain('<a href="https://atelier.test/billing">Cancel</a>');

    const res = await submitForm(session.url!, { payment_method: 'card', email: 'ada@example.test' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://atelier.test/billing/done?session_id=${session.id}`);
    expect(types(receiver.events)).toContain('checkout.session.completed'); // delivered before the redirect
    expect(await (await fetch(session.url!)).text()).toContain('already complete');
  });

  test('bank debit completes unpaid, then async_payment_succeeded or async_payment_failed', async () => {
    const price = pack();
    const a = await paymentSession(price);
    await submitForm(a.url!, { payment_method: 'bank_debit' });
    expect(await stripe.checkout.sessions.retrieve(a.id)).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    expect(types(receiver.events)).toEqual(['payment_intent.created', 'charge.pending', 'payment_intent.processing', 'checkout.session.completed']);
    await fake.succeedAsyncPayment(a.id);
    expect(types(receiver.events).slice(4)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.async_payment_succeeded']);
    expect(receiver.events.at(-1)!.data.object).toMatchObject({ id: a.id, payment_status: 'paid' });

    const b = await paymentSession(price);
    await fake.completeCheckout(b.id, { asyncPayment: true });
    await fake.failAsyncPayment(b.id);
    expect(receiver.events.at(-1)).toMatchObject({ type: 'checkout.session.async_payment_failed', data: { object: { payment_status: 'unpaid' } } });
    expect((await stripe.paymentIntents.retrieve(String(b.id && (await stripe.checkout.sessions.retrieve(b.id)).payment_intent))).status).toBe('requires_payment_method');
    await expect(fake.succeedAsyncPayment(b.id)).rejects.toThrow(/no async payment/);
  });

  test('expire: the session and page say so, and checkout.session.expired is sent', async () => {
    const session = await paymentSession(pack());
    expect(await stripe.checkout.sessions.expire(session.id)).toMatchObject({ status: 'expired', url: null });
    await fake.idle();
    expect(types(receiver.events)).toEqual(['checkout.session.expired']);
    expect(receiver.events[0]!.request?.id).toMatch(/^req_/);
    const page = await fetch(`${fake.url}/checkout/pay/${session.id}`);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('expired');
    await expect(fake.completeCheckout(session.id)).rejects.toThrow(/expired/);
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400, code: 'checkout_session_not_open' });
  });

  test('validation answers like Stripe: unknown, missing and conflicting params; recurring price in payment mode', async () => {
    const price = pack();
    const call = (p: Record<string, unknown>) => stripe.checkout.sessions.create(p as Stripe.Checkout.SessionCreateParams);
    await expect(call({ mode: 'payment', line_items: [{ price: price.id, quantity: 1 }], colour: 'red' })).rejects.toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, code: 'parameter_unknown', param: 'colour' });
    await expect(call({ mode: 'payment', line_items: [{ price: price.id }] })).rejects.toMatchObject({ code: 'parameter_missing', param: 'line_items[0][quantity]' });
    await expect(call({ mode: 'payment', line_items: [{ price: 'price_nope', quantity: 1 }] })).rejects.toMatchObject({ code: 'resource_missing', message: "No such price: 'price_nope'" });
    await expect(call({ mode: 'payment', line_items: [{ price: monthly().id, quantity: 1 }] })).rejects.toThrow(/passed a recurring price/);
    await expect(call({ mode: 'payment', customer: 'cus_x', customer_email: 'a@b.c', line_items: [{ price: price.id, quantity: 1 }] })).rejects.toThrow(/only specify one of these parameters: customer, customer_email/);
    await expect(stripe.checkout.sessions.retrieve('cs_test_nope')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(stripe.checkout.sessions.retrieve((await paymentSession(price)).id, { expand: ['customer_email'] })).rejects.toThrow(/cannot be expanded/);
  });
});

describe('fake Stripe: subscriptions', () => {
  test('subscribe, renew, fail, recover, cancel — the objects in this API version\'s shape and Stripe\'s events', async () => {
    const price = monthly();
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], customer_email: 'ada@example.test', client_reference_id: 'user_7',
      subscription_data: { metadata: { user: 'user_7' } }, success_url: 'https://atelier.test/ok', cancel_url: 'https://atelier.test/no',
    });
    await fake.completeCheckout(session.id);
    expect(types(receiver.events)).toEqual([
      'customer.created', 'customer.subscription.created', 'invoice.created', 'invoice.finalized', 'payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded',
      'invoice_payment.paid', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated', 'checkout.session.completed',
    ]);
    expect(receiver.events[1]!.data.object).toMatchObject({ status: 'incomplete' });
    expect(receiver.events[10]!.data.previous_attributes).toEqual({ status: 'incomplete' });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent: null, customer: expect.stringMatching(/^cus_/) });

    const sub = await stripe.subscriptions.retrieve(String(done.subscription), { expand: ['latest_invoice.payments'] });
    const item = sub.items.data[0]!;
    expect(sub).toMatchObject({ status: 'active', customer: done.customer, metadata: { user: 'user_7' }, cancel_at_period_end: false, currency: 'eur' });
    expect(item).toMatchObject({ price: { id: price.id }, plan: { id: price.id, interval: 'month' }, quantity: 1 });
    expect(new Date(item.current_period_end * 1000).getUTCMonth()).toBe((new Date(item.current_period_start * 1000).getUTCMonth() + 1) % 12);
    const first = sub.latest_invoice as Stripe.Invoice;
    expect(first).toMatchObject({ id: done.invoice, billing_reason: 'subscription_create', status: 'paid', amount_paid: 900, currency: 'eur', parent: { type: 'subscription_details', subscription_details: { subscription: sub.id, metadata: { user: 'user_7' } } } });
    expect(first.lines.data[0]).toMatchObject({ amount: 900, period: { start: item.current_period_start, end: item.current_period_end }, pricing: { price_details: { price: price.id } } });
    expect(first).not.toHaveProperty('subscription');
    const pi = await stripe.paymentIntents.retrieve(String(first.payments?.data[0]?.payment.payment_intent));
    expect(pi).toMatchObject({ status: 'succeeded', amount: 900, customer: done.customer });
    const receipt = await fetch(first.hosted_invoice_url!);
    expect(await receipt.text()).toContain('Paid');
    const pdf = await fetch(first.invoice_pdf!);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');

    const renewal = await fake.renewSubscription(sub.id);
    expect(renewal).toMatchObject({ billing_reason: 'subscription_cycle', status: 'paid', period_start: item.current_period_start, period_end: item.current_period_end });
    expect(renewal.lines.data[0]!.period.start).toBe(item.current_period_end);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.current_period_start).toBe(item.current_period_end);
    expect(types(receiver.events)).toContain('invoice.paid');

    const failed = await fake.failInvoicePayment(sub.id);
    expect(failed).toMatchObject({ status: 'open', attempted: true, attempt_count: 1, amount_paid: 0, next_payment_attempt: expect.any(Number) });
    const pastDue = receiver.events.at(-1)!;
    expect(pastDue).toMatchObject({ type: 'customer.subscription.updated', data: { object: { status: 'past_due' }, previous_attributes: { status: 'active' } } });
    expect(types(receiver.events).at(-2)).toBe('invoice.payment_failed');
    await fake.payInvoice(failed.id);
    expect(receiver.events.at(-1)).toMatchObject({ type: 'customer.subscription.updated', data: { object: { status: 'active' }, previous_attributes: { status: 'past_due' } } });

    const page1 = await stripe.invoices.list({ subscription: sub.id, limit: 2 });
    expect(page1.data.map((i) => i.id)).toEqual([failed.id, renewal.id]);
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.invoices.list({ subscription: sub.id, limit: 2, starting_after: renewal.id });
    expect(page2).toMatchObject({ has_more: false, data: [{ id: first.id }] });

    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await fake.idle();
    expect(receiver.events.at(-1)).toMatchObject({ type: 'customer.subscription.updated', data: { object: { cancel_at_period_end: true }, previous_attributes: { cancel_at_period_end: false } } });
    await expect(fake.renewSubscription(sub.id)).rejects.toThrow(/cancels at period end/);
    expect(await stripe.subscriptions.cancel(sub.id)).toMatchObject({ status: 'canceled', ended_at: expect.any(Number) });
    await fake.idle();
    expect(receiver.events.at(-1)).toMatchObject({ type: 'customer.subscription.deleted', data: { object: { id: sub.id, status: 'canceled' } } });
    expect((await stripe.subscriptions.list({ customer: String(done.customer) })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: String(done.customer), status: 'all' })).data).toHaveLength(1);
  });

  test('the customer portal shows the plan and invoices, and cancels at period end', async () => {
    const customer = await stripe.customers.create({ email: 'ada@example.test' });
    const session = await stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: monthly().id, quantity: 1 }], success_url: 'https://atelier.test/ok' });
    await fake.completeCheckout(session.id);
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://atelier.test/account' });
    expect(portal.url).toBe(`${fake.url}/portal/${portal.id}`);
    const html = await (await fetch(portal.url)).text();
    for (const text of ['Studio plan', '€9.00 per month', 'active', 'Renews on', 'Cancel subscription', 'View invoice', '<a href="https://atelier.test/account">Return to Atelier</a>']) expect(html).toContain(text);

    const subId = String((await stripe.checkout.sessions.retrieve(session.id)).subscription);
    const res = await submitForm(`${fake.url}/portal/${portal.id}/cancel`, { subscription: subId });
    expect(res.status).toBe(303);
    expect(await stripe.subscriptions.retrieve(subId)).toMatchObject({ status: 'active', cancel_at_period_end: true, cancellation_details: { reason: 'cancellation_requested' } });
    expect(receiver.events.at(-1)).toMatchObject({ type: 'customer.subscription.updated', data: { previous_attributes: { cancel_at_period_end: false } } });
    expect(await (await fetch(portal.url)).text()).toContain('Cancels on');
  });
});

describe('fake Stripe: API behaviour', () => {
  test('idempotency: a retry replays the first response, other params under the same key is idempotency_error', async () => {
    const a = await stripe.customers.create({ email: 'ada@example.test' }, { idempotencyKey: 'signup-1' });
    const b = await stripe.customers.create({ email: 'ada@example.test' }, { idempotencyKey: 'signup-1' });
    expect(b.id).toBe(a.id);
    const raw = await fetch(`${fake.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, 'idempotency-key': 'signup-1', 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=ada%40example.test' });
    expect(raw.headers.get('idempotent-replayed')).toBe('true');
    expect(((await raw.json()) as { id: string }).id).toBe(a.id);
    await expect(stripe.customers.create({ email: 'eve@example.test' }, { idempotencyKey: 'signup-1' })).rejects.toMatchObject({ type: 'StripeIdempotencyError', statusCode: 400 });
    expect((await stripe.customers.list()).data).toHaveLength(1);
    await fake.idle();
    expect(types(fake.events)).toEqual(['customer.created']);
    expect(fake.requests.filter((r) => r.path === '/v1/customers' && r.method === 'POST').map((r) => r.idempotencyKey)).toEqual(['signup-1', 'signup-1', 'signup-1', 'signup-1']);
  });

  test('a response lost after the request ran: the SDK\'s retry with its own key gets the stored result', async () => {
    fake.injectFault({ kind: 'drop', when: 'after' }, { method: 'POST', path: '/v1/customers' });
    const customer = await stripe.customers.create({ email: 'ada@example.test' });
    const posts = fake.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.idempotencyKey).toBe(posts[0]!.idempotencyKey);
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([customer.id]);
  });

  test('401 for a wrong or missing key; 404 for unknown URLs; other API versions are refused', async () => {
    const wrong = new Stripe('sk_test_wrong_key_1234', { ...fake.clientOptions(), maxNetworkRetries: 0 });
    await expect(wrong.customers.list()).rejects.toMatchObject({ type: 'StripeAuthenticationError', statusCode: 401, message: expect.stringMatching(/^Invalid API Key provided: sk_test_\**1234$/) });
    const missing = await fetch(`${fake.url}/v1/customers`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') } });
    expect((await fetch(`${fake.url}/v1/nope`, { headers: { authorization: `Bearer ${fake.apiKey}` } })).status).toBe(404);
    const old = await fetch(`${fake.url}/v1/customers`, { headers: { authorization: `Bearer ${fake.apiKey}`, 'stripe-version': '2024-06-20' } });
    expect(old.status).toBe(400);
  });

  test('list pagination: limit, has_more, starting_after, ending_before and auto-paging, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await stripe.customers.create({ email: `c${i}@example.test` })).id);
    const newestFirst = [...ids].reverse();
    const first = await stripe.customers.list({ limit: 2 });
    expect(first).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(first.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 2));
    const second = await stripe.customers.list({ limit: 2, starting_after: newestFirst[1] });
    expect(second.data.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
    expect((await stripe.customers.list({ limit: 2, ending_before: newestFirst[4] })).data.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
    expect((await stripe.customers.list({ limit: 2 }).autoPagingToArray({ limit: 10 })).map((c) => c.id)).toEqual(newestFirst);
    await expect(stripe.customers.list({ limit: 101 })).rejects.toMatchObject({ param: 'limit' });
    await fake.idle();
    const events = await stripe.events.list({ type: 'customer.*', limit: 3 });
    expect(events.data.map((e) => (e.data.object as Stripe.Customer).id)).toEqual(newestFirst.slice(0, 3));
  });
});

describe('fake Stripe: refunds and disputes', () => {
  test('refunds: cumulative amount_refunded with previous_attributes, refund.created, and Stripe\'s limits', async () => {
    const { pi, charge } = await paidCharge();
    const before = receiver.events.length;
    const r1 = await fake.refund(pi.id, 300);
    expect(r1).toMatchObject({ object: 'refund', amount: 300, charge: charge.id, payment_intent: pi.id, status: 'succeeded' });
    expect(types(receiver.events.slice(before))).toEqual(['charge.refunded', 'refund.created']);
    expect(receiver.events[before]!.data).toMatchObject({ object: { amount_refunded: 300, refunded: false }, previous_attributes: { amount_refunded: 0 } });

    const r2 = await stripe.refunds.create({ charge: charge.id, amount: 700, reason: 'requested_by_customer' });
    await fake.idle();
    const refunded = receiver.events.at(-2)!;
    expect(refunded.data).toEqual(expect.objectContaining({ previous_attributes: { amount_refunded: 300, refunded: false } }));
    expect(refunded.data.object).toMatchObject({ amount_refunded: 1000, refunded: true });
    expect(refunded.request?.id).toMatch(/^req_/);
    expect(await stripe.refunds.retrieve(r2.id)).toMatchObject({ amount: 700, reason: 'requested_by_customer' });
    const expanded = await stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
    expect(expanded.refunds?.data.map((r) => r.amount)).toEqual([700, 300]);
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ code: 'charge_already_refunded' });
    const other = await paidCharge();
    await expect(stripe.refunds.create({ payment_intent: other.pi.id, amount: 1001 })).rejects.toMatchObject({ code: 'amount_too_large', message: 'Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)' });
  });

  test('disputes: needs_response with funds withdrawn, then won (funds reinstated) or lost', async () => {
    const { pi, charge } = await paidCharge();
    const before = receiver.events.length;
    const dispute = await fake.createDispute(charge.id, 1000);
    expect(dispute).toMatchObject({ object: 'dispute', status: 'needs_response', amount: 1000, charge: charge.id, payment_intent: pi.id, currency: 'usd' });
    expect(types(receiver.events.slice(before))).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
    expect((await stripe.charges.retrieve(charge.id)).disputed).toBe(true);
    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toMatchObject({ code: 'charge_disputed' });
    await fake.closeDispute(dispute.id, 'won');
    expect(types(receiver.events.slice(before + 2))).toEqual(['charge.dispute.closed', 'charge.dispute.funds_reinstated']);
    expect(await stripe.disputes.retrieve(dispute.id)).toMatchObject({ status: 'won', balance_transactions: [{ amount: -1000 }, { amount: 1000 }] });

    const lost = await fake.createDispute((await paidCharge()).pi.id, 400);
    await fake.closeDispute(lost.id, 'lost');
    expect(receiver.events.at(-1)).toMatchObject({ type: 'charge.dispute.closed', data: { object: { id: lost.id, status: 'lost', amount: 400 } } });
    await expect(fake.closeDispute(lost.id, 'won')).rejects.toThrow(/already closed/);
  });
});

describe('fake Stripe: webhook delivery', () => {
  test('manual mode queues; delivery_success=false lists undelivered events; deliverPending sends them in order or reversed', async () => {
    fake.deliveryMode = 'manual';
    await paidCharge();
    expect(receiver.events).toHaveLength(0);
    const undelivered = await stripe.events.list({ delivery_success: false });
    expect(types(undelivered.data)).toEqual(['checkout.session.completed', 'payment_intent.succeeded', 'charge.succeeded', 'payment_intent.created']);
    await fake.deliverPending({ order: 'reverse' });
    expect(types(receiver.events)).toEqual(['checkout.session.completed', 'payment_intent.succeeded', 'charge.succeeded', 'payment_intent.created']);
    expect((await stripe.events.list({ delivery_success: false })).data).toEqual([]);
    expect((await stripe.events.list({ delivery_success: true })).data).toHaveLength(4);
    const since = Math.floor(Date.now() / 1000) - 60;
    expect((await stripe.events.list({ created: { gte: since }, type: 'charge.succeeded' })).data).toHaveLength(1);
    expect((await stripe.events.list({ created: { lt: since } })).data).toEqual([]);
  });

  test('failed deliveries (not made, or non-2xx) stay pending until a later attempt succeeds', async () => {
    fake.failDeliveries(1);
    receiver.respondNext(500);
    await paidCharge();
    expect(fake.deliveries.slice(0, 2).map((d) => d.status)).toEqual([null, 500]);
    expect(types(receiver.events)).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
    const failed = (await stripe.events.list({ delivery_success: false })).data;
    expect(types(failed)).toEqual(['charge.succeeded', 'payment_intent.created']);
    expect(failed.every((e) => e.pending_webhooks === 1)).toBe(true);
    expect(fake.pendingEvents().map((e) => e.id)).toEqual(failed.map((e) => e.id).reverse());
    await fake.deliverPending();
    expect(types(receiver.events).slice(2)).toEqual(['payment_intent.created', 'charge.succeeded']);
    expect((await stripe.events.list({ delivery_success: false })).data).toEqual([]);

    fake.failDeliveries(100);
    fake.failDeliveries(0); // a new count replaces the old one
    await paidCharge();
    expect(receiver.events).toHaveLength(8);
  });

  test('redeliver the same event concurrently: the same event, verifiable each time', async () => {
    await paidCharge();
    const completed = fake.events.find((e) => e.type === 'checkout.session.completed')!;
    const statuses = await fake.redeliver(completed.id, { times: 5, concurrently: true });
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const copies = receiver.raw.filter((raw) => raw.includes(`"id": "${completed.id}"`));
    expect(copies).toHaveLength(6);
    // The first went out while the event was still pending; resends show it delivered, as Stripe's do.
    expect(JSON.parse(copies[0]!)).toMatchObject({ pending_webhooks: 1 });
    expect(new Set(copies.slice(1)).size).toBe(1);
    expect(JSON.parse(copies[1]!)).toMatchObject({ id: completed.id, pending_webhooks: 0 });
    expect(fake.deliveries.filter((d) => d.eventId === completed.id)).toHaveLength(6);
  });

  test('a wrong secret on the receiving side fails verification (the signature is real)', async () => {
    fake.setWebhookEndpoint(receiver.url, 'whsec_other');
    await paidCharge();
    expect(receiver.rejected).toBe(4);
    expect(fake.deliveries.every((d) => d.status === 400)).toBe(true);
  });
});
