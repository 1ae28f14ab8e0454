import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { invalid, noSuch, optInt, optString } from './fake-stripe-form.ts';
import type { Params } from './fake-stripe-form.ts';

/**
 * The fake Stripe's in-memory account: every object by id, in creation order, plus the pieces of state
 * Stripe keeps off the object (a session's line items and the params that shape what paying creates).
 * Objects are stored in the modelled API version's shape and rendered to JSON on the way out,
 * with `expand[]` applied the way the API does.
 */

export interface Tables {
  customer: Stripe.Customer;
  product: Stripe.Product;
  price: Stripe.Price;
  checkout_session: Stripe.Checkout.Session;
  billing_portal_session: Stripe.BillingPortal.Session;
  payment_intent: Stripe.PaymentIntent;
  charge: Stripe.Charge;
  refund: Stripe.Refund;
  dispute: Stripe.Dispute;
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
  invoice_payment: Stripe.InvoicePayment;
  balance_transaction: Stripe.BalanceTransaction;
  event: Stripe.Event;
}
export type Kind = keyof Tables;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** What a Checkout Session was created with that Stripe applies only when it is paid. */
export interface SessionExtras {
  lineItems: Stripe.LineItem[];
  paymentIntentMetadata: Record<string, string>;
  subscriptionMetadata: Record<string, string>;
  /** The PaymentIntent of an async (bank debit) payment still in flight. */
  asyncPending: boolean;
}

export interface Store {
  /** The fake's own address (`http://127.0.0.1:<port>`), for URLs it hands out. */
  baseUrl: string;
  nowMs(): number;
  nowS(): number;
  id(prefix: string): string;
  insert<K extends Kind>(kind: K, obj: Tables[K]): Tables[K];
  get<K extends Kind>(kind: K, id: string): Tables[K] | undefined;
  /** The object or Stripe's `resource_missing` (404, or 400 naming `param` when it came in a parameter). */
  need<K extends Kind>(kind: K, id: string, param?: string): Tables[K];
  /** Newest first, as Stripe's list endpoints order them. */
  all<K extends Kind>(kind: K): Tables[K][];
  lookup(id: string): { kind: Kind; obj: Tables[Kind] } | undefined;
  sessions: Map<string, SessionExtras>;
  /** Hosted invoice page token → invoice id. */
  invoiceTokens: Map<string, string>;
}

export const LABELS: Record<Kind, string> = {
  customer: 'customer', product: 'product', price: 'price', checkout_session: 'checkout.session', billing_portal_session: 'billing_portal.session',
  payment_intent: 'payment_intent', charge: 'charge', refund: 'refund', dispute: 'dispute', subscription: 'subscription', invoice: 'invoice',
  invoice_payment: 'invoice_payment', balance_transaction: 'balance_transaction', event: 'event',
};

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function createStore(now: () => number): Store {
  const tables = new Map<Kind, Map<string, Tables[Kind]>>();
  const byId = new Map<string, { kind: Kind; obj: Tables[Kind]; seq: number }>();
  let seq = 0;
  const table = <K extends Kind>(kind: K): Map<string, Tables[K]> => {
    let t = tables.get(kind);
    if (!t) tables.set(kind, (t = new Map()));
    return t as Map<string, Tables[K]>;
  };
  return {
    baseUrl: '',
    nowMs: now,
    nowS: () => Math.floor(now() / 1000),
    id: (prefix) => `${prefix}_${Array.from(randomBytes(24), (b) => ALPHANUM[b % ALPHANUM.length]).join('')}`,
    insert: (kind, obj) => {
      table(kind).set(obj.id, obj);
      byId.set(obj.id, { kind, obj, seq: seq++ });
      return obj;
    },
    get: (kind, id) => table(kind).get(id),
    need: (kind, id, param) => {
      const obj = table(kind).get(id);
      if (!obj) throw noSuch(LABELS[kind], id, param);
      return obj;
    },
    all: (kind) => [...table(kind).values()].sort((a, b) => b.created - a.created || byId.get(b.id)!.seq - byId.get(a.id)!.seq),
    lookup: (id) => byId.get(id),
    sessions: new Map(),
    invoiceTokens: new Map(),
  };
}

/** A plain JSON copy, as the API would serialize it (Decimals become strings). */
export function toJson(obj: object): JsonObject {
  return JSON.parse(JSON.stringify(obj)) as JsonObject;
}

/** Fields Stripe leaves out unless expanded, computed on demand. */
export type Includables = (objectType: string, obj: JsonObject, field: string) => JsonObject | undefined;

const MAX_EXPAND_DEPTH = 4;

/** Applies `expand[]` paths to a rendered object (or list), throwing Stripe's 400 for a path that cannot expand. */
export function expand(json: JsonObject, paths: readonly string[], store: Store, includables: Includables): JsonObject {
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > MAX_EXPAND_DEPTH) throw invalid(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, 'expand');
    expandAt(json, segments, path, store, includables);
  }
  return json;
}

function expandAt(node: JsonObject, segments: string[], path: string, store: Store, includables: Includables): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (node.object === 'list' && head === 'data' && Array.isArray(node.data)) {
    for (const item of node.data) if (item && typeof item === 'object' && !Array.isArray(item)) expandAt(item, rest, path, store, includables);
    return;
  }
  const cannot = () => invalid(`This property cannot be expanded (${path}).`, 'expand');
  let value: Json | undefined = node[head];
  const included = typeof node.object === 'string' ? includables(node.object, node, head) : undefined;
  if (included) value = node[head] = included;
  else if (typeof value === 'string' && head !== 'id' && head !== 'object') {
    const found = store.lookup(value);
    if (!found) throw cannot();
    value = node[head] = toJson(found.obj);
  } else if (value === null) return;
  else if (value === undefined || typeof value !== 'object' || Array.isArray(value) || rest.length === 0) {
    // Already-expanded objects may be named again (e.g. `expand[]=customer` twice); anything else cannot expand.
    if (!(value && typeof value === 'object' && !Array.isArray(value) && typeof value.id === 'string')) throw cannot();
  }
  if (rest.length > 0 && value && typeof value === 'object' && !Array.isArray(value)) expandAt(value, rest, path, store, includables);
}

/** A list page `{ object: 'list', data, has_more, url }` with limit/starting_after/ending_before. */
export function listPage<T extends { id: string }>(items: readonly T[], params: Params, url: string, render: (item: T) => JsonObject, label: string): JsonObject {
  const limit = optInt(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid(`Invalid limit: must be between 1 and 100`, 'limit');
  const after = optString(params, 'starting_after');
  const before = optString(params, 'ending_before');
  if (after !== undefined && before !== undefined) throw invalid('You may only specify one of these parameters: ending_before, starting_after.');
  let page: readonly T[];
  let hasMore: boolean;
  if (before !== undefined) {
    const index = items.findIndex((x) => x.id === before);
    if (index < 0) throw noSuch(label, before, 'ending_before');
    page = items.slice(Math.max(0, index - limit), index);
    hasMore = index - limit > 0;
  } else {
    const start = after === undefined ? 0 : items.findIndex((x) => x.id === after) + 1;
    if (after !== undefined && start === 0) throw noSuch(label, after, 'starting_after');
    page = items.slice(start, start + limit);
    hasMore = start + limit < items.length;
  }
  return { object: 'list', data: page.map(render), has_more: hasMore, url };
}

export const emptyList = <T>(url: string): Stripe.ApiList<T> => ({ object: 'list', data: [], has_more: false, url });
