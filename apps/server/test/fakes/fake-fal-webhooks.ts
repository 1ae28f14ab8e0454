import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * fal's webhook signing as the fake does it (providers.md §2.2): an Ed25519 key pair of its own,
 * published as a JWKS, and X-Fal-Webhook-* headers over `requestId \n userId \n timestamp \n sha256hex(body)`.
 */

/**
 * - `valid`:       signed now with a published key.
 * - `tampered`:    signed, then the body changed in transit.
 * - `replayed`:    correctly signed, but ten minutes old (outside ±300 s).
 * - `duplicate`:   the same bytes and headers delivered twice (a replay inside the window).
 * - `resigned`:    delivered twice, the second time freshly signed a second later, as fal's retries are.
 * - `foreign_key`: signed with a key that is not in the JWKS.
 */
export type WebhookVariant = 'valid' | 'tampered' | 'replayed' | 'duplicate' | 'resigned' | 'foreign_key';

export interface FakeWebhookDelivery {
  requestId: string;
  url: string;
  variant: WebhookVariant;
  headers: Record<string, string>;
  rawBody: string;
  /** The receiver's HTTP status, or null when the POST failed (`error`). */
  status: number | null;
  error: string | null;
  at: number;
}

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface WebhookSigner {
  readonly userId: string;
  jwks(): { keys: Record<string, string>[] };
  /** Replace the signing key; with `keepOld` the JWKS lists both, as during a rotation. */
  rotate(keepOld?: boolean): void;
  /** Sign and POST a payload to `url`; records one delivery per POST. */
  deliver(url: string, requestId: string, payload: unknown, variant: WebhookVariant): Promise<FakeWebhookDelivery[]>;
}

export function createWebhookSigner(opts: { userId: string; now: () => number; padJwksX: boolean; timeoutMs?: number }): WebhookSigner {
  let keys: KeyPair[] = [generateKeyPairSync('ed25519')];
  const current = () => keys[keys.length - 1]!;

  const headersFor = (requestId: string, rawBody: string, timestampSec: number, key: KeyPair): Record<string, string> => {
    const hash = createHash('sha256').update(rawBody, 'utf8').digest('hex');
    const message = Buffer.from(`${requestId}\n${opts.userId}\n${timestampSec}\n${hash}`, 'utf8');
    return {
      'content-type': 'application/json',
      'x-fal-webhook-request-id': requestId,
      'x-fal-webhook-user-id': opts.userId,
      'x-fal-webhook-timestamp': String(timestampSec),
      'x-fal-webhook-signature': sign(null, message, key.privateKey).toString('hex'),
    };
  };

  const post = async (delivery: Omit<FakeWebhookDelivery, 'status' | 'error'>): Promise<FakeWebhookDelivery> => {
    try {
      const res = await fetch(delivery.url, { method: 'POST', headers: delivery.headers, body: delivery.rawBody, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
      await res.body?.cancel();
      return { ...delivery, status: res.status, error: null };
    } catch (err) {
      return { ...delivery, status: null, error: err instanceof Error ? err.message : String(err) };
    }
  };

  return {
    userId: opts.userId,
    jwks: () => ({
      keys: keys.map(({ publicKey }) => {
        const x = publicKey.export({ format: 'jwk' }).x ?? '';
        // The live JWKS pads the 32-byte x coordinate with "=" [C]; clients must cope with both.
        return { kty: 'OKP', crv: 'Ed25519', x: opts.padJwksX ? `${x}=` : x };
      }),
    }),
    rotate: (keepOld = false) => {
      keys = keepOld ? [...keys, generateKeyPairSync('ed25519')] : [generateKeyPairSync('ed25519')];
    },
    async deliver(url, requestId, payload, variant) {
      const rawBody = JSON.stringify(payload);
      const nowSec = Math.floor(opts.now() / 1000);
      const base = { requestId, url, variant, at: opts.now() };
      switch (variant) {
        case 'tampered': {
          const headers = headersFor(requestId, rawBody, nowSec, current());
          const forged = JSON.stringify({ ...(payload as Record<string, unknown>), status: 'OK', payload: { images: [{ url: 'https://attacker.invalid/x.png' }] } });
          return [await post({ ...base, headers, rawBody: forged })];
        }
        case 'replayed':
          return [await post({ ...base, headers: headersFor(requestId, rawBody, nowSec - 600, current()), rawBody })];
        case 'foreign_key':
          return [await post({ ...base, headers: headersFor(requestId, rawBody, nowSec, generateKeyPairSync('ed25519')), rawBody })];
        case 'duplicate': {
          const headers = headersFor(requestId, rawBody, nowSec, current());
          return [await post({ ...base, headers, rawBody }), await post({ ...base, headers, rawBody })];
        }
        case 'resigned':
          return [
            await post({ ...base, headers: headersFor(requestId, rawBody, nowSec, current()), rawBody }),
            await post({ ...base, headers: headersFor(requestId, rawBody, nowSec + 1, current()), rawBody }),
          ];
        case 'valid':
          return [await post({ ...base, headers: headersFor(requestId, rawBody, nowSec, current()), rawBody })];
      }
    },
  };
}
