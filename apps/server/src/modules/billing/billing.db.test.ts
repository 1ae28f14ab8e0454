import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account, BillingOverview, CreditTransaction, Payment } from '@atelier/contracts';
import { createFakeStripe, type FakeStripe } from '#test/fakes/fake-stripe.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Payments through Stripe against a contract-faithful fake Stripe on loopback (the official SDK talks
 * to it; it delivers webhooks signed with the SDK's own test-header helper): packs and plans through
 * Checkout, webhooks verified and applied once whatever the order or repetition, refunds and disputes
 * taking back credits without driving a balance negative, and reconciliation of missed events.
 */
const SECRET = 'whsec_current_secret_for_tests_0123456789';
const OLD_SECRET = 'whsec_previous_secret_for_tests_987654321';
let fake: FakeStripe;
let server: TestServer;
let webhookUrl: string;
let dir: string;
let prices: { pack: string; pro: string };

beforeAll(async () => {
  fake = await createFakeStripe();
  prices = {
    pack: fake.createPrice({ unit_amount: 1000, currency: 'usd', product_name: 'Starter pack' }).id,
    pro: fake.createPrice({ unit_amount: 2000, currency: 'usd', product_name: 'Pro', recurring: { interval: 'month' } }).id,
  };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-billing-'));
  const billingFile = path.join(dir, 'billing.json');
  fs.writeFileSync(
    billingFile,
    JSON.stringify({
      packs: [{ id: 'starter', name: 'Starter pack', credits: 1000, stripe_price: prices.pack }],
      plans: [{ id: 'pro', name: 'Pro', stripe_price: prices.pro, monthly_credits: 3000, max_megapixels: 4, max_concurrent_generations: 8, features: ['4 MP images'] }],
    }),
  );
  server = await startTestServer({
    env: {
      STRIPE_SECRET_KEY: fake.apiKey,
      STRIPE_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}`,
      STRIPE_API_URL: fake.url,
      BILLING_FILE: billingFile,
      SIGNUP_CREDITS: '0',
      FREE_MONTHLY_CREDITS: '50',
      RATE_LIMIT_CHECKOUTS_PER_HOUR: '1000',
    },
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  webhookUrl = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/api/billing/stripe/webhook`;
  fake.setWebhookEndpoint(webhookUrl, SECRET);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const json = { 'content-type': 'application/json' };
const account = async (cookie: string) => (await server.app.inject({ method: 'GET', url: '/api/account', headers: studio(cookie) })).json<Account>();
const transactions = async (cookie: string) => (await server.app.inject({ method: 'GET', url: '/api/credits/transactions?limit=100', headers: studio(cookie) })).json<{ data: CreditTransaction[] }>().data;
const checkout = (cookie: string, body: { kind: 'pack' | 'plan'; id: string }, key?: string) =>
  server.app.inject({ method: 'POST', url: '/api/billing/checkout', headers: studio(cookie, { ...json, ...(key ? { 'idempotency-key': key } : {}) }), payload: body });
const sessionOf = (url: string) => url.split('/').at(-1)!;
const eventRows = async () => Number((await server.container.database.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const processed = (eventId: string) => eventually(async () => (await server.container.database.db.selectFrom('stripe_events').select('processed_at').where('id', '=', eventId).executeTakeFirst())?.processed_at ?? undefined);
const allProcessed = () =>
  eventually(async () => {
    const open = await server.container.database.db.selectFrom('stripe_events').select('id').where('processed_at', 'is', null).execute();
    return open.length === 0;
  });

/** A user who bought the 1000-credit pack; returns the checkout session and its PaymentIntent. */
async function buyPack() {
  const user = await signUp(server.app);
  const res = await checkout(user.cookie, { kind: 'pack', id: 'starter' });
  expect(res.statusCode).toBe(200);
  const sessionId = sessionOf(res.json<{ url: string }>().url);
  await fake.completeCheckout(sessionId);
  await eventually(async () => (await account(user.cookie)).credits.available === 1050);
  const session = fake.getObject<Stripe.Checkout.Session>(sessionId)!;
  return { user, sessionId, paymentIntent: session.payment_intent as string };
}

describe('credit packs through Checkout', () => {
  it('grants the pack once the paid checkout’s webhook arrives, with a receipt', async () => {
    const { user, sessionId } = await buyPack();
    const purchase = (await transactions(user.cookie)).find((t) => t.kind === 'purchase')!;
    expect(purchase).toMatchObject({ available_change: 1000, reference: sessionId, description: 'Bought Starter pack' });
    const payments = (await server.app.inject({ method: 'GET', url: '/api/billing/payments', headers: studio(user.cookie) })).json<{ data: Payment[] }>().data;
    expect(payments).toEqual([expect.objectContaining({ id: `checkout:${sessionId}`, credits: 1000, amount: 1000, currency: 'usd', status: 'paid', receipt_url: expect.stringMatching(/^https:\/\//) })]);
    // Every mutating call to Stripe carried an idempotency key (PAY-8).
    for (const r of fake.requests.filter((q) => q.method === 'POST')) expect(r.idempotencyKey).toEqual(expect.any(String));
    // Card data never reaches Atelier: nothing stored looks like a card.
    const stored = JSON.stringify(await server.container.database.db.selectFrom('credit_purchases').selectAll().execute());
    expect(stored).not.toMatch(/4242|card|cvc|exp_month/i);
  });

  it('a retried checkout gets the same session; the same key for another item is a 409 (T-PAY-5)', async () => {
    const user = await signUp(server.app);
    const key = `retry-${crypto.randomUUID()}`;
    const first = await checkout(user.cookie, { kind: 'pack', id: 'starter' }, key);
    const again = await checkout(user.cookie, { kind: 'pack', id: 'starter' }, key);
    expect(again.json()).toEqual(first.json());
    const sessions = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions' && r.idempotencyKey === `checkout:${user.userId}:${key}`);
    expect(sessions).toHaveLength(2); // the second was Stripe's idempotent replay of the first
    const other = await checkout(user.cookie, { kind: 'plan', id: 'pro' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: { code: 'idempotency_conflict' } });
  });

  it('an async payment is granted only when it succeeds, and never when it fails', async () => {
    const user = await signUp(server.app);
    const ok = sessionOf((await checkout(user.cookie, { kind: 'pack', id: 'starter' })).json<{ url: string }>().url);
    await fake.completeCheckout(ok, { asyncPayment: true });
    await allProcessed();
    expect((await account(user.cookie)).credits.available).toBe(50);
    await fake.succeedAsyncPayment(ok);
    await eventually(async () => (await account(user.cookie)).credits.available === 1050);
    const bad = sessionOf((await checkout(user.cookie, { kind: 'pack', id: 'starter' })).json<{ url: string }>().url);
    await fake.completeCheckout(bad, { asyncPayment: true });
    await fake.failAsyncPayment(bad);
    await allProcessed();
    expect((await account(user.cookie)).credits.available).toBe(1050);
    const payments = (await server.app.inject({ method: 'GET', url: '/api/billing/payments', headers: studio(user.cookie) })).json<{ data: Payment[] }>().data;
    expect(payments.map((p) => p.status).sort()).toEqual(['failed', 'paid']);
  });

  it('refuses unknown items and explains', async () => {
    const user = await signUp(server.app);
    const res = await checkout(user.cookie, { kind: 'pack', id: 'nope' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'validation_failed', fields: [{ path: 'id' }] } });
  });
});

describe('the webhook endpoint', () => {
  const post = (body: string, signature: string) => server.app.inject({ method: 'POST', url: '/api/billing/stripe/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, payload: body });
  const sign = (payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

  it('accepts only valid signatures within 300 s, with the current or the previous secret (T-PAY-1)', async () => {
    const event = (id: string) => JSON.stringify({ id, object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), type: 'customer.created', data: { object: { id: `cus_${id}`, object: 'customer' } }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null } });
    const before = await eventRows();
    const now = Math.floor(Date.now() / 1000);
    const valid = event('evt_sig_valid');
    const tampered = event('evt_sig_tampered');
    const refused = [
      ['tampered by one byte', post(tampered.replace('customer.created', 'customer.creates'), sign(tampered, SECRET))],
      ['301 s old', post(event('evt_sig_old'), sign(event('evt_sig_old'), SECRET, now - 301))],
      ['301 s ahead', post(event('evt_sig_future'), sign(event('evt_sig_future'), SECRET, now + 301))],
      ['wrong secret', post(event('evt_sig_wrong'), sign(event('evt_sig_wrong'), 'whsec_somebody_else_entirely'))],
      ['no signature', post(event('evt_sig_none'), '')],
    ] as const;
    for (const [why, pending] of refused) {
      const res = await pending;
      expect(res.statusCode, why).toBe(400);
      expect(res.json(), why).toMatchObject({ error: { code: 'validation_failed', message: expect.stringContaining('Stripe-Signature') } });
    }
    expect(await eventRows()).toBe(before);
    expect((await post(valid, sign(valid, SECRET))).statusCode).toBe(200);
    const rolled = event('evt_sig_old_secret');
    expect((await post(rolled, sign(rolled, OLD_SECRET))).statusCode).toBe(200);
    expect(await eventRows()).toBe(before + 2);
  });

  it('applies an event delivered 10 times at once exactly once (T-PAY-2)', async () => {
    fake.deliveryMode = 'manual';
    try {
      const user = await signUp(server.app);
      const sessionId = sessionOf((await checkout(user.cookie, { kind: 'pack', id: 'starter' })).json<{ url: string }>().url);
      await fake.completeCheckout(sessionId);
      const completed = fake.pendingEvents().find((e) => e.type === 'checkout.session.completed' && (e.data.object as { id: string }).id === sessionId)!;
      const statuses = await fake.redeliver(completed.id, { times: 10, concurrently: true });
      expect(statuses).toEqual(Array(10).fill(200));
      await processed(completed.id);
      await fake.deliverPending();
      await allProcessed();
      expect((await account(user.cookie)).credits.available).toBe(1050);
      expect((await transactions(user.cookie)).filter((t) => t.kind === 'purchase')).toHaveLength(1);
      const rows = await server.container.database.db.selectFrom('stripe_events').select('id').where('id', '=', completed.id).execute();
      expect(rows).toHaveLength(1);
    } finally {
      fake.deliveryMode = 'immediate';
    }
  });
});

describe('subscriptions', () => {
  /** Subscribes a new user with the events held back; returns them and the events in Stripe's order. */
  async function subscribeHeld() {
    const user = await signUp(server.app);
    fake.deliveryMode = 'manual';
    const url = (await checkout(user.cookie, { kind: 'plan', id: 'pro' })).json<{ url: string }>().url;
    await fake.completeCheckout(sessionOf(url));
    return { user, events: fake.pendingEvents() };
  }

  it('grants the plan’s credits per paid invoice and stops the free allowance; renewals grant again; a failed renewal is past_due; cancel ends it', async () => {
    const { user } = await subscribeHeld();
    fake.deliveryMode = 'immediate';
    await fake.deliverPending();
    await allProcessed();
    let a = await account(user.cookie);
    expect(a.plan).toMatchObject({ id: 'pro', name: 'Pro', status: 'active', limits: { max_concurrent_generations: 8 } });
    expect(a.credits.available).toBe(3000); // no free allowance once subscribed (it is granted lazily, and the plan came first)
    const overview = (await server.app.inject({ method: 'GET', url: '/api/billing', headers: studio(user.cookie) })).json<BillingOverview>();
    expect(overview.subscription).toMatchObject({ plan_id: 'pro', status: 'active', cancel_at_period_end: false });
    expect(overview.has_billing_account).toBe(true);
    expect(overview.plans[0]).toMatchObject({ id: 'pro', price: { amount: 2000, currency: 'usd', interval: 'month' } });
    const subscriptionId = overview.subscription!.id;

    await fake.renewSubscription(subscriptionId);
    await allProcessed();
    a = await account(user.cookie);
    expect(a.credits.available).toBe(6000);
    expect((await transactions(user.cookie)).filter((t) => t.kind === 'plan_grant')).toHaveLength(2);

    await fake.failInvoicePayment(subscriptionId);
    await allProcessed();
    expect((await account(user.cookie)).plan.status).toBe('past_due');
    expect((await account(user.cookie)).credits.available).toBe(6000);
    // …and the user is told, by mail (the outbox without SMTP), with a link to the billing page.
    const mails = await eventually(async () => {
      const dirPath = path.join(server.dataDir, 'outbox');
      const found = fs.existsSync(dirPath) ? fs.readdirSync(dirPath).map((f) => fs.readFileSync(path.join(dirPath, f), 'utf8')).filter((m) => m.includes('did not go through') && m.includes(user.email)) : [];
      return found.length ? found : undefined;
    });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('http://localhost:3000/billing');

    await fake.cancelSubscription(subscriptionId);
    await allProcessed();
    a = await account(user.cookie);
    expect(a.plan).toMatchObject({ id: 'free', status: 'free' });
    const portal = await server.app.inject({ method: 'POST', url: '/api/billing/portal', headers: studio(user.cookie) });
    expect(portal.json<{ url: string }>().url).toMatch(new RegExp(`^${fake.url}/portal/`));
  });

  it('ends in the same state, with exactly one period grant, whatever order the events arrive in (T-PAY-3)', async () => {
    const finalStates: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const { user, events } = await subscribeHeld();
        const order = fc.sample(fc.shuffledSubarray(events.map((e) => e.id), { minLength: events.length, maxLength: events.length }), { seed, numRuns: 1 })[0]!;
        await fake.deliverPending({ order });
        fake.deliveryMode = 'immediate';
        await allProcessed();
        const a = await account(user.cookie);
        const grants = (await transactions(user.cookie)).filter((t) => t.kind === 'plan_grant');
        expect(grants).toHaveLength(1);
        finalStates.push(JSON.stringify({ plan: a.plan, credits: a.credits }));
      }),
      { numRuns: 8, seed: 20261207 },
    );
    expect(new Set(finalStates).size).toBe(1);
    expect(JSON.parse(finalStates[0]!)).toMatchObject({ plan: { id: 'pro', status: 'active' }, credits: { available: 3000, held: 0 } });
  });
});

describe('refunds and disputes', () => {
  /** Spends `amount` of the user's credits (a captured hold, as a finished generation would). */
  const spend = async (userId: string, amount: number) => {
    const { credits, database } = server.container;
    const id = crypto.randomUUID();
    await database.db.transaction().execute((trx) => credits.reserve(trx, { userId, apiKeyId: null, expiresAt: new Date(Date.now() + 60_000), holds: [{ generationId: id, amount }] }));
    await database.db.transaction().execute((trx) => credits.capture(trx, id));
  };

  it('a 50% refund with 300 credits left takes 300 and records 200 as a loss; redelivery changes nothing (T-PAY-6)', async () => {
    const { user, paymentIntent } = await buyPack();
    await spend(user.userId, 750); // 1050 - 750 = 300 left
    const refund = await fake.refund(paymentIntent, 500);
    await allProcessed();
    expect((await account(user.cookie)).credits).toEqual({ available: 0, held: 0 });
    const reversal = (await transactions(user.cookie)).find((t) => t.kind === 'reversal')!;
    expect(reversal).toMatchObject({ available_change: -300, reference: refund.id });
    const overview = (await server.app.inject({ method: 'GET', url: '/api/billing', headers: studio(user.cookie) })).json<BillingOverview>();
    expect(overview.flagged).toBe(true);
    const refundedEvent = fake.events.find((e) => e.type === 'charge.refunded' && (e.data.object as { payment_intent: string }).payment_intent === paymentIntent)!;
    const loss = await server.container.credits.repository.listTransactions(user.userId, { beforeId: null, limit: 10 });
    expect(loss.filter((t) => t.kind === 'reversal')).toHaveLength(1);
    expect(await fake.redeliver(refundedEvent.id, { times: 3 })).toEqual([200, 200, 200]);
    await allProcessed();
    expect((await transactions(user.cookie)).filter((t) => t.kind === 'reversal')).toHaveLength(1);
    expect((await server.app.inject({ method: 'GET', url: '/api/billing/payments', headers: studio(user.cookie) })).json<{ data: Payment[] }>().data[0]!.status).toBe('partially_refunded');
  });

  it('a dispute sets the credits aside and pauses purchases; won gives them back, lost takes them for good', async () => {
    const won = await buyPack();
    const dispute = await fake.createDispute(won.paymentIntent);
    await allProcessed();
    expect((await account(won.user.cookie)).credits.available).toBe(50);
    const blocked = await checkout(won.user.cookie, { kind: 'pack', id: 'starter' });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining('dispute') } });
    await fake.closeDispute(dispute.id, 'won');
    await allProcessed();
    expect((await account(won.user.cookie)).credits.available).toBe(1050);
    expect((await server.app.inject({ method: 'GET', url: '/api/billing', headers: studio(won.user.cookie) })).json<BillingOverview>().flagged).toBe(false);

    const lost = await buyPack();
    await spend(lost.user.userId, 400); // 650 left of the 1000 bought (plus the 50 allowance)
    const d2 = await fake.createDispute(lost.paymentIntent);
    await allProcessed();
    expect((await account(lost.user.cookie)).credits.available).toBe(0);
    await fake.closeDispute(d2.id, 'lost');
    await allProcessed();
    expect((await account(lost.user.cookie)).credits).toEqual({ available: 0, held: 0 });
    const kinds = (await transactions(lost.user.cookie)).map((t) => t.kind);
    expect(kinds.filter((k) => k === 'dispute_hold')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'dispute_reversal')).toHaveLength(1);
  });
});

describe('reconciliation', () => {
  it('applies events Stripe failed to deliver, exactly once (T-PAY-4)', async () => {
    const user = await signUp(server.app);
    const sessionId = sessionOf((await checkout(user.cookie, { kind: 'pack', id: 'starter' })).json<{ url: string }>().url);
    fake.failDeliveries(100);
    await fake.completeCheckout(sessionId);
    fake.failDeliveries(0);
    expect((await account(user.cookie)).credits.available).toBe(50);
    const first = await server.container.billing.reconcile();
    expect(first.replayed).toBeGreaterThanOrEqual(1);
    await allProcessed();
    expect((await account(user.cookie)).credits.available).toBe(1050);
    const second = await server.container.billing.reconcile();
    expect(second.replayed).toBe(0);
    await allProcessed();
    expect((await transactions(user.cookie)).filter((t) => t.kind === 'purchase')).toHaveLength(1);
  });
});

describe('without Stripe', () => {
  it('payments are off, the free tier still works', async () => {
    const plain = await startTestServer({ env: { SIGNUP_CREDITS: '0', FREE_MONTHLY_CREDITS: '75' }, work: false });
    try {
      const user = await signUp(plain.app);
      const overview = (await plain.app.inject({ method: 'GET', url: '/api/billing', headers: studio(user.cookie) })).json<BillingOverview>();
      expect(overview).toMatchObject({ payments_enabled: false, packs: [], plans: [], free: { monthly_credits: 75 }, has_billing_account: false });
      const res = await plain.app.inject({ method: 'POST', url: '/api/billing/checkout', headers: studio(user.cookie, json), payload: { kind: 'pack', id: 'starter' } });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_state', message: expect.stringContaining('Payments are not set up') } });
      expect((await plain.app.inject({ method: 'GET', url: '/api/account', headers: studio(user.cookie) })).json<Account>()).toMatchObject({ payments_enabled: false, credits: { available: 75, held: 0 } });
      const hook = await plain.app.inject({ method: 'POST', url: '/api/billing/stripe/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, payload: '{}' });
      expect(hook.statusCode).toBe(409);
    } finally {
      await plain.close();
    }
  });
});
