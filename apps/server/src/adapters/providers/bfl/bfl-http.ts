import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import { parseRetryAfter } from '../engine-http.ts';
import { normaliseBaseUrl as normaliseEngineBaseUrl } from '../engine-http.ts';

/**
 * HTTP plumbing for the BFL adapter: timeouts, the rule for where the API key may go, and the mapping
 * from BFL's HTTP errors to EngineError. Protocol notes: ../shared/research/providers.md §1.
 */

export interface BflHttpConfig {
  apiKey: string;
  /** Origin (and optional path prefix) without a trailing slash and without /v1. */
  baseUrl: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

export const DEFAULT_BASE_URL = 'https://api.bfl.ai';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export const normaliseBaseUrl = (baseUrl: string): string => normaliseEngineBaseUrl(baseUrl, 'BFL');

/**
 * The key goes only to our configured origin or to BFL's own HTTPS hosts (regional `api.*.bfl.ai`,
 * `delivery-*.bfl.ai`), never to whatever host a response names: the same rule as the AI SDK (§6.3).
 */
export function isKeyAllowedFor(url: URL, baseUrl: string): boolean {
  if (url.origin === new URL(baseUrl).origin) return true;
  return url.protocol === 'https:' && (url.hostname === 'bfl.ai' || url.hostname.endsWith('.bfl.ai'));
}

/** URLs that BFL hands us (polling_url, result.sample) must at least be http(s). */
export function parseResponseUrl(raw: string, what: string): URL {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new EngineError('engine_error', `BFL returned an unusable ${what} URL`, { retryable: false });
  }
  return url;
}

export function redact(message: string, apiKey: string): string {
  return apiKey.length >= 4 ? message.replaceAll(apiKey, '[redacted]') : message;
}

/**
 * One HTTP request with a timeout. Network errors and timeouts become retryable `engine_unavailable`;
 * an abort by the caller's own signal is re-thrown as the signal's reason, since nothing failed.
 */
export async function bflFetch<T>(
  cfg: BflHttpConfig,
  url: URL,
  init: { method: 'GET' | 'POST'; json?: unknown; sendKey: boolean; accept: string },
  what: string,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(cfg.requestTimeoutMs);
  const headers: Record<string, string> = { accept: init.accept };
  if (init.sendKey) headers['x-key'] = cfg.apiKey;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await cfg.fetch(url, {
      method: init.method,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // fetch keeps custom headers across redirects, so a redirect must never carry x-key elsewhere.
      redirect: init.sendKey ? 'manual' : 'follow',
    });
    if (init.sendKey && res.status >= 300 && res.status < 400) {
      throw new EngineError('engine_error', `BFL ${what} answered with a redirect (HTTP ${res.status}), which is not followed with the API key`, { retryable: false, httpStatus: res.status });
    }
    // The body is read inside the try: the timeout covers the whole exchange, not just the headers.
    return await read(res);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new EngineError('engine_unavailable', `BFL ${what} timed out after ${cfg.requestTimeoutMs} ms`, { retryable: true, cause: err });
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new EngineError('engine_unavailable', redact(`Could not reach BFL (${what}): ${reason}`, cfg.apiKey), { retryable: true, cause: err });
  }
}

/** A JSON request; non-2xx answers are thrown as mapped EngineErrors. */
export async function bflJson(
  cfg: BflHttpConfig,
  url: URL,
  init: { method: 'GET' | 'POST'; json?: unknown; sendKey: boolean },
  what: string,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return bflFetch(cfg, url, { ...init, accept: 'application/json' }, what, signal, async (res) => {
    const text = await res.text();
    const body = safeJson(text);
    if (!res.ok) throw errorFromResponse(res.status, res.headers, body, text, what, cfg.apiKey);
    return body;
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const validationItemSchema = z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string() });
const fastApiErrorSchema = z.object({ detail: z.union([z.string(), z.array(validationItemSchema).min(1)]) });
const genericErrorSchema = z.object({ error: z.string().optional(), message: z.string().optional() });
const retryAfterBodySchema = z.object({ retry_after: z.number().nonnegative() });

/**
 * The human-readable part of a BFL error body: FastAPI's `{detail: string | [{loc, msg}]}` first, then
 * the `{error, message}` envelope BFL's skill repo shows [U], then the first 200 characters of the text.
 */
export function describeErrorBody(body: unknown, text: string): string {
  const fastApi = fastApiErrorSchema.safeParse(body);
  if (fastApi.success) {
    const { detail } = fastApi.data;
    if (typeof detail === 'string') return detail;
    return detail
      .map(({ loc = [], msg }) => {
        // ["body", "width"] → "width": the location kind is noise for an operator reading the message.
        const path = (['body', 'query', 'path', 'header'].includes(String(loc[0])) ? loc.slice(1) : loc).join('.');
        return path ? `${path}: ${msg}` : msg;
      })
      .join('; ');
  }
  const generic = genericErrorSchema.safeParse(body);
  if (generic.success && (generic.data.message || generic.data.error)) {
    return [generic.data.error, generic.data.message].filter(Boolean).join(': ');
  }
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

export { parseRetryAfter } from '../engine-http.ts';

export function errorFromResponse(status: number, headers: Headers, body: unknown, text: string, what: string, apiKey: string): EngineError {
  const detail = describeErrorBody(body, text);
  const message = (prefix: string) => redact(detail ? `${prefix}: ${detail}` : prefix, apiKey);
  const base = `BFL ${what} failed with HTTP ${status}`;
  if (status === 429 || status === 408 || status >= 500) {
    const bodyRetry = retryAfterBodySchema.safeParse(body);
    const retryAfterMs = parseRetryAfter(headers.get('retry-after')) ?? (bodyRetry.success ? bodyRetry.data.retry_after * 1000 : null);
    const prefix = status === 429 ? `BFL rate limit or concurrency limit reached (HTTP 429, ${what})` : base;
    return new EngineError('engine_unavailable', message(prefix), { retryable: true, retryAfterMs, httpStatus: status });
  }
  if (status === 402) {
    return new EngineError('engine_out_of_credits', message('BFL account has insufficient credits'), { retryable: false, httpStatus: status });
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine_auth_failed', message(`BFL refused the API key (HTTP ${status}, ${what})`), { retryable: false, httpStatus: status });
  }
  return new EngineError('engine_rejected_request', message(base), { retryable: false, httpStatus: status });
}
