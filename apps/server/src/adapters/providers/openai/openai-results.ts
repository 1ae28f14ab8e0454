import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineStatus } from '#src/adapters/providers/engine.ts';

/**
 * Turning an Images API answer into a final EngineStatus, plus the byte-level checks both result kinds
 * go through (size cap, "is this an image at all"), and the in-memory cache that `poll` answers from.
 */

// Lenient: unknown fields (usage, background, quality, size, gateways' own) are dropped, odd types nulled.
const imageDataSchema = z.object({
  b64_json: z.string().nullish().catch(null),
  url: z.string().nullish().catch(null),
  revised_prompt: z.string().nullish().catch(null),
  // Not in OpenAI's schema; some FLUX gateways report the seed they used [U].
  seed: z.number().int().nullish().catch(null),
});
const imagesResponseSchema = z.object({ data: z.array(z.unknown()) });

/** PNG, JPEG, WebP or GIF by their magic numbers: what an image API may plausibly return. */
export function looksLikeImage(bytes: Buffer): boolean {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return true;
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return true;
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return true;
  return bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6));
}

const failed = (code: 'invalid_output' | 'engine_error', detail: string): EngineStatus => ({ state: 'failed', code, retryable: false, detail });

/**
 * The final status of a 2xx answer. Unusable answers are final failures, not retryable: the engine has
 * already generated (and billed) the image, and a retry would submit and pay again.
 */
export function statusFromResponse(body: unknown, opts: { maxResultBytes: number; requestSeed: number | null }): EngineStatus {
  const parsed = imagesResponseSchema.safeParse(body);
  if (!parsed.success) return failed('engine_error', 'The OpenAI-compatible API answered 200 without a data array');
  const first = parsed.data.data[0];
  if (first === undefined) return failed('invalid_output', 'The OpenAI-compatible API answered with no image');
  const item = imageDataSchema.safeParse(first);
  if (!item.success) return failed('invalid_output', 'The OpenAI-compatible API answered with an unreadable image entry');
  const seed = item.data.seed ?? opts.requestSeed;
  const { b64_json: b64, url } = item.data;
  if (b64) {
    // Some gateways send a data URL instead of bare base64.
    const payload = b64.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload)) return failed('invalid_output', 'The image in b64_json is not valid base64');
    if (Math.floor((payload.length * 3) / 4) > opts.maxResultBytes) return failed('invalid_output', `The result is larger than ${megabytes(opts.maxResultBytes)} MB`);
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length === 0) return failed('invalid_output', 'The image in b64_json is empty');
    if (!looksLikeImage(bytes)) return failed('invalid_output', 'The b64_json result is not a PNG, JPEG, WebP or GIF image');
    return { state: 'ready', result: { kind: 'bytes', bytes, seed } };
  }
  if (url) {
    const parsedUrl = URL.canParse(url) ? new URL(url) : null;
    if (!parsedUrl || (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:')) return failed('invalid_output', 'The result URL is not an http(s) URL');
    return { state: 'ready', result: { kind: 'url', url: parsedUrl.href, seed } };
  }
  return failed('invalid_output', 'The OpenAI-compatible API answered with neither b64_json nor url');
}

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024);


export const resultTooLarge = (limit: number) => () =>
  new EngineError('invalid_output', `The OpenAI-compatible result is larger than ${megabytes(limit)} MB`, { retryable: false });

/**
 * Final statuses by our local request id, so `poll` can answer after `submit` (the job persists the
 * handle, then polls). Bounded in time and count: b64 results are whole images held in memory.
 */
export interface ResultCache {
  get(requestId: string): EngineStatus | undefined;
  set(requestId: string, status: EngineStatus): void;
  delete(requestId: string): void;
}

export function createResultCache(ttlMs: number, maxEntries: number, now: () => number = Date.now): ResultCache {
  const entries = new Map<string, { status: EngineStatus; expiresAt: number }>();
  const prune = () => {
    const t = now();
    for (const [id, entry] of entries) if (entry.expiresAt <= t) entries.delete(id);
    // Map iteration is insertion order: the first keys are the oldest.
    for (const id of entries.keys()) {
      if (entries.size <= maxEntries) break;
      entries.delete(id);
    }
  };
  return {
    get(requestId) {
      prune();
      return entries.get(requestId)?.status;
    },
    set(requestId, status) {
      entries.set(requestId, { status, expiresAt: now() + ttlMs });
      prune();
    },
    delete(requestId) {
      entries.delete(requestId);
    },
  };
}
