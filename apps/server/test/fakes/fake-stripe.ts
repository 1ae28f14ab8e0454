import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Stripe from 'stripe';
import { listenOnLoopback, readBody } from './fake-bfl-http.ts';
import { createApi } from './fake-stripe-api.ts';
import { createEventBus } from './fake-stripe-events.ts';
import type { DeliveryOrder, EventRequest, FakeDelivery } from './fake-stripe-events.ts';
import { createFlows } from './fake-stripe-flows.ts';
import type { Outcome } from './fake-stripe-flows.ts';
import { StripeApiError, canonical, parseForm } from './fake-stripe-form.ts';
import type { Params, StripeErrorBody } from './fake-stripe-form.ts';
import { newPrice, newProduct } from './fake-stripe-objects.ts';
import { handlePage } from './fake-stripe-pages.ts';
import { createStore, toJson } from './fake-stripe-store.ts';
import type { JsonObject } from './fake-stripe-store.ts';

export type { DeliveryOrder, FakeDelivery } from './fake-stripe-events.ts';

/**
 * A contract-faithful Stripe on loopback for the billing tests, spoken to with the official `stripe`
 * SDK (`new Stripe(fake.apiKey, fake.clientOptions())`). It models API version `Stripe.API_VERSION` of
 * the installed SDK (2026-10-28.endive for stripe@23.1.0) and nothing older: object shapes follow the
 * SDK's types, requests use Stripe's form encoding, errors and idempotency behave as documented, and
 * webhooks are real signed POSTs. Test-side methods act as the customer or as Stripe's own systems.
 * Helpers return snapshots (JSON as on the wire: decimal fields are strings).
 */

export interface FakeStripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Record<string, unknown>;
}

/** A response the fake gives instead of handling a request: an error, or a dropped connection. */
export type FakeStripeFault =
  | { kind: 'error'; status: number; type?: StripeErrorBody['type']; code?: string; message?: string; /** Stored for idempotent replay (Stripe stores 5xx). Default: status >= 500. */ stored?: boolean }
  /** `before`: the request never runs; `after`: it runs (and is stored for replay) but the response is lost. */
  | { kind: 'drop'; when: 'before' | 'after' };

export interface FakeStripe {
  url: string;
  /** 'sk_test_fake_…' — the only key the server accepts. */
  apiKey: string;
  /** Options for `new Stripe(apiKey, clientOptions())`. */
  clientOptions(): { host: string; port: number; protocol: 'http' };
  /** Where events are POSTed, signed with `secret`. Events created before an endpoint exists are never delivered. */
  setWebhookEndpoint(url: string, secret: string): void;
  createPrice(p: { id?: string; unit_amount: number; currency: string; product_name: string; recurring?: { interval: 'month' | 'year' } }): Stripe.Price;
  /** Pressing Pay on the hosted page (card, or a bank debit that confirms later with `asyncPayment`). */
  completeCheckout(sessionId: string, opts?: { asyncPayment?: boolean; email?: string }): Promise<void>;
  succeedAsyncPayment(sessionId: string): Promise<void>;
  failAsyncPayment(sessionId: string): Promise<void>;
  /** The next period: items advance and a `subscription_cycle` invoice is paid. */
  renewSubscription(subscriptionId: string): Promise<Stripe.Invoice>;
  /** The next period's invoice fails: invoice open, subscription `past_due`. */
  failInvoicePayment(subscriptionId: string): Promise<Stripe.Invoice>;
  /** A retry of an open invoice that succeeds (the subscription returns to `active`). */
  payInvoice(invoiceId: string): Promise<Stripe.Invoice>;
  /** Immediately (`customer.subscription.deleted`) or at period end (`customer.subscription.updated`). */
  cancelSubscription(subscriptionId: string, opts?: { atPeriodEnd?: boolean }): Promise<void>;
  refund(paymentIntentOrChargeId: string, amount?: number): Promise<Stripe.Refund>;
  createDispute(chargeOrPaymentIntentId: string, amount?: number): Promise<Stripe.Dispute>;
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): Promise<void>;
  /** immediate: each action delivers its events before it resolves; manual: they wait for deliverPending(). */
  deliveryMode: 'immediate' | 'manual';
  /** Delivers every event not yet delivered successfully (queued, or failed earlier: Stripe's retries), in Stripe's order unless `order` says otherwise. */
  deliverPending(opts?: { order?: DeliveryOrder; concurrently?: boolean }): Promise<void>;
  /** Events waiting for a successful delivery, oldest first. */
  pendingEvents(): Stripe.Event[];
  /** The next n automatic delivery attempts are not made (recorded with status null); replaces any earlier count, so 0 stops it. */
  failDeliveries(n: number): void;
  /** Sends the event again (`times`, one after another or all at once); returns the status codes (0 = no response). */
  redeliver(eventId: string, opts?: { times?: number; concurrently?: boolean }): Promise<number[]>;
  /** Every event created, oldest first. */
  events: Stripe.Event[];
  deliveries: FakeDelivery[];
  /** Every API request (`/v1/…`), oldest first. */
  requests: FakeStripeRequest[];
  /** The next `times` API requests matching `match` get `fault` instead. */
  injectFault(fault: FakeStripeFault, match?: { method?: string; path?: string | RegExp }, times?: number): void;
  /** A snapshot of any object by id (as GET would return it, without expansions). */
  getObject<T = JsonObject>(id: string): T | undefined;
  /** Resolves once deliveries caused by API requests have been made. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface FakeStripeOptions {
  webhookUrl?: string;
  webhookSecret?: string;
  /** Clock for `created`, periods and expiry (ms). Signatures always use the real clock, as receivers check against theirs. */
  now?: () => number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const API_VERSION = Stripe.API_VERSION;

export async function createFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const apiKey = `sk_test_fake_${randomBytes(12).toString('hex')}`;
  const store = createStore(opts.now ?? Date.now);
  const bus = createEventBus(store, opts.webhookUrl ? { url: opts.webhookUrl, secret: opts.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}` } : null);
  const flows = createFlows(store, bus);
  const api = createApi(store, bus, flows);
  const requests: FakeStripeRequest[] = [];
  const idempotent = new Map<string, { fingerprint: string; status: number; body: string; requestId: string }>();
  const faults: { fault: FakeStripeFault; method?: string; path?: string | RegExp; left: number }[] = [];

  const run = async <T>(outcome: Outcome<T>): Promise<T> => {
    await bus.dispatch(outcome.events);
    return outcome.result;
  };
  /** Events caused by API requests go out after the response, as Stripe's do. */
  const dispatchLater = (events: Stripe.Event[]) => {
    if (events.length > 0) void bus.dispatch(events).catch(() => undefined);
  };
  const refreshSession = (id: string) => {
    const session = store.get('checkout_session', id);
    if (session) dispatchLater(flows.expireIfDue(session));
  };
  const snapshot = <T>(obj: object): T => toJson(obj) as unknown as T;

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string>) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'stripe-version': API_VERSION, ...headers });
    res.end(body);
  };
  const errorJson = (e: StripeErrorBody) => JSON.stringify({ error: e }, null, 2);

  const authorise = (req: IncomingMessage): StripeApiError | null => {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
    const key = bearer ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').replace(/:.*$/, '') : undefined);
    if (!key) {
      return new StripeApiError(401, { type: 'invalid_request_error', message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/." });
    }
    if (key !== apiKey) return new StripeApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` });
    return null;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const requestId = `req_${randomBytes(7).toString('hex')}`;
    const raw = await readBody(req, MAX_BODY_BYTES);
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = (Array.isArray(keyHeader) ? keyHeader[0] : keyHeader) ?? null;
    const headers: Record<string, string> = { 'request-id': requestId };
    let params: Params = {};
    const fail = (e: StripeApiError) => send(res, e.status, errorJson(e.body), headers);
    try {
      params = parseForm(method === 'POST' ? raw : url.search.slice(1));
    } catch (e) {
      requests.push({ method, path: url.pathname, idempotencyKey, params: {} });
      if (e instanceof StripeApiError) return fail(e);
      throw e;
    }
    requests.push({ method, path: url.pathname, idempotencyKey, params });
    const authError = authorise(req);
    if (authError) return fail(authError);
    const version = req.headers['stripe-version'];
    if (version !== undefined && version !== API_VERSION) {
      return fail(new StripeApiError(400, { type: 'invalid_request_error', message: `The fake Stripe models only API version ${API_VERSION}; this request asked for ${String(version)}.` }));
    }
    if (method === 'POST' && idempotencyKey !== null) {
      headers['idempotency-key'] = idempotencyKey;
      if (idempotencyKey.length > 255) return fail(new StripeApiError(400, { type: 'invalid_request_error', message: 'Invalid Idempotency-Key: must be at most 255 characters long.' }));
      const fingerprint = `${method} ${url.pathname} ${canonical(params)}`;
      const saved = idempotent.get(idempotencyKey);
      if (saved) {
        if (saved.fingerprint !== fingerprint) {
          return fail(new StripeApiError(400, { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.` }));
        }
        return send(res, saved.status, saved.body, { ...headers, 'idempotent-replayed': 'true', 'original-request': saved.requestId });
      }
    }
    const remember = (status: number, body: string) => {
      if (method === 'POST' && idempotencyKey !== null) idempotent.set(idempotencyKey, { fingerprint: `${method} ${url.pathname} ${canonical(params)}`, status, body, requestId });
    };
    if (method === 'POST' && idempotencyKey !== null) headers['original-request'] = requestId;

    const faultIndex = faults.findIndex((f) => (f.method === undefined || f.method === method) && (f.path === undefined || (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname))));
    const fault = faultIndex >= 0 ? faults[faultIndex]!.fault : undefined;
    if (fault && --faults[faultIndex]!.left <= 0) faults.splice(faultIndex, 1);
    if (fault?.kind === 'drop' && fault.when === 'before') return void req.socket.destroy();
    if (fault?.kind === 'error') {
      const body = errorJson({ type: fault.type ?? (fault.status >= 500 ? 'api_error' : 'invalid_request_error'), ...(fault.code ? { code: fault.code } : {}), message: fault.message ?? 'An unknown error occurred' });
      if (fault.stored ?? fault.status >= 500) remember(fault.status, body);
      return send(res, fault.status, body, headers);
    }

    const ctx: { request: EventRequest } = { request: { id: requestId, idempotency_key: idempotencyKey } };
    let status: number;
    let body: string;
    try {
      const result = api.handle(method, url.pathname, params, ctx);
      status = result.status;
      body = JSON.stringify(result.body, null, 2);
      remember(status, body);
      dispatchLater(result.events);
    } catch (e) {
      if (!(e instanceof StripeApiError)) {
        status = 500;
        body = errorJson({ type: 'api_error', message: `Fake Stripe internal error: ${e instanceof Error ? e.message : String(e)}` });
        remember(status, body);
      } else {
        status = e.status;
        body = errorJson(e.body);
        if (e.saved) remember(status, body);
      }
    }
    if (fault?.kind === 'drop') return void req.socket.destroy();
    send(res, status, body, headers);
  };

  const pageActions = {
    pay: async (id: string, method: 'card' | 'bank_debit', email: string | undefined) => void (await run(flows.completeCheckout(id, method, email))),
    cancelAtPeriodEnd: async (id: string) => void (await run(flows.cancel(id, true, null))),
    renew: async (id: string) => void (await run(flows.resume(id, null))),
    payInvoice: async (id: string) => void (await run(flows.payInvoice(id))),
    refreshSession,
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    try {
      if (url.pathname.startsWith('/v1/')) return await handleApi(req, res, url);
      const raw = req.method === 'POST' ? await readBody(req, MAX_BODY_BYTES) : '';
      const page = await handlePage(store, pageActions, req.method ?? 'GET', url.pathname, new URLSearchParams(raw));
      if (!page) return send(res, 404, errorJson({ type: 'invalid_request_error', message: `Unrecognized request URL (${req.method ?? 'GET'}: ${url.pathname}).` }), {});
      res.writeHead(page.status, { 'content-type': page.contentType, 'content-length': String(Buffer.byteLength(page.body)), 'cache-control': 'no-store', ...page.headers });
      res.end(page.body);
    } catch (e) {
      if (!res.headersSent) send(res, 500, errorJson({ type: 'api_error', message: e instanceof Error ? e.message : String(e) }), {});
      else res.destroy();
    }
  };
  const listening = await listenOnLoopback((req, res) => void handler(req, res));
  store.baseUrl = listening.url;
  const port = Number(new URL(listening.url).port);

  return {
    url: listening.url,
    apiKey,
    clientOptions: () => ({ host: '127.0.0.1', port, protocol: 'http' }),
    setWebhookEndpoint: (url, secret) => bus.setEndpoint(url, secret),
    createPrice: (p) => {
      const product = newProduct(store, p.product_name);
      if (p.id && store.lookup(p.id)) throw new Error(`createPrice: id ${p.id} is taken`);
      const price = newPrice(store, { id: p.id, unit_amount: p.unit_amount, currency: p.currency, product: product.id, recurring: p.recurring });
      product.default_price = price.id;
      return snapshot<Stripe.Price>(price);
    },
    completeCheckout: async (sessionId, o = {}) => {
      refreshSession(sessionId);
      await run(flows.completeCheckout(sessionId, o.asyncPayment ? 'bank_debit' : 'card', o.email));
    },
    succeedAsyncPayment: async (id) => void (await run(flows.settleAsync(id, true))),
    failAsyncPayment: async (id) => void (await run(flows.settleAsync(id, false))),
    renewSubscription: async (id) => snapshot<Stripe.Invoice>(await run(flows.cycle(id, true))),
    failInvoicePayment: async (id) => snapshot<Stripe.Invoice>(await run(flows.cycle(id, false))),
    payInvoice: async (id) => snapshot<Stripe.Invoice>(await run(flows.payInvoice(id))),
    cancelSubscription: async (id, o = {}) => void (await run(flows.cancel(id, o.atPeriodEnd ?? false, null))),
    refund: async (id, amount) => snapshot<Stripe.Refund>(await run(flows.refund(id, amount, { reason: null, metadata: {}, request: null }))),
    createDispute: async (id, amount) => snapshot<Stripe.Dispute>(await run(flows.dispute(id, amount))),
    closeDispute: async (id, outcome) => void (await run(flows.closeDispute(id, outcome))),
    get deliveryMode() {
      return bus.mode;
    },
    set deliveryMode(mode) {
      bus.mode = mode;
    },
    deliverPending: (o) => bus.deliverPending(o),
    pendingEvents: () => bus.pending(),
    failDeliveries: (n) => bus.failDeliveries(n),
    redeliver: (id, o) => bus.redeliver(id, o),
    events: bus.events,
    deliveries: bus.deliveries,
    requests,
    injectFault: (fault, match = {}, times = 1) => void faults.push({ fault, ...match, left: times }),
    getObject: <T>(id: string) => {
      const found = store.lookup(id);
      return found ? (toJson(found.obj) as T) : undefined;
    },
    idle: () => bus.idle(),
    close: async () => {
      await bus.idle();
      await listening.close();
    },
  };
}
