import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { z } from 'zod';
import { WebhookRejectedError } from '#src/adapters/providers/engine.ts';
import type { WebhookDelivery } from '#src/adapters/providers/engine.ts';

/**
 * Verification of Replicate's webhooks (providers.md §3.2), which follow Standard Webhooks:
 * `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (space-separated
 * `v1,<base64>`), an HMAC-SHA256 over `${id}.${timestamp}.${rawBody}` keyed with the base64 part of
 * the account's `whsec_…` secret. The `standardwebhooks` library does the HMAC, the constant-time
 * comparison and the ±5 minute timestamp window; this module adds the secret's life cycle and
 * duplicate suppression.
 */

export interface WebhookVerifierOptions {
  /** Resolves the `whsec_…` secret; called lazily, and again only after a refresh is allowed. */
  loadSecret: () => Promise<string>;
  /** False for a secret given as a string: reloading it cannot change anything. */
  canRefresh: boolean;
  /**
   * A signature that does not match may mean the secret was rotated: the secret is reloaded once and
   * the delivery checked again, but not more often than this (forged deliveries must not turn into a
   * stream of API calls).
   */
  refreshAfterMs: number;
  now?: () => number;
}

/**
 * A webhook id is remembered for this long, a little more than the 2 × 5 minutes in which its
 * timestamp is accepted, so a captured delivery cannot be replayed within its window either.
 * Replicate retries a final webhook that we did not answer with 2xx under the same id; such a retry
 * is refused too, which costs nothing: a webhook is only a trigger, and polling carries on.
 */
const SEEN_WINDOW_MS = 11 * 60_000;
const MAX_SEEN = 10_000;

const deliveryBodySchema = z.object({ id: z.string().min(1) });

interface LoadedSecret {
  webhook: Promise<Webhook>;
  loadedAt: number;
}

export function createWebhookVerifier(opts: WebhookVerifierOptions): (delivery: WebhookDelivery) => Promise<{ requestId: string }> {
  const now = opts.now ?? Date.now;
  let loaded: LoadedSecret | null = null;
  const seen = new Map<string, number>();

  const load = (): LoadedSecret => {
    if (loaded) return loaded;
    const webhook = opts.loadSecret().then((secret) => new Webhook(secret));
    const entry: LoadedSecret = { webhook, loadedAt: now() };
    // A failed load is not cached: the next delivery tries again.
    webhook.catch(() => {
      if (loaded === entry) loaded = null;
    });
    loaded = entry;
    return entry;
  };

  const webhookOf = async (entry: LoadedSecret): Promise<Webhook> => {
    try {
      return await entry.webhook;
    } catch {
      // Never the secret or the loader's message, which may carry a URL or a fragment of the secret.
      throw new WebhookRejectedError('Replicate webhook rejected: the signing secret could not be loaded');
    }
  };

  const forget = () => {
    const t = now();
    for (const [id, expires] of seen) {
      if (expires > t && seen.size <= MAX_SEEN) break;
      seen.delete(id);
    }
  };

  return async (delivery) => {
    const header = (name: string): string | undefined => {
      for (const [key, value] of Object.entries(delivery.headers)) if (key.toLowerCase() === name) return value;
      return undefined;
    };
    const id = header('webhook-id');
    const timestamp = header('webhook-timestamp');
    const signature = header('webhook-signature');
    if (!id || !timestamp || !signature) throw new WebhookRejectedError('Replicate webhook rejected: Standard Webhooks headers missing');
    const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };

    let entry = load();
    try {
      (await webhookOf(entry)).verify(delivery.rawBody, headers, { jsonParse: false });
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      const mayRefresh = opts.canRefresh && now() - entry.loadedAt >= opts.refreshAfterMs;
      if (!mayRefresh) throw new WebhookRejectedError(`Replicate webhook rejected: ${err.message}`);
      if (loaded === entry) loaded = null;
      entry = load();
      try {
        (await webhookOf(entry)).verify(delivery.rawBody, headers, { jsonParse: false });
      } catch (again) {
        if (again instanceof WebhookVerificationError) throw new WebhookRejectedError(`Replicate webhook rejected: ${again.message}`);
        throw again;
      }
    }

    forget();
    if (seen.has(id)) throw new WebhookRejectedError('Replicate webhook rejected: this delivery was already received');
    let body: unknown;
    try {
      body = JSON.parse(delivery.rawBody.toString('utf8'));
    } catch {
      throw new WebhookRejectedError('Replicate webhook rejected: the body is not JSON');
    }
    const parsed = deliveryBodySchema.safeParse(body);
    if (!parsed.success) throw new WebhookRejectedError('Replicate webhook rejected: the body is not a prediction');
    seen.set(id, now() + SEEN_WINDOW_MS);
    return { requestId: parsed.data.id };
  };
}
