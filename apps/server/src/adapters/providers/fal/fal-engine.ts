import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineHealth, EngineRequest, EngineResult, EngineStatus, ImageEngine, SubmitResult } from '#src/adapters/providers/engine.ts';
import { DEFAULT_MAX_RESULT_BYTES, downloadResult } from './fal-download.ts';
import { DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT_MS, errorFromAnswer, falRequest, isKeyAllowedFor, normaliseBaseUrl, redact } from './fal-http.ts';
import type { FalHttpConfig } from './fal-http.ts';
import { buildInput, endpointFor, parseEndpointId } from './fal-input.ts';
import { progressFromLogs, statusFromFailedResult, statusFromOutput, statusSchema } from './fal-result.ts';
import { DEFAULT_JWKS_URL, createFalWebhookVerifier } from './fal-webhook.ts';

/**
 * fal.ai's queue API as an ImageEngine (providers.md §2): submit to the endpoint id → poll the
 * `status_url` fal returned → GET the `response_url` once COMPLETED (a failed request is COMPLETED
 * too, and its result GET carries the failure) → download the image from fal's CDN at once.
 */

export interface FalEngineOptions {
  /** `FAL_KEY`: "key-id:key-secret". Sent as `Authorization: Key …`, to the queue host only. */
  apiKey: string;
  /** Queue host; default https://queue.fal.run (backup: https://queue.falrun.com). */
  baseUrl?: string;
  /** fal's webhook signing keys; default https://rest.alpha.fal.ai/.well-known/jwks.json. */
  jwksUrl?: string;
  fetch?: typeof fetch;
  /** Per HTTP request (submit, one status or result GET, one download, JWKS); default 30 s. */
  requestTimeoutMs?: number;
  /** Largest result accepted; default 50 MB. */
  maxResultBytes?: number;
  /**
   * Lifetime of the output files on fal's CDN, sent as `X-Fal-Object-Lifecycle-Preference` [C]. We
   * download at once, so the default is one hour; null leaves fal's (long) default.
   */
  outputLifetimeSeconds?: number | null;
  /**
   * false sends `X-Fal-Store-IO: 0` so fal keeps no copy of the request and response payloads in its
   * request history (30 days by default) [C]. Off by default until verified that the queue's result
   * GET still answers with it.
   */
  retainRequestHistory?: boolean;
  /** When set, webhooks signed for another fal account (X-Fal-Webhook-User-Id) are rejected. */
  webhookUserId?: string | null;
  /** JWKS cache lifetime (≤ 24 h) and the minimum gap between refetches for unknown signatures. */
  jwksCacheMs?: number;
  jwksRefetchCooldownMs?: number;
  /** Endpoint used by `health` (a status GET for a request that does not exist); default fal-ai/flux-2-pro. */
  healthEndpoint?: string;
  /** Clock for webhook timestamps and the JWKS cache (ms since the epoch). */
  now?: () => number;
}

const submitSchema = z.object({
  request_id: z.string().min(1),
  status_url: z.string().nullish().catch(null),
  response_url: z.string().nullish().catch(null),
  cancel_url: z.string().nullish().catch(null),
});

/** A request id that never exists, for the health check. */
const PROBE_REQUEST_ID = '00000000-0000-4000-8000-000000000000';

interface QueueUrls {
  status: string;
  response: string;
  cancel: string;
}

export function createFalEngine(opts: FalEngineOptions): ImageEngine {
  if (!opts.apiKey) throw new Error('fal engine needs an API key');
  const cfg: FalHttpConfig = {
    apiKey: opts.apiKey,
    baseUrl: normaliseBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL),
    fetch: opts.fetch ?? globalThis.fetch,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const outputLifetime = opts.outputLifetimeSeconds === undefined ? 3600 : opts.outputLifetimeSeconds;
  const verifyWebhook = createFalWebhookVerifier({
    jwksUrl: opts.jwksUrl ?? DEFAULT_JWKS_URL,
    fetch: cfg.fetch,
    requestTimeoutMs: cfg.requestTimeoutMs,
    now: opts.now ?? Date.now,
    jwksCacheMs: opts.jwksCacheMs,
    jwksRefetchCooldownMs: opts.jwksRefetchCooldownMs,
    expectedUserId: opts.webhookUserId,
  });

  /** The path rule: status, result and cancel live under owner/app only, whatever path was submitted to. */
  const derivedUrls = (app: string, requestId: string): QueueUrls => {
    const response = `${cfg.baseUrl}/${app}/requests/${encodeURIComponent(requestId)}`;
    return { status: `${response}/status`, response, cancel: `${response}/cancel` };
  };
  /** A URL fal returned, if it is one we may send the key to; otherwise the derived one. */
  const usable = (raw: string | null | undefined, fallback: string): string => {
    const url = raw && URL.canParse(raw) ? new URL(raw) : null;
    return url && (url.protocol === 'https:' || url.protocol === 'http:') && isKeyAllowedFor(url, cfg.baseUrl) ? url.href : fallback;
  };
  /** The persisted URLs; handles without `extra` (older rows) fall back to pollingUrl, then the path rule. */
  const urlsOf = (handle: EngineHandle, engineModel: string | null): QueueUrls => {
    const extra = handle.extra ?? {};
    const status = extra.statusUrl ?? handle.pollingUrl ?? (engineModel ? derivedUrls(parseEndpointId(engineModel).app, handle.requestId).status : null);
    if (!status) throw new EngineError('engine_error', `no fal status URL is known for request ${handle.requestId}`, { retryable: false });
    const base = status.replace(/\/status(\?.*)?$/, '');
    return { status, response: extra.responseUrl ?? base, cancel: extra.cancelUrl ?? `${base}/cancel` };
  };

  /** Persisted URLs are re-checked before the key goes with them (a handle is data from the database). */
  const queueUrl = (raw: string): URL => {
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || !isKeyAllowedFor(url, cfg.baseUrl)) throw new EngineError('engine_error', 'the fal request handle names a URL outside fal and the configured base URL', { retryable: false });
    return url;
  };

  const getResult = async (urls: QueueUrls, handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> => {
    const answer = await falRequest(cfg, queueUrl(urls.response), { method: 'GET', sendKey: true }, 'result', signal);
    if (answer.status >= 200 && answer.status < 300) return statusFromOutput(answer.body, request.seed);
    return statusFromFailedResult(answer, handle.requestId, cfg.apiKey);
  };

  return {
    id: 'fal',
    label: 'fal.ai',
    acceptsWebhooks: true,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      const endpoint = endpointFor(request);
      const url = new URL(`${cfg.baseUrl}/${endpoint.id}`);
      if (request.webhookUrl) url.searchParams.set('fal_webhook', request.webhookUrl);
      const headers: Record<string, string> = {};
      if (outputLifetime !== null) headers['x-fal-object-lifecycle-preference'] = JSON.stringify({ expiration_duration_seconds: outputLifetime });
      if (opts.retainRequestHistory === false) headers['x-fal-store-io'] = '0';

      const answer = await falRequest(cfg, url, { method: 'POST', json: buildInput(request, endpoint), sendKey: true, headers }, 'submit', signal);
      if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, 'submit', cfg.apiKey);
      const parsed = submitSchema.safeParse(answer.body);
      if (!parsed.success) {
        // Not retryable: fal may have queued (and will bill) the request; a resubmit could run it twice.
        throw new EngineError('engine_error', 'fal accepted the submit but its answer had no request_id', { retryable: false, httpStatus: answer.status });
      }
      const { request_id: requestId, status_url, response_url, cancel_url } = parsed.data;
      const derived = derivedUrls(endpoint.app, requestId);
      const extra = {
        endpoint: endpoint.id,
        statusUrl: usable(status_url, derived.status),
        responseUrl: usable(response_url, derived.response),
        cancelUrl: usable(cancel_url, derived.cancel),
      };
      // fal reports no cost at submit; pricing is per megapixel on its side (§2.3).
      return { requestId, pollingUrl: extra.statusUrl, extra, cost: null };
    },

    async poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> {
      const urls = urlsOf(handle, request.engineModel);
      const statusUrl = queueUrl(urls.status);
      statusUrl.searchParams.set('logs', '1');
      const answer = await falRequest(cfg, statusUrl, { method: 'GET', sendKey: true }, 'status', signal);
      if (answer.status === 404) {
        return { state: 'failed', code: 'engine_error', retryable: false, detail: `fal does not know request ${handle.requestId}: it never existed or has expired` };
      }
      if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, 'status', cfg.apiKey);
      const parsed = statusSchema.safeParse(answer.body);
      if (!parsed.success) throw new EngineError('engine_error', 'fal answered the status request with an unexpected body', { retryable: true, httpStatus: answer.status });
      switch (parsed.data.status) {
        case 'COMPLETED':
          return getResult(urls, handle, request, signal);
        case 'IN_QUEUE':
          return { state: 'pending', progress: 0 };
        default:
          // IN_PROGRESS, and any status outside the documented enum: still running; the job's own
          // deadline ends a request that never completes.
          return { state: 'pending', progress: progressFromLogs(parsed.data.logs) };
      }
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      return downloadResult(cfg, result, maxResultBytes, signal);
    },

    /**
     * PUT cancel_url: a queued request is dropped, a running one gets a cancel signal. Already finished
     * or unknown requests need nothing more. Other failures are thrown so the job can log them.
     */
    async cancel(handle: EngineHandle): Promise<void> {
      const answer = await falRequest(cfg, queueUrl(urlsOf(handle, null).cancel), { method: 'PUT', sendKey: true }, 'cancel', undefined);
      if (answer.status >= 200 && answer.status < 300) return;
      const status = z.object({ status: z.string() }).safeParse(answer.body);
      if (answer.status === 404 || (answer.status === 400 && status.success && status.data.status === 'ALREADY_COMPLETED')) return;
      throw errorFromAnswer(answer, 'cancel', cfg.apiKey);
    },

    verifyWebhook,

    /** A status GET for a request id that cannot exist: reaches the queue and checks the key, costs nothing. */
    async health(signal?: AbortSignal): Promise<EngineHealth> {
      const { app } = parseEndpointId(opts.healthEndpoint ?? 'fal-ai/flux-2-pro');
      try {
        const answer = await falRequest(cfg, new URL(derivedUrls(app, PROBE_REQUEST_ID).status), { method: 'GET', sendKey: true }, 'health check', signal);
        if (answer.status < 400 || answer.status === 404 || answer.status === 400 || answer.status === 422) return { reachable: true, detail: null, balance: null };
        return { reachable: false, detail: errorFromAnswer(answer, 'health check', cfg.apiKey).message, balance: null };
      } catch (err) {
        if (err instanceof EngineError) return { reachable: false, detail: redact(err.message, cfg.apiKey), balance: null };
        throw err;
      }
    },
  };
}
