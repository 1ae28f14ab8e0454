import type Stripe from 'stripe';
import { newCheckoutSession, newLineItem, newPortalSession } from './fake-stripe-billing.ts';
import type { EventBus, EventRequest } from './fake-stripe-events.ts';
import type { Flows } from './fake-stripe-flows.ts';
import {
  StripeApiError, checkKeys, createdFilter, expandParam, invalid, metadataParam, missingParam, optArray, optBool, optInt, optObject, optString, reqString,
} from './fake-stripe-form.ts';
import type { Params } from './fake-stripe-form.ts';
import { newCustomer, newPrice, newProduct } from './fake-stripe-objects.ts';
import { expand, listPage, toJson } from './fake-stripe-store.ts';
import type { Includables, JsonObject, Kind, Store } from './fake-stripe-store.ts';

/**
 * The REST endpoints Atelier uses, with Stripe's parameter checks and messages. Handlers change state
 * synchronously and return the events they caused; the server delivers those after answering, as
 * Stripe does. Parameters Stripe knows but the fake does not model are accepted and ignored.
 */

export interface ApiResult {
  status: number;
  body: JsonObject;
  events: Stripe.Event[];
}
export interface ApiContext {
  request: EventRequest;
}
type Handler = (params: Params, ctx: ApiContext, ids: string[]) => ApiResult;

const SESSION_CREATE_KEYS = ['adaptive_pricing', 'after_expiration', 'allow_promotion_codes', 'allowed_payment_method_types', 'automatic_tax', 'billing_address_collection', 'branding_settings', 'cancel_url', 'client_reference_id', 'consent_collection', 'currency', 'custom_fields', 'custom_text', 'customer', 'customer_account', 'customer_creation', 'customer_email', 'customer_update', 'discounts', 'excluded_payment_method_types', 'expand', 'expires_at', 'integration_identifier', 'invoice_creation', 'line_items', 'locale', 'managed_payments', 'metadata', 'mode', 'name_collection', 'optional_items', 'origin_context', 'payment_intent_data', 'payment_method_collection', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'permissions', 'phone_number_collection', 'redirect_on_completion', 'return_url', 'saved_payment_method_options', 'setup_intent_data', 'shipping_address_collection', 'shipping_options', 'submit_type', 'subscription_data', 'success_url', 'tax_id_collection', 'ui_mode', 'wallet_options'];
const CUSTOMER_CREATE_KEYS = ['address', 'balance', 'business_name', 'cash_balance', 'description', 'email', 'expand', 'individual_name', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'payment_method', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'tax_id_data', 'test_clock', 'validate'];
const PORTAL_CREATE_KEYS = ['after_expiration', 'configuration', 'customer', 'customer_account', 'expand', 'flow_data', 'locale', 'on_behalf_of', 'return_url'];
const SUBSCRIPTION_UPDATE_KEYS = ['add_invoice_items', 'application_fee_percent', 'automatic_tax', 'billing_cycle_anchor', 'billing_schedules', 'billing_thresholds', 'cancel_at', 'cancel_at_period_end', 'cancellation_details', 'collection_method', 'days_until_due', 'default_payment_method', 'default_source', 'default_tax_rates', 'description', 'discounts', 'expand', 'invoice_settings', 'items', 'metadata', 'off_session', 'on_behalf_of', 'pause_collection', 'payment_behavior', 'payment_settings', 'pending_invoice_item_interval', 'proration_behavior', 'proration_date', 'transfer_data', 'trial_end', 'trial_from_plan', 'trial_settings'];
const PRICE_CREATE_KEYS = ['currency', 'active', 'billing_scheme', 'custom_unit_amount', 'expand', 'lookup_key', 'metadata', 'nickname', 'product', 'product_data', 'recurring', 'tax_behavior', 'tiers', 'tiers_mode', 'transfer_lookup_key', 'transform_quantity', 'unit_amount', 'unit_amount_decimal'];
const REFUND_CREATE_KEYS = ['amount', 'charge', 'currency', 'customer', 'expand', 'instructions_email', 'metadata', 'origin', 'payment_intent', 'reason', 'refund_application_fee', 'reverse_transfer'];
const PAGE_KEYS = ['limit', 'starting_after', 'ending_before', 'expand'];
const THIRTY_DAYS_S = 30 * 86_400;

export function createApi(store: Store, bus: EventBus, flows: Flows) {
  const includables: Includables = (objectType, obj, field) => {
    const id = String(obj.id);
    if (objectType === 'checkout.session' && field === 'line_items') {
      return listPage(store.sessions.get(id)?.lineItems ?? [], {}, `/v1/checkout/sessions/${id}/line_items`, toJson, 'line_item');
    }
    if (objectType === 'invoice' && field === 'payments') {
      return listPage(store.all('invoice_payment').filter((p) => p.invoice === id), { limit: '100' }, `/v1/invoices/${id}/payments`, toJson, 'invoice_payment');
    }
    if (objectType === 'charge' && field === 'refunds') {
      return listPage(store.all('refund').filter((r) => r.charge === id), { limit: '100' }, `/v1/charges/${id}/refunds`, toJson, 'refund');
    }
    return undefined;
  };
  const render = (obj: object, params: Params): JsonObject => expand(toJson(obj), expandParam(params), store, includables);
  const ok = (obj: object, params: Params, events: Stripe.Event[] = []): ApiResult => ({ status: 200, body: render(obj, params), events });
  const list = <T extends { id: string }>(items: readonly T[], params: Params, url: string, label: string): ApiResult => {
    const paths = expandParam(params).map((p) => {
      if (!p.startsWith('data.')) throw invalid(`This property cannot be expanded (${p}). You may want to try expanding 'data.${p}' instead.`, 'expand');
      return p.slice('data.'.length);
    });
    return { status: 200, body: listPage(items, params, url, (item) => expand(toJson(item), paths, store, includables), label), events: [] };
  };
  const retrieve = <K extends Kind>(kind: K): Handler => (params, _ctx, [id]) => {
    checkKeys(params, ['expand']);
    return ok(store.need(kind, id!), params);
  };

  const createCheckoutSession: Handler = (params) => {
    checkKeys(params, SESSION_CREATE_KEYS);
    const mode = optString(params, 'mode');
    if (!mode) throw missingParam('mode');
    if (mode !== 'payment' && mode !== 'subscription') {
      if (mode === 'setup') throw invalid('The fake Stripe does not model setup mode.', 'mode');
      throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, 'mode');
    }
    const customerId = optString(params, 'customer');
    const customerEmail = optString(params, 'customer_email');
    if (customerId && customerEmail) throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
    const customer = customerId ? store.need('customer', customerId, 'customer') : null;
    const uiMode = optString(params, 'ui_mode');
    if (uiMode !== undefined && uiMode !== 'hosted') throw invalid('The fake Stripe models only ui_mode=hosted.', 'ui_mode');
    const successUrl = optString(params, 'success_url');
    const cancelUrl = optString(params, 'cancel_url');
    for (const [name, value] of [['success_url', successUrl], ['cancel_url', cancelUrl]] as const) {
      if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) throw invalid('Not a valid URL', name, 'url_invalid');
    }
    const clientReferenceId = optString(params, 'client_reference_id');
    if (clientReferenceId !== undefined && clientReferenceId.length > 200) throw invalid('client_reference_id must be at most 200 characters.', 'client_reference_id');
    const rawItems = optArray(params, 'line_items');
    if (!rawItems || rawItems.length === 0) throw invalid(mode === 'subscription' ? 'You must provide at least one recurring price in `subscription` mode when using prices.' : 'You must specify either `line_items` or `price_data`... in `payment` mode.', 'line_items');
    const lineItems = rawItems.map((raw, i) => {
      const name = `line_items[${i}]`;
      if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Invalid object', name);
      checkKeys(raw, ['adjustable_quantity', 'dynamic_tax_rates', 'metadata', 'price', 'price_data', 'quantity', 'tax_rates'], name);
      if (raw.price_data !== undefined) throw invalid('The fake Stripe does not model inline price_data; create a Price first.', `${name}[price_data]`);
      const price = store.need('price', reqString(raw, 'price', `${name}[price]`), `${name}[price]`);
      if (!price.active) throw invalid(`The price specified is inactive. This field only accepts active prices.`, `${name}[price]`);
      const quantity = optInt(raw, 'quantity', `${name}[quantity]`);
      if (quantity === undefined) throw missingParam(`${name}[quantity]`);
      if (quantity < 1) throw invalid('This value must be greater than or equal to 1.', `${name}[quantity]`);
      if (mode === 'payment' && price.recurring) throw invalid('You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.', `${name}[price]`);
      return newLineItem(store, price, quantity);
    });
    if (new Set(lineItems.map((li) => li.currency)).size > 1) throw invalid('All line items must have the same currency.', 'line_items');
    if (mode === 'subscription' && !lineItems.some((li) => li.price?.recurring)) throw invalid('You must provide at least one recurring price in `subscription` mode when using prices.', 'line_items');
    if (mode === 'subscription' && lineItems.filter((li) => li.price?.recurring).length > 1) throw invalid('The fake Stripe models one recurring price per subscription.', 'line_items');
    const pid = optObject(params, 'payment_intent_data');
    const sd = optObject(params, 'subscription_data');
    if (pid && mode !== 'payment') throw invalid('You can not pass `payment_intent_data` in `subscription` mode.', 'payment_intent_data');
    if (sd && mode !== 'subscription') throw invalid('You can not pass `subscription_data` in `payment` mode.', 'subscription_data');
    const now = store.nowS();
    const expiresAt = optInt(params, 'expires_at') ?? now + 86_400;
    if (expiresAt < now + 1800 || expiresAt > now + 86_400) throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
    const session = newCheckoutSession(store, {
      mode, customer, customerEmail: customerEmail ?? null, clientReferenceId: clientReferenceId ?? null, successUrl: successUrl ?? null, cancelUrl: cancelUrl ?? null,
      metadata: metadataParam(params, 'metadata') ?? {}, lineItems, expiresAt, locale: (optString(params, 'locale') ?? null) as Stripe.Checkout.Session.Locale | null,
    });
    store.sessions.set(session.id, {
      lineItems, asyncPending: false,
      paymentIntentMetadata: (pid && metadataParam(pid, 'metadata', {}, 'payment_intent_data[metadata]')) ?? {},
      subscriptionMetadata: (sd && metadataParam(sd, 'metadata', {}, 'subscription_data[metadata]')) ?? {},
    });
    return ok(session, params);
  };

  const getSession: Handler = (params, _ctx, [id]) => {
    checkKeys(params, ['expand']);
    const session = store.need('checkout_session', id!);
    return ok(session, params, flows.expireIfDue(session));
  };

  const sessionLineItems: Handler = (params, _ctx, [id]) => {
    checkKeys(params, PAGE_KEYS);
    store.need('checkout_session', id!);
    return list(store.sessions.get(id!)?.lineItems ?? [], params, `/v1/checkout/sessions/${id!}/line_items`, 'line_item');
  };

  const listSessions: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'created', 'customer', 'customer_account', 'customer_details', 'payment_intent', 'payment_link', 'status', 'subscription']);
    const f = { customer: optString(params, 'customer'), payment_intent: optString(params, 'payment_intent'), status: optString(params, 'status'), subscription: optString(params, 'subscription') };
    const created = createdFilter(params);
    const events = store.all('checkout_session').flatMap((s) => flows.expireIfDue(s));
    const items = store.all('checkout_session').filter((s) => (f.customer === undefined || s.customer === f.customer) && (f.payment_intent === undefined || s.payment_intent === f.payment_intent)
      && (f.status === undefined || s.status === f.status) && (f.subscription === undefined || s.subscription === f.subscription) && created(s.created));
    return { ...list(items, params, '/v1/checkout/sessions', 'checkout.session'), events };
  };

  const expireSession: Handler = (params, ctx, [id]) => {
    checkKeys(params, ['expand']);
    const session = store.need('checkout_session', id!);
    const due = flows.expireIfDue(session);
    if (due.length > 0) return ok(session, params, due);
    const { result, events } = flows.expireSession(id!, ctx.request);
    return ok(result, params, events);
  };

  const createCustomer: Handler = (params, ctx) => {
    checkKeys(params, CUSTOMER_CREATE_KEYS);
    const email = optString(params, 'email');
    if (email !== undefined && email !== '' && !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid(`Invalid email address: ${email}`, 'email', 'email_invalid');
    const customer = newCustomer(store, { email: email || null, name: optString(params, 'name') || null, description: optString(params, 'description') || null, metadata: metadataParam(params, 'metadata') ?? {} });
    return ok(customer, params, [bus.emit('customer.created', customer, { request: ctx.request })]);
  };

  const listCustomers: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'created', 'email', 'test_clock']);
    const email = optString(params, 'email');
    const created = createdFilter(params);
    return list(store.all('customer').filter((c) => (email === undefined || c.email === email) && created(c.created)), params, '/v1/customers', 'customer');
  };

  const createPrice: Handler = (params, ctx) => {
    checkKeys(params, PRICE_CREATE_KEYS);
    const currency = reqString(params, 'currency');
    const unitAmount = optInt(params, 'unit_amount');
    if (unitAmount === undefined) throw invalid('The fake Stripe models only unit_amount prices.', 'unit_amount');
    let productId = optString(params, 'product');
    const productData = optObject(params, 'product_data');
    const events: Stripe.Event[] = [];
    if (productId) store.need('product', productId, 'product');
    else if (productData) {
      const product = newProduct(store, reqString(productData, 'name', 'product_data[name]'));
      events.push(bus.emit('product.created', product, { request: ctx.request }));
      productId = product.id;
    } else throw invalid('You must specify either `product` or `product_data` when creating a price.', 'product');
    const recurring = optObject(params, 'recurring');
    const interval = recurring ? reqString(recurring, 'interval', 'recurring[interval]') : undefined;
    if (interval !== undefined && interval !== 'month' && interval !== 'year') throw invalid('The fake Stripe models monthly and yearly prices.', 'recurring[interval]');
    const price = newPrice(store, {
      unit_amount: unitAmount, currency, product: productId, recurring: interval ? { interval } : undefined, metadata: metadataParam(params, 'metadata'),
      nickname: optString(params, 'nickname') ?? null, lookup_key: optString(params, 'lookup_key') ?? null,
    });
    events.push(bus.emit('price.created', price, { request: ctx.request }));
    return ok(price, params, events);
  };

  const createPortalSession: Handler = (params) => {
    checkKeys(params, PORTAL_CREATE_KEYS);
    const customer = store.need('customer', reqString(params, 'customer'), 'customer');
    const returnUrl = optString(params, 'return_url');
    if (returnUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(returnUrl)) throw invalid('Not a valid URL', 'return_url', 'url_invalid');
    if (params.flow_data !== undefined) throw invalid('The fake Stripe does not model portal flows.', 'flow_data');
    return ok(newPortalSession(store, customer.id, returnUrl ?? null), params);
  };

  const updateSubscription: Handler = (params, ctx, [id]) => {
    checkKeys(params, SUBSCRIPTION_UPDATE_KEYS);
    const sub = store.need('subscription', id!);
    const metadata = metadataParam(params, 'metadata', sub.metadata);
    const cancelAtPeriodEnd = optBool(params, 'cancel_at_period_end');
    if (sub.status === 'canceled' && cancelAtPeriodEnd !== undefined) throw invalid('A canceled subscription can only update its cancellation_details and metadata.', 'cancel_at_period_end');
    const events: Stripe.Event[] = [];
    const previousMetadata = metadata && JSON.stringify(metadata) !== JSON.stringify(sub.metadata) ? { ...sub.metadata } : undefined;
    if (metadata) sub.metadata = metadata;
    if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== sub.cancel_at_period_end) {
      events.push(...(cancelAtPeriodEnd ? flows.cancel(sub.id, true, ctx.request) : flows.resume(sub.id, ctx.request)).events);
      const prev = events[0]?.data.previous_attributes as Record<string, unknown> | undefined;
      if (prev && previousMetadata) prev.metadata = previousMetadata;
    } else if (previousMetadata) events.push(bus.emit('customer.subscription.updated', sub, { previous: { metadata: previousMetadata }, request: ctx.request }));
    return ok(sub, params, events);
  };

  const deleteSubscription: Handler = (params, ctx, [id]) => {
    checkKeys(params, ['cancellation_details', 'expand', 'invoice_now', 'prorate']);
    const { result, events } = flows.cancel(store.need('subscription', id!).id, false, ctx.request);
    return ok(result, params, events);
  };

  const listSubscriptions: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'automatic_tax', 'collection_method', 'created', 'current_period_end', 'current_period_start', 'customer', 'customer_account', 'plan', 'price', 'status', 'test_clock']);
    const customer = optString(params, 'customer');
    const price = optString(params, 'price');
    const status = optString(params, 'status');
    const created = createdFilter(params);
    const items = store.all('subscription').filter((s) => (customer === undefined || s.customer === customer) && (price === undefined || s.items.data.some((i) => i.price.id === price)) && created(s.created)
      // Stripe leaves canceled subscriptions out unless asked for them (status=canceled, ended or all).
      && (status === 'all' || (status === undefined ? s.status !== 'canceled' && s.status !== 'incomplete_expired' : status === 'ended' ? s.status === 'canceled' || s.status === 'incomplete_expired' : s.status === status)));
    return list(items, params, '/v1/subscriptions', 'subscription');
  };

  const listInvoices: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'collection_method', 'created', 'customer', 'customer_account', 'due_date', 'status', 'subscription']);
    const customer = optString(params, 'customer');
    const subscription = optString(params, 'subscription');
    const status = optString(params, 'status');
    const created = createdFilter(params);
    const items = store.all('invoice').filter((i) => (customer === undefined || i.customer === customer) && (status === undefined || i.status === status) && created(i.created)
      && (subscription === undefined || i.parent?.subscription_details?.subscription === subscription));
    return list(items, params, '/v1/invoices', 'invoice');
  };

  const invoiceLines: Handler = (params, _ctx, [id]) => {
    checkKeys(params, PAGE_KEYS);
    return list(store.need('invoice', id!).lines.data, params, `/v1/invoices/${id!}/lines`, 'line_item');
  };

  const listInvoicePayments: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'created', 'invoice', 'payment', 'status']);
    const invoice = optString(params, 'invoice');
    const payment = optObject(params, 'payment');
    const pi = payment ? optString(payment, 'payment_intent', 'payment[payment_intent]') : undefined;
    const status = optString(params, 'status');
    const items = store.all('invoice_payment').filter((p) => (invoice === undefined || p.invoice === invoice) && (pi === undefined || p.payment.payment_intent === pi) && (status === undefined || p.status === status));
    return list(items, params, '/v1/invoice_payments', 'invoice_payment');
  };

  const createRefund: Handler = (params, ctx) => {
    checkKeys(params, REFUND_CREATE_KEYS);
    const charge = optString(params, 'charge');
    const pi = optString(params, 'payment_intent');
    if (!charge && !pi) throw invalid('One of the following params should be provided for this request: payment_intent or charge.', undefined, 'parameter_missing');
    if (charge && pi) throw invalid('You may only specify one of these parameters: charge, payment_intent.');
    const reason = optString(params, 'reason');
    if (reason !== undefined && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) throw invalid('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', 'reason');
    const { result, events } = flows.refund((charge ?? pi)!, optInt(params, 'amount'), {
      reason: (reason ?? null) as Stripe.Refund.Reason | null, metadata: metadataParam(params, 'metadata') ?? {}, request: ctx.request, param: charge ? 'charge' : 'payment_intent',
    });
    return ok(result, params, events);
  };

  const getEvent: Handler = (params, _ctx, [id]) => {
    checkKeys(params, ['expand']);
    return { status: 200, body: toJson(store.need('event', id!)), events: [] };
  };

  const listEvents: Handler = (params) => {
    checkKeys(params, [...PAGE_KEYS, 'created', 'delivery_success', 'type', 'types']);
    const type = optString(params, 'type');
    const types = optArray(params, 'types')?.map(String);
    if (type !== undefined && types !== undefined) throw invalid('You may only specify one of these parameters: type, types.');
    const patterns = (types ?? (type === undefined ? [] : [type])).map((t) => new RegExp(`^${t.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    const delivery = optBool(params, 'delivery_success');
    const created = createdFilter(params);
    const since = store.nowS() - THIRTY_DAYS_S;
    const items = store.all('event').filter((e) => e.created >= since && created(e.created) && (patterns.length === 0 || patterns.some((p) => p.test(e.type)))
      && (delivery === undefined || bus.succeeded(e.id) === delivery));
    return list(items, params, '/v1/events', 'event');
  };

  const routes: [string, RegExp, Handler][] = [
    ['POST', /^\/v1\/customers$/, createCustomer],
    ['GET', /^\/v1\/customers$/, listCustomers],
    ['GET', /^\/v1\/customers\/([^/]+)$/, retrieve('customer')],
    ['POST', /^\/v1\/prices$/, createPrice],
    ['GET', /^\/v1\/prices\/([^/]+)$/, retrieve('price')],
    ['GET', /^\/v1\/products\/([^/]+)$/, retrieve('product')],
    ['POST', /^\/v1\/checkout\/sessions$/, createCheckoutSession],
    ['GET', /^\/v1\/checkout\/sessions$/, listSessions],
    ['GET', /^\/v1\/checkout\/sessions\/([^/]+)$/, getSession],
    ['GET', /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/, sessionLineItems],
    ['POST', /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, expireSession],
    ['POST', /^\/v1\/billing_portal\/sessions$/, createPortalSession],
    ['GET', /^\/v1\/subscriptions$/, listSubscriptions],
    ['GET', /^\/v1\/subscriptions\/([^/]+)$/, retrieve('subscription')],
    ['POST', /^\/v1\/subscriptions\/([^/]+)$/, updateSubscription],
    ['DELETE', /^\/v1\/subscriptions\/([^/]+)$/, deleteSubscription],
    ['GET', /^\/v1\/invoices$/, listInvoices],
    ['GET', /^\/v1\/invoices\/([^/]+)$/, retrieve('invoice')],
    ['GET', /^\/v1\/invoices\/([^/]+)\/lines$/, invoiceLines],
    ['GET', /^\/v1\/invoice_payments$/, listInvoicePayments],
    ['GET', /^\/v1\/invoice_payments\/([^/]+)$/, retrieve('invoice_payment')],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, retrieve('payment_intent')],
    ['GET', /^\/v1\/charges\/([^/]+)$/, retrieve('charge')],
    ['POST', /^\/v1\/refunds$/, createRefund],
    ['GET', /^\/v1\/refunds\/([^/]+)$/, retrieve('refund')],
    ['GET', /^\/v1\/disputes\/([^/]+)$/, retrieve('dispute')],
    ['GET', /^\/v1\/events$/, listEvents],
    ['GET', /^\/v1\/events\/([^/]+)$/, getEvent],
  ];

  /** Finds the handler; Stripe answers an unknown path with 404 `Unrecognized request URL`. */
  const handle = (method: string, path: string, params: Params, ctx: ApiContext): ApiResult => {
    for (const [m, pattern, handler] of routes) {
      const match = pattern.exec(path);
      if (match && m === method) return handler(params, ctx, match.slice(1).map(decodeURIComponent));
    }
    throw new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` });
  };

  return { handle, render };
}

export type Api = ReturnType<typeof createApi>;
