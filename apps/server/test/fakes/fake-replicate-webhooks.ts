import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, sleep } from './fake-bfl-http.ts';
import type { WebhookEvent } from './fake-replicate-predictions.ts';

/**
 * Replicate's webhooks as the fake sends them (providers.md §3.2): the body is the full prediction
 * object; headers follow Standard Webhooks — `webhook-id` (stable across retries), `webhook-timestamp`
 * (unix seconds), `webhook-signature: v1,<base64 HMAC-SHA256 of "${id}.${timestamp}.${body}">` keyed
 * with the base64-decoded part of the `whsec_` secret. Signed here with node:crypto, independently
 * of the library the adapter verifies with.
 */

/** How the next delivery is spoiled, on demand. */
export type WebhookDeliveryMode =
  | 'normal'
  /** Body changed after signing. */
  | 'tampered'
  /** Correctly signed, but with a timestamp ten minutes old (outside the ±5 minute window). */
  | 'replayed'
  /** Sent twice, byte for byte identical (same id, timestamp and signature). */
  | 'duplicate'
  /** Signed with a key that is not the account's secret. */
  | 'wrong_secret'
  /** Without the Standard Webhooks headers. */
  | 'unsigned';

export interface FakeWebhookAttempt {
  timestamp: number;
  headers: Record<string, string>;
  body: string;
  /** The receiver's HTTP status, or null when it could not be reached. */
  status: number | null;
}

export interface FakeWebhookDelivery {
  predictionId: string;
  event: WebhookEvent;
  url: string;
  webhookId: string;
  mode: WebhookDeliveryMode;
  attempts: FakeWebhookAttempt[];
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

function tamper(body: string): string {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify({ ...parsed, output: 'https://attacker.example/not-yours.png', status: 'succeeded' });
}

export interface SendOptions {
  secret: string;
  /** Attempts for a `completed` event the receiver did not accept with 2xx (intermediate events: one). */
  maxAttempts: number;
  retryDelayMs: number;
  timeoutMs: number;
}

/** Delivers one event (with retries for `completed`), recording every attempt in `delivery`. */
export async function sendWebhook(delivery: FakeWebhookDelivery, payload: string, opts: SendOptions): Promise<void> {
  const attempts = delivery.event === 'completed' ? opts.maxAttempts : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(opts.retryDelayMs * 2 ** (attempt - 1));
    const nowS = Math.floor(Date.now() / 1000);
    const timestamp = delivery.mode === 'replayed' ? nowS - 600 : nowS;
    const key = delivery.mode === 'wrong_secret' ? newWebhookSecret() : opts.secret;
    const signature = signStandardWebhook(key, delivery.webhookId, timestamp, payload);
    const body = delivery.mode === 'tampered' ? tamper(payload) : payload;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Replicate-Webhook/1.0' };
    if (delivery.mode !== 'unsigned') {
      headers['webhook-id'] = delivery.webhookId;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signature;
    }
    const times = delivery.mode === 'duplicate' ? 2 : 1;
    let ok = false;
    for (let i = 0; i < times; i++) {
      const status = await fetch(delivery.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs) })
        .then(async (res) => {
          await res.body?.cancel();
          return res.status;
        })
        .catch(() => null);
      delivery.attempts.push({ timestamp, headers, body, status });
      ok = status !== null && status >= 200 && status < 300;
    }
    if (ok) return;
  }
}

/** A loopback endpoint standing in for our webhook route, keeping the raw bodies signatures cover. */
export interface WebhookReceiver {
  url: string;
  received: { headers: Record<string, string | undefined>; rawBody: Buffer }[];
  /** Answer the next `times` deliveries with this status (default 204). */
  respondNext(status: number, times?: number): void;
  /** Resolves once `count` deliveries have arrived in total. */
  waitFor(count: number, timeoutMs?: number): Promise<WebhookReceiver['received']>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const statuses: number[] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(req.headers)) headers[key] = Array.isArray(value) ? value.join(', ') : value;
    received.push({ headers, rawBody: Buffer.concat(chunks) });
    res.writeHead(statuses.shift() ?? 204);
    res.end();
  };
  const listening = await listenOnLoopback((req, res) => void handler(req, res));
  return {
    url: `${listening.url}/webhooks/replicate`,
    received,
    respondNext: (status, times = 1) => {
      for (let i = 0; i < times; i++) statuses.push(status);
    },
    waitFor: async (count, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhook deliveries, got ${received.length}`);
        await sleep(10);
      }
      return received;
    },
    close: () => listening.close(),
  };
}
