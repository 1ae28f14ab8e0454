import { randomBytes } from 'node:crypto';
import { TERMINAL_STATUSES, viewPrediction } from './fake-replicate-predictions.ts';
import type { FakePrediction, WebhookEvent } from './fake-replicate-predictions.ts';
import { sendWebhook } from './fake-replicate-webhooks.ts';
import type { FakeWebhookDelivery, WebhookDeliveryMode } from './fake-replicate-webhooks.ts';

/**
 * Decides when the fake sends which webhook event (providers.md §3.2): `start` at create, `output`
 * when the output appears, `logs` when the logs change (at most one per throttle interval), and
 * `completed` once terminal; with no filter, `output` and `completed`. Deliveries for one prediction
 * go out in order. State is read from the fake's clock, so a test that jumps the clock gets its
 * events on the next tick (every 10 ms, on every request, and on `settle()`).
 */

export interface DispatcherOptions {
  now: () => number;
  urls: { api: string; delivery: string };
  predictions: ReadonlyMap<string, FakePrediction>;
  secret: () => string;
  behaviour: { webhookThrottleMs: number; webhookMaxAttempts: number; webhookRetryDelayMs: number };
}

interface HookState {
  sentOutput: boolean;
  lastLogs: string;
  lastThrottledAt: number;
  done: boolean;
  chain: Promise<void>;
}

export interface WebhookDispatcher {
  deliveries: FakeWebhookDelivery[];
  /** Spoils the next deliveries, one mode each. */
  modes: WebhookDeliveryMode[];
  /** A prediction created with a webhook: sends `start` at once if asked for. */
  register(p: FakePrediction): void;
  tick(): void;
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookDispatcher(opts: DispatcherOptions): WebhookDispatcher {
  const deliveries: FakeWebhookDelivery[] = [];
  const modes: WebhookDeliveryMode[] = [];
  const hooks = new Map<string, HookState>();
  const inflight = new Set<Promise<void>>();

  const dispatch = (p: FakePrediction, event: WebhookEvent) => {
    const state = hooks.get(p.id);
    if (!state || !p.webhook) return;
    const delivery: FakeWebhookDelivery = { predictionId: p.id, event, url: p.webhook, webhookId: `msg_${randomBytes(12).toString('hex')}`, mode: modes.shift() ?? 'normal', attempts: [] };
    deliveries.push(delivery);
    const payload = JSON.stringify(viewPrediction(p, opts.now(), opts.urls));
    const { webhookMaxAttempts: maxAttempts, webhookRetryDelayMs: retryDelayMs } = opts.behaviour;
    const send = state.chain.then(() => sendWebhook(delivery, payload, { secret: opts.secret(), maxAttempts, retryDelayMs, timeoutMs: 5_000 }));
    state.chain = send;
    inflight.add(send);
    void send.finally(() => inflight.delete(send));
  };

  const tick = () => {
    const t = opts.now();
    for (const p of opts.predictions.values()) {
      const state = hooks.get(p.id);
      if (!state || state.done) continue;
      const filter = p.webhookEventsFilter ?? ['output', 'completed'];
      const view = viewPrediction(p, t, opts.urls);
      const terminal = TERMINAL_STATUSES.includes(String(view.status));
      const throttled = t - state.lastThrottledAt < opts.behaviour.webhookThrottleMs;
      const logs = typeof view.logs === 'string' ? view.logs : '';
      if (filter.includes('output') && view.output && !state.sentOutput) {
        state.sentOutput = true;
        dispatch(p, 'output');
      } else if (filter.includes('logs') && !terminal && logs !== state.lastLogs && !throttled) {
        state.lastLogs = logs;
        state.lastThrottledAt = t;
        dispatch(p, 'logs');
      }
      if (terminal) {
        state.done = true;
        if (filter.includes('completed')) dispatch(p, 'completed');
      }
    }
  };
  const ticker = setInterval(tick, 10);
  ticker.unref();

  return {
    deliveries,
    modes,
    register: (p) => {
      if (!p.webhook) return;
      hooks.set(p.id, { sentOutput: false, lastLogs: '', lastThrottledAt: -Infinity, done: false, chain: Promise.resolve() });
      if (p.webhookEventsFilter?.includes('start')) dispatch(p, 'start');
    },
    tick,
    settle: async () => {
      tick();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    close: async () => {
      clearInterval(ticker);
      await Promise.allSettled([...inflight]);
    },
  };
}
