import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import { parseRetryAfter } from '../engine-http.ts';
import { normaliseBaseUrl as normaliseEngineBaseUrl } from '../engine-http.ts';

/**
 * HTTP plumbing for the fal.ai adapter: timeouts, where the API key may go, and fal's error bodies and
 * headers mapped to EngineError. Protocol notes: ../shared/research/providers.md §2.1.
 */

export interface FalHttpConfig {
  apiKey: string;
  /** Queue origin (and optional path prefix), no trailing slash. */
  baseUrl: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

export const DEFAULT_BASE_URL = 'https://queue.fal.run';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export const normaliseBaseUrl = (baseUrl: string): string => normaliseEngineBaseUrl(baseUrl, 'fal');

/**
 * The key goes to our configured origin and to fal's own HTTPS hosts (queue.fal.run, the backup
 * queue.falrun.com, *.fal.ai), never to whatever host a response names. CDN hosts (fal.media) never
 * need it: result files are public URLs.
 */
export function isKeyAllowedFor(url: URL, baseUrl: string): boolean {
  if (url.origin === new URL(baseUrl).origin) return true;
  if (url.protocol !== 'https:') return false;
  return ['fal.run', 'falrun.com', 'fal.ai'].some((d) => url.hostname === d || url.hostname.endsWith(`.${d}`));
}

export function redact(message: string, apiKey: string): string {
  if (apiKey.length < 4) return message;
  // fal keys are "id:secret"; either half alone identifies the account.
  const parts = [apiKey, ...apiKey.split(':').filter((p) => p.length >= 8)];
  return parts.reduce((text, part) => text.replaceAll(part, '[redacted]'), message);
}

export type FalMethod = 'GET' | 'POST' | 'PUT';

/**
 * One HTTP request with a timeout covering the whole exchange (headers and body). Network errors and
 * timeouts become retryable `engine_unavailable`; an abort by the caller's signal is re-thrown as the
 * signal's reason, since nothing failed.
 */
export async function falFetch<T>(
  cfg: FalHttpConfig,
  url: URL,
  init: { method: FalMethod; json?: unknown; sendKey: boolean; accept: string; headers?: Record<string, string> },
  what: string,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(cfg.requestTimeoutMs);
  const headers: Record<string, string> = { accept: init.accept, ...init.headers };
  if (init.sendKey) headers.authorization = `Key ${cfg.apiKey}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await cfg.fetch(url, {
      method: init.method,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // fetch keeps custom headers across redirects, so a redirect must never carry the key elsewhere.
      redirect: init.sendKey ? 'manual' : 'follow',
    });
    if (init.sendKey && res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new EngineError('engine_error', `fal ${what} answered with a redirect (HTTP ${res.status}), which is not followed with the API key`, { retryable: false, httpStatus: res.status });
    }
    return await read(res);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new EngineError('engine_unavailable', `fal ${what} timed out after ${cfg.requestTimeoutMs} ms`, { retryable: true, cause: err });
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new EngineError('engine_unavailable', redact(`Could not reach fal (${what}): ${reason}`, cfg.apiKey), { retryable: true, cause: err });
  }
}

/** A JSON answer of any status, for callers that interpret non-2xx answers themselves. */
export interface FalAnswer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export async function falRequest(
  cfg: FalHttpConfig,
  url: URL,
  init: { method: FalMethod; json?: unknown; sendKey: boolean; headers?: Record<string, string> },
  what: string,
  signal: AbortSignal | undefined,
): Promise<FalAnswer> {
  return falFetch(cfg, url, { ...init, accept: 'application/json' }, what, signal, async (res) => {
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: safeJson(text), text };
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const issueSchema = z.object({
  loc: z.array(z.union([z.string(), z.number()])).optional().catch(undefined),
  msg: z.string(),
  type: z.string().optional().catch(undefined),
});
export type FalIssue = z.infer<typeof issueSchema>;
const detailSchema = z.object({
  detail: z.union([z.string(), z.array(issueSchema).min(1), z.object({ error: z.string().optional(), message: z.string().optional() })]),
  error_type: z.string().optional().catch(undefined),
});
const genericErrorSchema = z.object({ error: z.string().optional(), message: z.string().optional() });

/** fal's model errors (`detail: [{loc, msg, type}]`), or [] for any other body. */
export function issuesOf(body: unknown): FalIssue[] {
  const parsed = detailSchema.safeParse(body);
  return parsed.success && Array.isArray(parsed.data.detail) ? parsed.data.detail : [];
}

/** `error_type` from the X-Fal-Error-Type header, or from the body of a request error. */
export function errorTypeOf(headers: Headers, body: unknown): string | null {
  const header = headers.get('x-fal-error-type');
  if (header) return header.trim();
  const parsed = detailSchema.safeParse(body);
  return parsed.success ? (parsed.data.error_type ?? null) : null;
}

/** X-Fal-Retryable: "true" / "false", or null when absent. */
export function retryableHeader(headers: Headers): boolean | null {
  const value = headers.get('x-fal-retryable')?.trim().toLowerCase();
  return value === 'true' ? true : value === 'false' ? false : null;
}

/**
 * The readable part of an error body: fal's model errors `{detail: [{loc, msg, type}]}`, request errors
 * `{detail: "…", error_type}`, a nested `{detail: {error, message}}`, the generic `{error, message}`
 * envelope, else the first 200 characters of the text.
 */
export function describeErrorBody(body: unknown, text: string): string {
  const fal = detailSchema.safeParse(body);
  if (fal.success) {
    const { detail } = fal.data;
    if (typeof detail === 'string') return detail;
    if (!Array.isArray(detail)) return [detail.error, detail.message].filter(Boolean).join(': ');
    return detail
      .map(({ loc = [], msg }) => {
        // ["body", "image_size", "width"] → "image_size.width": the location kind is noise to an operator.
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

/** fal locks an account whose balance ran out: HTTP 403 "User is locked. Reason: Exhausted balance." [C] */
const OUT_OF_CREDITS = /exhausted balance|insufficient (balance|credits|funds)|top up your balance/i;

/** A non-2xx answer to submit, status, cancel or any other call, as an EngineError. */
export function errorFromAnswer(answer: FalAnswer, what: string, apiKey: string): EngineError {
  const { status, headers, body, text } = answer;
  const detail = describeErrorBody(body, text);
  const errorType = errorTypeOf(headers, body);
  const suffix = [detail, errorType ? `(${errorType})` : ''].filter(Boolean).join(' ');
  const message = (prefix: string) => redact(suffix ? `${prefix}: ${suffix}` : prefix, apiKey);
  const headerRetryable = retryableHeader(headers);
  const base = `fal ${what} failed with HTTP ${status}`;

  if (status === 402 || OUT_OF_CREDITS.test(detail)) {
    return new EngineError('engine_out_of_credits', message('The fal account is out of balance; top it up at fal.ai/dashboard/billing'), { retryable: false, httpStatus: status });
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine_auth_failed', message(`fal refused the API key (HTTP ${status}, ${what})`), { retryable: false, httpStatus: status });
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
    const prefix = status === 429 ? `fal rate limit reached (HTTP 429, ${what})` : base;
    // X-Fal-Retryable: false on a 5xx means the same input will fail again: a final engine error.
    if (headerRetryable === false && status !== 429) return new EngineError('engine_error', message(prefix), { retryable: false, httpStatus: status });
    return new EngineError('engine_unavailable', message(prefix), { retryable: true, retryAfterMs, httpStatus: status });
  }
  return new EngineError('engine_rejected_request', message(base), { retryable: headerRetryable === true, httpStatus: status });
}
