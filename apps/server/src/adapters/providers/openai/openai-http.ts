import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import { parseRetryAfter } from '../engine-http.ts';
import { normaliseBaseUrl as normaliseEngineBaseUrl } from '../engine-http.ts';

/**
 * HTTP plumbing for the OpenAI-compatible adapter: timeouts, and the mapping from OpenAI's error
 * envelope `{"error": {"message", "type", "param", "code"}}` (and the `{detail}` / `{error, message}`
 * shapes gateways use) to EngineError. Protocol notes: ../shared/research/providers.md §5.
 */

export interface OpenAiHttpConfig {
  apiKey: string;
  /** Including the version prefix (…/v1), without a trailing slash. */
  baseUrl: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Synchronous generation: gpt-image at high quality routinely takes over a minute. */
export const DEFAULT_GENERATION_TIMEOUT_MS = 180_000;

export const normaliseBaseUrl = (baseUrl: string): string => normaliseEngineBaseUrl(baseUrl, 'OpenAI-compatible');

/**
 * Removes the key, and anything that looks like a masked key: OpenAI's 401 text echoes a wrong key as
 * "sk-abc****…wxyz", which still names the key's ends.
 */
export function redact(message: string, apiKey: string): string {
  const withoutKey = apiKey.length >= 4 ? message.replaceAll(apiKey, '[redacted]') : message;
  return withoutKey.replace(/[^\s"'`]*\*{3,}[^\s"'`.,;]*/g, '[redacted]');
}

export type SendBody = { kind: 'json'; value: unknown } | { kind: 'form'; value: FormData };

/**
 * One HTTP request with a timeout, read completely inside it. Network errors and timeouts become
 * retryable `engine_unavailable`; an abort by the caller's signal is re-thrown as its reason. No retry:
 * a generation POST is not idempotent (the job layer decides).
 */
export async function openAiFetch<T>(
  cfg: OpenAiHttpConfig,
  url: URL,
  init: { method: 'GET' | 'POST'; body?: SendBody; sendKey: boolean; accept: string; timeoutMs?: number },
  what: string,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const timeoutMs = init.timeoutMs ?? cfg.requestTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: init.accept };
  if (init.sendKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  let body: string | FormData | undefined;
  if (init.body?.kind === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body.value);
  } else if (init.body?.kind === 'form') {
    body = init.body.value; // fetch sets multipart/form-data with its boundary
  }
  try {
    const res = await cfg.fetch(url, {
      method: init.method,
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // fetch keeps custom headers across redirects, so a redirect must never carry the key elsewhere.
      redirect: init.sendKey ? 'manual' : 'follow',
    });
    if (init.sendKey && res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new EngineError('engine_error', `OpenAI-compatible ${what} answered with a redirect (HTTP ${res.status}), which is not followed with the API key`, { retryable: false, httpStatus: res.status });
    }
    return await read(res);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new EngineError('engine_unavailable', `OpenAI-compatible ${what} timed out after ${timeoutMs} ms`, { retryable: true, cause: err });
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new EngineError('engine_unavailable', redact(`Could not reach the OpenAI-compatible API (${what}): ${reason}`, cfg.apiKey), { retryable: true, cause: err });
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const openAiEnvelopeSchema = z.object({
  error: z.object({
    message: z.string().nullish(),
    type: z.string().nullish().catch(null),
    param: z.string().nullish().catch(null),
    code: z.union([z.string(), z.number()]).nullish().catch(null),
  }),
});
const validationItemSchema = z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string() });
const detailSchema = z.object({ detail: z.union([z.string(), z.array(validationItemSchema).min(1)]) });
const genericErrorSchema = z.object({ error: z.string().optional(), message: z.string().optional() });

export interface ErrorInfo {
  /** Human-readable text for the operator (not yet redacted). */
  text: string;
  /** OpenAI's `error.code` (e.g. insufficient_quota, content_policy_violation); `error` of an `{error, message}` body. */
  code: string | null;
  type: string | null;
}

/** OpenAI's envelope first, then FastAPI's `{detail}`, then `{error, message}`, then the raw text. */
export function describeErrorBody(body: unknown, text: string): ErrorInfo {
  const openAi = openAiEnvelopeSchema.safeParse(body);
  if (openAi.success) {
    const { message, type, param, code } = openAi.data.error;
    const codeText = code === null || code === undefined ? null : String(code);
    const suffix = [param ? `param ${param}` : null, codeText ? `code ${codeText}` : null].filter(Boolean).join(', ');
    return { text: [message ?? type ?? 'error', suffix ? `(${suffix})` : null].filter(Boolean).join(' '), code: codeText, type: type ?? null };
  }
  const detail = detailSchema.safeParse(body);
  if (detail.success) {
    const d = detail.data.detail;
    const msg = typeof d === 'string' ? d : d.map(({ loc = [], msg: m }) => {
      const path = (['body', 'query', 'path', 'header'].includes(String(loc[0])) ? loc.slice(1) : loc).join('.');
      return path ? `${path}: ${m}` : m;
    }).join('; ');
    return { text: msg, code: null, type: null };
  }
  const generic = genericErrorSchema.safeParse(body);
  if (generic.success && (generic.data.message || generic.data.error)) {
    return { text: [generic.data.error, generic.data.message].filter(Boolean).join(': '), code: generic.data.error ?? null, type: null };
  }
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return { text: trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed, code: null, type: null };
}

export { parseRetryAfter } from '../engine-http.ts';

/** OpenAI also sends `retry-after-ms` (the official SDK prefers it); then the standard header. */
export function retryAfterFrom(headers: Headers): number | null {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  return parseRetryAfter(headers.get('retry-after'));
}

/** Codes with which OpenAI (and DALL·E-style gateways) report a safety-system refusal. */
export const MODERATION_CODES: ReadonlySet<string> = new Set(['content_policy_violation', 'moderation_blocked']);
const OUT_OF_CREDIT_CODES: ReadonlySet<string> = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'insufficient_balance']);

export function isModerationError(info: ErrorInfo): boolean {
  return info.code !== null && MODERATION_CODES.has(info.code.toLowerCase());
}

export function errorFromResponse(status: number, headers: Headers, info: ErrorInfo, what: string, apiKey: string): EngineError {
  const message = (prefix: string) => redact(info.text ? `${prefix}: ${info.text}` : prefix, apiKey);
  const code = info.code?.toLowerCase() ?? null;
  // Checked before 429: OpenAI answers an empty account with 429 + insufficient_quota, which no wait fixes.
  if (status === 402 || (code !== null && OUT_OF_CREDIT_CODES.has(code)) || info.type === 'insufficient_quota' || /insufficient (balance|credits?|funds)/i.test(info.text)) {
    return new EngineError('engine_out_of_credits', message('The OpenAI-compatible account has run out of credit or quota'), { retryable: false, httpStatus: status });
  }
  if (status === 429 || status === 408 || status === 409 || status >= 500) {
    const prefix = status === 429 ? `OpenAI-compatible rate limit reached (HTTP 429, ${what})` : `OpenAI-compatible ${what} failed with HTTP ${status}`;
    return new EngineError('engine_unavailable', message(prefix), { retryable: true, retryAfterMs: retryAfterFrom(headers), httpStatus: status });
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine_auth_failed', message(`The OpenAI-compatible API refused the API key (HTTP ${status}, ${what})`), { retryable: false, httpStatus: status });
  }
  return new EngineError('engine_rejected_request', message(`OpenAI-compatible ${what} was rejected with HTTP ${status}`), { retryable: false, httpStatus: status });
}
