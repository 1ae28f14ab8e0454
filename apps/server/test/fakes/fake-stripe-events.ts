import Stripe from 'stripe';
import { toJson } from './fake-stripe-store.ts';
import type { JsonObject, Store } from './fake-stripe-store.ts';

/**
 * Events and their webhook delivery. Every event is a snapshot of its object when it happened
 * (`data.object`, plus `data.previous_attributes` on updates). Deliveries are POSTs of the exact signed
 * bytes (pretty-printed JSON, as Stripe sends it) with a `Stripe-Signature` made by the SDK's own
 * helper; 2xx is success. An event stays pending (`pending_webhooks: 1`, listed by
 * `delivery_success=false`) until one delivery succeeds; the fake never retries on its own —
 * `deliverPending()` stands in for Stripe's retry schedule and `redeliver()` for "Resend".
 */

export interface FakeDelivery {
  eventId: string;
  /** HTTP status, or null when no response came (connection failed, timed out, or `failDeliveries`). */
  status: number | null;
  at: number;
}

export type DeliveryOrder = 'stripe' | 'reverse' | readonly string[] | ((events: Stripe.Event[]) => Stripe.Event[]);

export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}

interface EventState {
  /** Whether an endpoint was configured when the event happened (Stripe only delivers to endpoints that existed then). */
  hasEndpoint: boolean;
  delivered: boolean;
}

const DELIVERY_TIMEOUT_MS = 10_000;

export interface EventBus {
  events: Stripe.Event[];
  deliveries: FakeDelivery[];
  mode: 'immediate' | 'manual';
  setEndpoint(url: string, secret: string): void;
  emit(type: Stripe.Event.Type, object: object, opts?: { previous?: Record<string, unknown>; request?: EventRequest | null }): Stripe.Event;
  /** Delivers a batch that one action created: now in order (immediate mode) or not at all (manual). */
  dispatch(batch: Stripe.Event[]): Promise<void>;
  deliverPending(opts?: { order?: DeliveryOrder; concurrently?: boolean }): Promise<void>;
  pending(): Stripe.Event[];
  failDeliveries(n: number): void;
  redeliver(eventId: string, opts?: { times?: number; concurrently?: boolean }): Promise<number[]>;
  succeeded(eventId: string): boolean | null;
  idle(): Promise<void>;
}

export function createEventBus(store: Store, endpoint: { url: string; secret: string } | null): EventBus {
  const events: Stripe.Event[] = [];
  const deliveries: FakeDelivery[] = [];
  const state = new Map<string, EventState>();
  let target = endpoint;
  let failBudget = 0;
  let chain: Promise<void> = Promise.resolve();

  const attempt = async (event: Stripe.Event, countsAgainstFailures: boolean): Promise<number | null> => {
    const at = store.nowMs();
    if (!target || (countsAgainstFailures && failBudget > 0)) {
      if (countsAgainstFailures && failBudget > 0) failBudget--;
      deliveries.push({ eventId: event.id, status: null, at });
      return null;
    }
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: target.secret, timestamp: Math.floor(Date.now() / 1000) });
    const status = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', accept: '*/*; q=0.5, application/xml' },
      body: payload,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    })
      .then(async (res) => {
        await res.body?.cancel();
        return res.status;
      })
      .catch(() => null);
    deliveries.push({ eventId: event.id, status, at });
    if (status !== null && status >= 200 && status < 300) {
      const s = state.get(event.id);
      if (s) s.delivered = true;
      event.pending_webhooks = 0;
    }
    return status;
  };

  const pending = () => events.filter((e) => {
    const s = state.get(e.id);
    return s !== undefined && s.hasEndpoint && !s.delivered;
  });

  const enqueue = (work: () => Promise<void>): Promise<void> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };

  const deliverAll = async (list: Stripe.Event[], concurrently: boolean) => {
    if (concurrently) await Promise.all(list.map((e) => attempt(e, true)));
    else for (const e of list) await attempt(e, true);
  };

  return {
    events,
    deliveries,
    mode: 'immediate',
    setEndpoint: (url, secret) => {
      target = { url, secret };
    },
    emit: (type, object, opts = {}) => {
      const data: JsonObject = { object: toJson(object) };
      if (opts.previous) data.previous_attributes = toJson(opts.previous);
      const event = {
        id: store.id('evt'), object: 'event', api_version: Stripe.API_VERSION, created: store.nowS(), data, livemode: false,
        pending_webhooks: target ? 1 : 0, request: opts.request ?? { id: null, idempotency_key: null }, type,
      } as unknown as Stripe.Event;
      state.set(event.id, { hasEndpoint: target !== null, delivered: false });
      events.push(event);
      store.insert('event', event);
      return event;
    },
    dispatch(batch) {
      if (this.mode === 'manual') return Promise.resolve();
      // Checked when the batch's turn comes: a deliverPending() queued earlier may have sent some already.
      return enqueue(() => deliverAll(batch.filter((e) => {
        const s = state.get(e.id);
        return s?.hasEndpoint && !s.delivered;
      }), false));
    },
    deliverPending: (opts = {}) => enqueue(async () => {
      let list = pending();
      const order = opts.order ?? 'stripe';
      if (order === 'reverse') list = list.reverse();
      else if (typeof order === 'function') list = order(list);
      else if (Array.isArray(order)) {
        const byId = new Map(list.map((e) => [e.id, e]));
        list = (order as readonly string[]).map((id) => {
          const e = byId.get(id);
          if (!e) throw new Error(`deliverPending: event ${id} is not pending`);
          return e;
        });
      }
      await deliverAll(list, opts.concurrently ?? false);
    }),
    pending,
    failDeliveries: (n) => {
      failBudget = n;
    },
    redeliver: async (eventId, opts = {}) => {
      const event = events.find((e) => e.id === eventId);
      if (!event) throw new Error(`redeliver: no event ${eventId}`);
      if (!target) throw new Error('redeliver: no webhook endpoint is set');
      const times = opts.times ?? 1;
      const send = () => attempt(event, false).then((s) => s ?? 0);
      if (opts.concurrently) return Promise.all(Array.from({ length: times }, send));
      const out: number[] = [];
      for (let i = 0; i < times; i++) out.push(await send());
      return out;
    },
    succeeded: (eventId) => {
      const s = state.get(eventId);
      return s && s.hasEndpoint ? s.delivered : null;
    },
    idle: () => enqueue(async () => undefined),
  };
}
