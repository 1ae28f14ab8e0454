import { createHash, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { EngineError, WebhookRejectedError } from '#src/adapters/providers/engine.ts';
import type { WebhookDelivery } from '#src/adapters/providers/engine.ts';

/**
 * fal webhook verification (providers.md §2.2): Ed25519 over
 * `requestId \n userId \n timestamp \n sha256hex(rawBody)`, with the request id, user id, timestamp
 * (unix seconds) and hex signature in X-Fal-Webhook-* headers, against any key of fal's JWKS.
 */

export const DEFAULT_JWKS_URL = 'https://rest.alpha.fal.ai/.well-known/jwks.json';
const MAX_JWKS_CACHE_MS = 24 * 60 * 60 * 1000;

export interface FalWebhookVerifierOptions {
  jwksUrl: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** How long fetched keys are trusted; capped at fal's 24 hours. */
  jwksCacheMs?: number;
  /**
   * A signature no cached key verifies triggers one refetch (fal may have rotated its keys), but not
   * more often than this, so forged deliveries cannot make us hammer fal's JWKS endpoint.
   */
  jwksRefetchCooldownMs?: number;
  /** Allowed clock difference; fal's documented ±300 s. */
  toleranceSeconds?: number;
  /** When set, deliveries signed for another fal account (X-Fal-Webhook-User-Id) are rejected. */
  expectedUserId?: string | null;
}

const jwksSchema = z.object({ keys: z.array(z.unknown()) });
const okpKeySchema = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1) });
const bodySchema = z.object({ request_id: z.string().optional().catch(undefined), gateway_request_id: z.string().optional().catch(undefined) });

/** Ed25519 public keys from a JWKS; other key types and malformed keys are skipped. */
export function keysFromJwks(body: unknown): KeyObject[] {
  const parsed = jwksSchema.safeParse(body);
  if (!parsed.success) return [];
  const keys: KeyObject[] = [];
  for (const raw of parsed.data.keys) {
    const key = okpKeySchema.safeParse(raw);
    if (!key.success) continue;
    // fal's live JWKS pads the base64url `x` with "=" [C]; Node's JWK import wants it unpadded.
    const x = key.data.x.replace(/=+$/, '');
    if (Buffer.from(x, 'base64url').length !== 32) continue;
    try {
      keys.push(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
    } catch {
      // skip a key Node cannot import
    }
  }
  return keys;
}

function headerOf(headers: WebhookDelivery['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted && value !== undefined) return value.trim();
  return undefined;
}

export function createFalWebhookVerifier(opts: FalWebhookVerifierOptions): (delivery: WebhookDelivery) => Promise<{ requestId: string }> {
  const cacheMs = Math.min(opts.jwksCacheMs ?? MAX_JWKS_CACHE_MS, MAX_JWKS_CACHE_MS);
  const cooldownMs = opts.jwksRefetchCooldownMs ?? 30_000;
  const toleranceMs = (opts.toleranceSeconds ?? 300) * 1000;
  let cache: { keys: KeyObject[]; fetchedAt: number } | null = null;
  let inflight: Promise<KeyObject[]> | null = null;
  /** Signatures already accepted, until their timestamp leaves the tolerance window. */
  const seen = new Map<string, number>();

  const fetchKeys = async (): Promise<KeyObject[]> => {
    const timeout = AbortSignal.timeout(opts.requestTimeoutMs);
    let keys: KeyObject[];
    try {
      const res = await opts.fetch(opts.jwksUrl, { headers: { accept: 'application/json' }, signal: timeout });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      keys = keysFromJwks(JSON.parse(text) as unknown);
    } catch (err) {
      const reason = timeout.aborted ? `timed out after ${opts.requestTimeoutMs} ms` : err instanceof Error ? err.message : String(err);
      throw new EngineError('engine_unavailable', `Could not fetch fal's webhook keys: ${reason}`, { retryable: true, cause: err });
    }
    if (keys.length === 0) throw new EngineError('engine_unavailable', "fal's JWKS held no Ed25519 keys", { retryable: true });
    cache = { keys, fetchedAt: opts.now() };
    return keys;
  };
  const refresh = (): Promise<KeyObject[]> => {
    inflight ??= fetchKeys().finally(() => {
      inflight = null;
    });
    return inflight;
  };
  const currentKeys = async (): Promise<KeyObject[]> => (cache && opts.now() - cache.fetchedAt < cacheMs ? cache.keys : refresh());
  const verifiesWithAny = (keys: KeyObject[], message: Buffer, signature: Buffer) => keys.some((key) => verify(null, message, key, signature));

  return async (delivery) => {
    const requestId = headerOf(delivery.headers, 'x-fal-webhook-request-id');
    const userId = headerOf(delivery.headers, 'x-fal-webhook-user-id');
    const timestamp = headerOf(delivery.headers, 'x-fal-webhook-timestamp');
    const signatureHex = headerOf(delivery.headers, 'x-fal-webhook-signature');
    if (!requestId || !userId || !timestamp || !signatureHex) throw new WebhookRejectedError('fal webhook without its X-Fal-Webhook-* signature headers');
    if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookRejectedError('fal webhook timestamp is not unix seconds');
    const now = opts.now();
    if (Math.abs(now - Number(timestamp) * 1000) > toleranceMs) throw new WebhookRejectedError('fal webhook timestamp is outside the allowed window (replayed or clock skew)');
    if (!/^[0-9a-f]{128}$/i.test(signatureHex)) throw new WebhookRejectedError('fal webhook signature is not a hex Ed25519 signature');
    if (opts.expectedUserId && userId !== opts.expectedUserId) throw new WebhookRejectedError('fal webhook was signed for another fal account');

    for (const [sig, expiresAt] of seen) if (expiresAt <= now) seen.delete(sig);
    const signatureKey = signatureHex.toLowerCase();
    if (seen.has(signatureKey)) throw new WebhookRejectedError('fal webhook delivery was already received (duplicate or replay)');

    const bodyHash = createHash('sha256').update(delivery.rawBody).digest('hex');
    const message = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${bodyHash}`, 'utf8');
    const signature = Buffer.from(signatureHex, 'hex');
    let valid = verifiesWithAny(await currentKeys(), message, signature);
    if (!valid && cache && now - cache.fetchedAt >= cooldownMs) valid = verifiesWithAny(await refresh(), message, signature);
    if (!valid) throw new WebhookRejectedError('fal webhook signature does not verify against fal’s keys');

    // The body is covered by the signature; it must be about the request the headers name.
    let json: unknown;
    try {
      json = JSON.parse(delivery.rawBody.toString('utf8')) as unknown;
    } catch {
      json = undefined;
    }
    const body = bodySchema.safeParse(json);
    const ids = body.success ? [body.data.request_id, body.data.gateway_request_id].filter((id) => id !== undefined) : [];
    if (ids.length > 0 && !ids.includes(requestId)) throw new WebhookRejectedError('fal webhook body is about another request than its headers');

    if (seen.size >= 10_000) seen.delete(seen.keys().next().value ?? '');
    seen.set(signatureKey, Number(timestamp) * 1000 + toleranceMs);
    return { requestId };
  };
}
