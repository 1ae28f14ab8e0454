import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import { parseRetryAfter } from '../engine-http.ts';
import { normaliseBaseUrl as normaliseEngineBaseUrl } from '../engine-http.ts';

/**
 * HTTP plumbing for the Replicate adapter: timeouts, where the API token may go, and the mapping from
 * Replicate's HTTP errors to EngineError. Protocol notes: ../shared/research/providers.md §3.
 */

export interface ReplicateHttpConfig {
  apiToken: string;
  /** Origin (and optional path prefix) without a trailing slash and without /v1. */
  baseUrl: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

export const DEFAULT_BASE_URL = 'https://api.replicate.com';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export const normaliseBaseUrl = (baseUrl: string): string => normaliseEngineBaseUrl(baseUrl, 'Replicate');

/**
 * The token goes only to our configured origin or to https://api.replicate.com (where `urls.get`,
 * `urls.cancel` and file outputs live), never to whatever host a response names. replicate.delivery
 * output URLs need no token.
 */
export function isTokenAllowedFor(url: URL, baseUrl: string): boolean {
  if (url.origin === new URL(baseUrl).origin) return true;
  return url.protocol === 'https:' && url.hostname === 'api.replicate.com';
}

/** URLs that Replicate hands us (urls.get, urls.cancel, output) must at least be http(s). */
export function parseResponseUrl(raw: string, what: string): URL {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new EngineError('engine_error', `Replicate returned an unusable ${what} URL`, { retryable: false });
  }
  return url;
}

export function redact(message: string, apiToken: string): string {
  return apiToken.length >= 4 ? message.replaceAll(apiToken, '[redacted]') : message;
}

export interface ReplicateRequestInit {
  method: 'GET' | 'POST';
  json?: unknown;
  sendToken: boolean;
  accept: string;
  headers?: Record<string, string>;
  /** Overrides the configured per-request timeout (a `Prefer: wait` create is held open longer). */
  timeoutMs?: number;
}

/**
 * One HTTP request with a timeout. Network errors and timeouts become retryable `engine_unavailable`;
 * an abort by the caller's own signal is re-thrown as the signal's reason, since nothing failed.
 * No retries here: the job layer owns them (a blind retry of a create could run, and bill, twice).
 */
export async function replicateFetch<T>(
  cfg: ReplicateHttpConfig,
  url: URL,
  init: ReplicateRequestInit,
  what: string,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const timeoutMs = init.timeoutMs ?? cfg.requestTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: init.accept, ...init.headers };
  if (init.sendToken) headers.authorization = `Bearer ${cfg.apiToken}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await cfg.fetch(url, {
      method: init.method,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // fetch keeps the Authorization header on same-origin redirects only, but a redirect is never
      // part of Replicate's API: refuse it rather than reason about where the token might go.
      redirect: init.sendToken ? 'manual' : 'follow',
    });
    if (init.sendToken && res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new EngineError('engine_error', `Replicate ${what} answered with a redirect (HTTP ${res.status}), which is not followed with the API token`, { retryable: false, httpStatus: res.status });
    }
    // The body is read inside the try: the timeout covers the whole exchange, not just the headers.
    return await read(res);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new EngineError('engine_unavailable', `Replicate ${what} timed out after ${timeoutMs} ms`, { retryable: true, cause: err });
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new EngineError('engine_unavailable', redact(`Could not reach Replicate (${what}): ${reason}`, cfg.apiToken), { retryable: true, cause: err });
  }
}

/** A JSON request with the token; non-2xx answers are thrown as mapped EngineErrors. */
export async function replicateJson(
  cfg: ReplicateHttpConfig,
  url: URL,
  init: Omit<ReplicateRequestInit, 'accept'>,
  what: string,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return replicateFetch(cfg, url, { ...init, accept: 'application/json' }, what, signal, async (res) => {
    const text = await res.text();
    const body = safeJson(text);
    if (!res.ok) throw errorFromResponse(res.status, res.headers, body, text, what, cfg.apiToken);
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

// Replicate answers with RFC 7807-style problems: {title, detail, status} and, for input validation,
// `invalid_fields` [C: several client libraries and captured responses; not in an official spec].
const invalidFieldSchema = z.object({ field: z.string().optional(), description: z.string() });
const problemSchema = z.object({
  title: z.string().optional(),
  detail: z.string().optional(),
  invalid_fields: z.array(invalidFieldSchema).min(1).optional().catch(undefined),
});
const validationItemSchema = z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string() });
const fastApiErrorSchema = z.object({ detail: z.array(validationItemSchema).min(1) });
const genericErrorSchema = z.object({ error: z.string().optional(), message: z.string().optional() });

/**
 * The human-readable part of an error body: Replicate's problem JSON (`invalid_fields`, else
 * `title: detail`), a FastAPI `{detail: [{loc, msg}]}`, the `{error, message}` envelope, else the
 * first 200 characters of the text.
 */
export function describeErrorBody(body: unknown, text: string): string {
  const problem = problemSchema.safeParse(body);
  if (problem.success && (problem.data.invalid_fields || problem.data.detail || problem.data.title)) {
    const { title, detail, invalid_fields: fields } = problem.data;
    if (fields) return fields.map((f) => (f.field ? `${f.field}: ${f.description}` : f.description)).join('; ');
    const cleanDetail = detail?.replace(/\s+/g, ' ').trim();
    if (title && cleanDetail && !cleanDetail.toLowerCase().includes(title.toLowerCase())) return `${title}: ${cleanDetail}`;
    return cleanDetail || title || '';
  }
  const fastApi = fastApiErrorSchema.safeParse(body);
  if (fastApi.success) return fastApi.data.detail.map(({ loc = [], msg }) => (loc.length ? `${loc.join('.')}: ${msg}` : msg)).join('; ');
  const generic = genericErrorSchema.safeParse(body);
  if (generic.success && (generic.data.message || generic.data.error)) {
    return [generic.data.error, generic.data.message].filter(Boolean).join(': ');
  }
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

export { parseRetryAfter } from '../engine-http.ts';

/** "Request was throttled. Your rate limit resets in ~30s." — the hint when no Retry-After came. */
function retryAfterFromDetail(detail: string): number | null {
  const match = /resets in ~?(\d+(?:\.\d+)?)\s*s/i.exec(detail);
  return match?.[1] ? Math.round(Number(match[1]) * 1000) : null;
}

const OUT_OF_CREDIT = /insufficient (credit|balance|funds)|spend(ing)? limit/i;

export function errorFromResponse(status: number, headers: Headers, body: unknown, text: string, what: string, apiToken: string): EngineError {
  const detail = describeErrorBody(body, text);
  const message = (prefix: string) => redact(detail ? `${prefix}: ${detail}` : prefix, apiToken);
  const base = `Replicate ${what} failed with HTTP ${status}`;
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after')) ?? retryAfterFromDetail(detail);
    const prefix = status === 429 ? `Replicate rate limit reached (HTTP 429, ${what})` : base;
    return new EngineError('engine_unavailable', message(prefix), { retryable: true, retryAfterMs, httpStatus: status });
  }
  if (status === 402 || OUT_OF_CREDIT.test(detail)) {
    return new EngineError('engine_out_of_credits', message(`Replicate account is out of credit (HTTP ${status}); top it up at replicate.com/account/billing`), { retryable: false, httpStatus: status });
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine_auth_failed', message(`Replicate refused the API token (HTTP ${status}, ${what})`), { retryable: false, httpStatus: status });
  }
  return new EngineError('engine_rejected_request', message(base), { retryable: false, httpStatus: status });
}
