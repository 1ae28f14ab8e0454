import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import { parseRetryAfter } from '../engine-http.ts';

/**
 * HTTP plumbing for the ComfyUI adapter: server URLs, the optional proxy credentials, timeouts and the
 * mapping from HTTP failures to EngineError. Protocol notes: ../shared/research/providers.md §4.
 */

/** ComfyUI itself has no auth; these are for a reverse proxy in front of it. Sent only to configured servers. */
export type ComfyUiAuth = { type: 'bearer'; token: string } | { type: 'basic'; username: string; password: string };

export interface ComfyHttpConfig {
  fetch: typeof fetch;
  requestTimeoutMs: number;
  /** The Authorization header value, or null. */
  authorization: string | null;
  /** Strings that must never appear in an error message (token, password, the encoded header). */
  secrets: string[];
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function authorizationFor(auth: ComfyUiAuth | undefined): { authorization: string | null; secrets: string[] } {
  if (!auth) return { authorization: null, secrets: [] };
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}`, secrets: [auth.token] };
  const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return { authorization: `Basic ${encoded}`, secrets: [auth.password, encoded] };
}

/** A server base URL without a trailing slash. A path prefix (a proxy's sub-path) is kept. */
export function normaliseServerUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`ComfyUI server URL must be http(s), got ${url.protocol}`);
  // fetch refuses URLs with credentials, and they would end up in logs: the `auth` option is the way.
  if (url.username || url.password) throw new Error('ComfyUI server URLs must not contain credentials; use the auth option');
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

export function redact(message: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => (secret.length >= 4 ? text.replaceAll(secret, '[redacted]') : text), message);
}

type Method = 'GET' | 'POST';

/**
 * One HTTP request to a ComfyUI server with a timeout covering the whole exchange. Network errors and
 * timeouts become retryable `engine_unavailable`; an abort by the caller's signal is re-thrown as is.
 */
export async function comfyFetch<T>(
  cfg: ComfyHttpConfig,
  url: URL,
  init: { method: Method; json?: unknown; form?: FormData; sendAuth: boolean; accept: string; timeoutMs?: number },
  what: string,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const timeoutMs = init.timeoutMs ?? cfg.requestTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: init.accept };
  const withAuth = init.sendAuth && cfg.authorization !== null;
  if (withAuth) headers.authorization = cfg.authorization!;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await cfg.fetch(url, {
      method: init.method,
      headers,
      body: init.form ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // fetch keeps custom headers across redirects: credentials must not follow one elsewhere.
      redirect: withAuth ? 'manual' : 'follow',
    });
    if (withAuth && res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new EngineError('engine_error', `ComfyUI ${what} answered with a redirect (HTTP ${res.status}), which is not followed with credentials`, { retryable: false, httpStatus: res.status });
    }
    return await read(res);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new EngineError('engine_unavailable', `ComfyUI ${what} timed out after ${timeoutMs} ms`, { retryable: true, cause: err });
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new EngineError('engine_unavailable', redact(`Could not reach ComfyUI (${what}): ${reason}`, cfg.secrets), { retryable: true, cause: err });
  }
}

/** A JSON request; non-2xx answers are thrown as mapped EngineErrors. An empty 200 body is `undefined`. */
export async function comfyJson(
  cfg: ComfyHttpConfig,
  url: URL,
  init: { method: Method; json?: unknown; form?: FormData; timeoutMs?: number },
  what: string,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return comfyFetch(cfg, url, { ...init, sendAuth: true, accept: 'application/json' }, what, signal, async (res) => {
    const text = await res.text();
    const body = safeJson(text);
    if (!res.ok) throw errorFromResponse(res.status, res.headers, body, text, what, cfg.secrets);
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

const nodeErrorItemSchema = z.object({ message: z.string().optional(), details: z.unknown().optional() });
const comfyErrorSchema = z.object({
  // `{type, message, details, extra_info}` today; a bare string ("no prompt") in older servers.
  error: z.union([z.string(), z.object({ type: z.string().optional(), message: z.string().optional(), details: z.unknown().optional() })]),
  // `{}` or `[]` when empty (both occur), else `{<node id>: {errors, dependent_outputs, class_type}}`.
  node_errors: z.unknown().optional(),
  message: z.string().optional(),
});
const nodeErrorsSchema = z.record(z.string(), z.object({ class_type: z.string().optional(), errors: z.array(nodeErrorItemSchema).catch([]) }));
const detailSchema = z.object({ detail: z.union([z.string(), z.array(z.object({ msg: z.string() }))]) });

/** Every node error as "ClassType (node 4): Value not in list: unet_name: 'x' not in [...]". */
function describeNodeErrors(raw: unknown): string[] {
  const parsed = nodeErrorsSchema.safeParse(raw);
  if (!parsed.success) return [];
  return Object.entries(parsed.data).flatMap(([id, node]) =>
    node.errors.map((e) => {
      const details = typeof e.details === 'string' && e.details !== '' ? `: ${e.details}` : '';
      return `${node.class_type ?? 'node'} (node ${id}): ${e.message ?? 'invalid'}${details}`;
    }),
  );
}

/**
 * The readable part of an error body: ComfyUI's `{error: {message, details}, node_errors}` (validation
 * of the graph), FastAPI-style `{detail}` and the generic `{error, message}` (proxies), else the text.
 */
export function describeErrorBody(body: unknown, text: string): string {
  const comfy = comfyErrorSchema.safeParse(body);
  if (comfy.success) {
    const { error, message } = comfy.data;
    const head = typeof error === 'string'
      ? [error, message].filter(Boolean).join(': ')
      : [error.message ?? error.type, typeof error.details === 'string' && error.details !== '' ? error.details : null].filter(Boolean).join(': ');
    const nodes = describeNodeErrors(comfy.data.node_errors);
    // The summary's details repeat the node errors; the per-node lines say which node, so prefer them.
    if (nodes.length > 0) return [typeof error === 'string' ? error : (error.message ?? error.type ?? 'invalid prompt'), ...nodes].join('; ');
    if (head) return head;
  }
  const detail = detailSchema.safeParse(body);
  if (detail.success) return typeof detail.data.detail === 'string' ? detail.data.detail : detail.data.detail.map((d) => d.msg).join('; ');
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

export { parseRetryAfter } from '../engine-http.ts';

export function errorFromResponse(status: number, headers: Headers, body: unknown, text: string, what: string, secrets: readonly string[]): EngineError {
  const detail = describeErrorBody(body, text);
  const message = (prefix: string) => redact(detail ? `${prefix}: ${detail}` : prefix, secrets);
  const base = `ComfyUI ${what} failed with HTTP ${status}`;
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
    return new EngineError('engine_unavailable', message(status === 429 ? `ComfyUI (or its proxy) is rate limiting (HTTP 429, ${what})` : base), { retryable: true, retryAfterMs, httpStatus: status });
  }
  if (status === 402 || /insufficient (balance|credits)/i.test(detail)) {
    return new EngineError('engine_out_of_credits', message('The ComfyUI host reports insufficient balance'), { retryable: false, httpStatus: status });
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine_auth_failed', message(`ComfyUI (or the proxy in front of it) refused the request (HTTP ${status}, ${what}); check the auth option`), { retryable: false, httpStatus: status });
  }
  if (status === 404 || status === 405) {
    return new EngineError('engine_error', message(`${base}; is this URL a ComfyUI server?`), { retryable: false, httpStatus: status });
  }
  return new EngineError('engine_rejected_request', message(base), { retryable: false, httpStatus: status });
}

