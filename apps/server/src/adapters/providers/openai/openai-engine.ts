import { randomUUID } from 'node:crypto';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineHealth, EngineRequest, EngineResult, EngineStatus, ImageEngine, SubmitResult } from '#src/adapters/providers/engine.ts';
import {
  DEFAULT_BASE_URL, DEFAULT_GENERATION_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS,
  describeErrorBody, errorFromResponse, isModerationError, normaliseBaseUrl, openAiFetch, redact, safeJson,
} from './openai-http.ts';
import type { OpenAiHttpConfig } from './openai-http.ts';
import { buildImagesCall } from './openai-request.ts';
import { createResultCache, looksLikeImage, resultTooLarge, statusFromResponse } from './openai-results.ts';
import { readCapped } from '../engine-http.ts';

/**
 * Any OpenAI-compatible Images API as an ImageEngine: OpenAI itself (gpt-image, DALL·E), LocalAI-style
 * servers and FLUX gateways. Protocol: ../shared/research/providers.md §5.
 *
 * The API is synchronous and keeps no task: `submit` performs the whole generation and returns the
 * final status. `requestId` is a local random id (nothing identifies the request at the engine), and
 * `poll` answers from an in-memory cache of that final status. Consequences:
 * - A worker that crashes during or just after `submit`, before the job persisted the handle, makes
 *   the job submit again: the engine may generate and bill the image once more per such crash. No
 *   idempotency header exists for this API.
 * - `poll` for a handle this process no longer holds (restart, eviction) returns `failed` with code
 *   `interrupted`, not retryable: the bytes are gone, there is nothing to re-fetch, and a retryable
 *   failure would only make the job poll the same handle again. A `url` result survives in
 *   `handle.extra.resultUrl`, where the job persists handle extras, until the URL itself expires.
 * - `cancel` cannot stop anything at the engine; it only drops the cached result.
 * - No webhooks and no progress: the API has neither.
 */

export interface OpenAiImagesEngineOptions {
  /** Sent as `Authorization: Bearer …`. An empty string sends no Authorization (LocalAI without keys). */
  apiKey: string;
  /** Including the version prefix; default https://api.openai.com/v1 (LocalAI: http://host:8080/v1). */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Per HTTP request other than the generation itself (result download, health); default 30 s. */
  requestTimeoutMs?: number;
  /** The synchronous generation/edit call; default 180 s (high-quality gpt-image often takes over a minute). */
  generationTimeoutMs?: number;
  /** Largest result accepted (decoded b64_json or downloaded URL); default 50 MB. */
  maxResultBytes?: number;
  /** How long `poll` can still answer for a submitted request; default 15 minutes (the default generation deadline). */
  resultCacheTtlMs?: number;
  /** At most this many final statuses (with their image bytes) are kept; default 32. */
  maxCachedResults?: number;
}

const DEFAULT_MAX_RESULT_BYTES = 50 * 1024 * 1024;
const DEFAULT_CACHE_TTL_MS = 15 * 60_000;
const DEFAULT_MAX_CACHED = 32;
/** Headroom over the decoded size: base64 is 4/3 larger, plus the JSON around it. */
const jsonLimitFor = (maxResultBytes: number) => Math.ceil((maxResultBytes * 4) / 3) + 1024 * 1024;

const interrupted = (requestId: string): EngineStatus => ({
  state: 'failed',
  code: 'interrupted',
  retryable: false,
  detail: `The OpenAI-compatible API answers synchronously and keeps nothing to resume; this server no longer holds the result of ${requestId} (restarted, or the result was evicted)`,
});

export function createOpenAiImagesEngine(opts: OpenAiImagesEngineOptions): ImageEngine {
  const cfg: OpenAiHttpConfig = {
    apiKey: opts.apiKey,
    baseUrl: normaliseBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL),
    fetch: opts.fetch ?? globalThis.fetch,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const generationTimeoutMs = opts.generationTimeoutMs ?? DEFAULT_GENERATION_TIMEOUT_MS;
  const maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const cache = createResultCache(opts.resultCacheTtlMs ?? DEFAULT_CACHE_TTL_MS, opts.maxCachedResults ?? DEFAULT_MAX_CACHED);
  const hasKey = cfg.apiKey !== '';
  const baseOrigin = new URL(cfg.baseUrl).origin;

  return {
    id: 'openai',
    label: 'OpenAI-compatible images API',
    acceptsWebhooks: false,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      const call = buildImagesCall(request);
      const what = call.endpoint === 'edits' ? 'image edit' : 'image generation';
      const url = new URL(`${cfg.baseUrl}/images/${call.endpoint}`);
      const init = { method: 'POST' as const, body: call.body, sendKey: hasKey, accept: 'application/json', timeoutMs: generationTimeoutMs };
      const status = await openAiFetch(cfg, url, init, what, signal, async (res): Promise<EngineStatus> => {
        const text = (await readCapped(res, jsonLimitFor(maxResultBytes), resultTooLarge(maxResultBytes))).toString('utf8');
        const body = safeJson(text);
        if (res.ok) return statusFromResponse(body, { maxResultBytes, requestSeed: call.seedSent ? request.seed : null });
        const info = describeErrorBody(body, text);
        // OpenAI cannot tell us whether the prompt, a reference or the output tripped its safety
        // system (moderation_blocked covers both); "request" is the honest stage: nothing was delivered.
        if (res.status >= 400 && res.status < 500 && isModerationError(info)) {
          return { state: 'moderated', stage: 'request', detail: redact(info.text, cfg.apiKey) || null };
        }
        throw errorFromResponse(res.status, res.headers, info, what, cfg.apiKey);
      });
      const requestId = `openai-${randomUUID()}`;
      cache.set(requestId, status);
      const extra: Record<string, string> = {};
      if (status.state === 'ready' && status.result.kind === 'url') {
        extra.resultUrl = status.result.url;
        if (status.result.seed !== null) extra.seed = String(status.result.seed);
      }
      return { requestId, pollingUrl: null, cost: null, status, ...(Object.keys(extra).length > 0 ? { extra } : {}) };
    },

    async poll(handle: EngineHandle): Promise<EngineStatus> {
      const cached = cache.get(handle.requestId);
      if (cached) return cached;
      const resultUrl = handle.extra?.resultUrl;
      if (resultUrl) {
        const seed = Number(handle.extra?.seed);
        return { state: 'ready', result: { kind: 'url', url: resultUrl, seed: handle.extra?.seed !== undefined && Number.isSafeInteger(seed) ? seed : null } };
      }
      return interrupted(handle.requestId);
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      if (result.kind === 'bytes') return result.bytes; // checked when the answer arrived
      const url = URL.canParse(result.url) ? new URL(result.url) : null;
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        throw new EngineError('invalid_output', 'The result URL is not an http(s) URL', { retryable: false });
      }
      // Result URLs are signed (DALL·E's blob storage, BFL's delivery hosts): the key goes only to our
      // own origin (e.g. LocalAI's /generated-images), never to a host an answer names.
      const sendKey = hasKey && url.origin === baseOrigin;
      return openAiFetch(cfg, url, { method: 'GET', sendKey, accept: 'image/*' }, 'result download', signal, async (res) => {
        if ([403, 404, 410].includes(res.status) || (res.status === 401 && !sendKey)) {
          await res.body?.cancel();
          throw new EngineError('result_expired', `The result URL answered HTTP ${res.status}; it has probably expired`, { retryable: false, httpStatus: res.status });
        }
        if (!res.ok) {
          const text = await res.text();
          throw errorFromResponse(res.status, res.headers, describeErrorBody(safeJson(text), text), 'result download', cfg.apiKey);
        }
        const type = (res.headers.get('content-type') ?? '').toLowerCase();
        const generic = type === '' || type.startsWith('application/octet-stream') || type.startsWith('binary/octet-stream');
        if (!type.startsWith('image/') && !generic) {
          await res.body?.cancel();
          throw new EngineError('invalid_output', `The result is not an image (content-type "${type || 'none'}")`, { retryable: false });
        }
        const bytes = await readCapped(res, maxResultBytes, resultTooLarge(maxResultBytes));
        if (bytes.length === 0) throw new EngineError('invalid_output', 'The downloaded result is empty', { retryable: false });
        // Storage often labels blobs application/octet-stream: then the bytes themselves must say image.
        if (generic && !looksLikeImage(bytes)) throw new EngineError('invalid_output', 'The downloaded result is not an image', { retryable: false });
        return bytes;
      });
    },

    // Nothing runs at the engine once submit has returned; drop the cached bytes.
    async cancel(handle: EngineHandle): Promise<void> {
      cache.delete(handle.requestId);
    },

    async health(signal?: AbortSignal): Promise<EngineHealth> {
      try {
        await openAiFetch(cfg, new URL(`${cfg.baseUrl}/models`), { method: 'GET', sendKey: hasKey, accept: 'application/json' }, 'model list', signal, async (res) => {
          if (res.ok) return void (await res.body?.cancel()); // the list itself is not needed
          const text = await res.text();
          throw errorFromResponse(res.status, res.headers, describeErrorBody(safeJson(text), text), 'model list', cfg.apiKey);
        });
        return { reachable: true, detail: null };
      } catch (err) {
        signal?.throwIfAborted();
        return { reachable: false, detail: err instanceof Error ? redact(err.message, cfg.apiKey) : 'unknown error' };
      }
    },
  };
}
