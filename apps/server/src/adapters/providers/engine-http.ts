import { EngineError } from './engine.ts';

/** Shared by the engine adapters: Retry-After, and reading engine results without trusting their size. */

/** The error for a result over the size cap, naming the engine. */
export const resultTooLarge = (engineName: string, limit: number) => () =>
  new EngineError('invalid_output', `${engineName} result is larger than ${Math.round(limit / 1024 / 1024)} MB`, { retryable: false });

/**
 * Reads a response body up to `limit` bytes: a declared Content-Length over the limit is refused before
 * reading, and a body that grows past it is cancelled mid-stream, so a hostile engine cannot fill memory.
 */
export async function readCapped(res: Response, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** A configured base URL: http(s) only, without query, fragment or trailing slash. */
export function normaliseBaseUrl(baseUrl: string, engineName: string): string {
  const url = new URL(baseUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${engineName} base URL must be http(s), got ${url.protocol}`);
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}
