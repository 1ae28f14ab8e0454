import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineHealth, EngineRequest, EngineResult, EngineStatus, ImageEngine, SubmitResult } from '#src/adapters/providers/engine.ts';
import { downloadOutput } from './replicate-download.ts';
import { DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT_MS, isTokenAllowedFor, normaliseBaseUrl, replicateJson } from './replicate-http.ts';
import type { ReplicateHttpConfig } from './replicate-http.ts';
import { buildPredictionInput, parseModelName } from './replicate-input.ts';
import { parsePrediction, toEngineStatus } from './replicate-prediction.ts';
import { createWebhookVerifier } from './replicate-webhooks.ts';

/**
 * Replicate's predictions API as an ImageEngine (providers.md §3): create a prediction on an official
 * model (`POST /v1/models/{owner}/{name}/predictions`) holding the request open briefly with
 * `Prefer: wait=N`; if it finished within N seconds the answer already carries the output
 * (`SubmitResult.status`), otherwise poll `urls.get`. Outputs are downloaded at once: Replicate
 * deletes them after an hour. Cancel is `POST urls.cancel`. Webhooks are Standard Webhooks signed.
 */

export interface ReplicateEngineOptions {
  /** An API token (r8_…); sent as `Authorization: Bearer`, only to `baseUrl` and api.replicate.com. */
  apiToken: string;
  /** Defaults to https://api.replicate.com. No /v1. */
  baseUrl?: string;
  /**
   * The account's webhook signing secret (`whsec_…`), or a function resolving it. When absent it is
   * fetched from `GET /v1/webhooks/default/secret` on the first webhook and cached.
   */
  webhookSecret?: string | (() => Promise<string>);
  fetch?: typeof fetch;
  /** Per HTTP request (create, one poll, cancel, one download); default 30 s. A create gets `preferWaitSeconds` on top. */
  requestTimeoutMs?: number;
  /**
   * Seconds Replicate may hold the create request open for the result (`Prefer: wait=N`, 1–60);
   * default 5. 0 sends no Prefer header: the create answers at once and the job polls.
   */
  preferWaitSeconds?: number;
  /** Webhook events to ask for when the request has a webhook URL; default `['completed']`. */
  webhookEvents?: readonly ('start' | 'completed')[];
  /** Largest output accepted; default 50 MB. */
  maxResultBytes?: number;
  /** Least age of a fetched webhook secret before a non-matching signature makes us fetch it again; default 5 min. */
  webhookSecretRefreshMs?: number;
}

const DEFAULT_MAX_RESULT_BYTES = 50 * 1024 * 1024;
const DEFAULT_PREFER_WAIT_SECONDS = 5;
const DEFAULT_SECRET_REFRESH_MS = 5 * 60_000;

const secretSchema = z.object({ key: z.string().min(1) });
const accountSchema = z.object({ username: z.string().nullish().catch(null) });

function httpConfig(opts: ReplicateEngineOptions): ReplicateHttpConfig {
  if (!opts.apiToken) throw new Error('Replicate engine needs an API token');
  return {
    apiToken: opts.apiToken,
    baseUrl: normaliseBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL),
    fetch: opts.fetch ?? globalThis.fetch,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

export function createReplicateEngine(opts: ReplicateEngineOptions): ImageEngine {
  const cfg = httpConfig(opts);
  const maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const waitSeconds = opts.preferWaitSeconds ?? DEFAULT_PREFER_WAIT_SECONDS;
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 60) throw new Error('preferWaitSeconds must be a whole number from 0 to 60');
  const webhookEvents = opts.webhookEvents ?? ['completed'];

  const predictionUrl = (id: string) => `${cfg.baseUrl}/v1/predictions/${encodeURIComponent(id)}`;
  /** A URL Replicate named, if the token may go there; else our own equivalent on the base URL. */
  const trusted = (raw: string | null | undefined, fallback: string): URL => {
    const url = raw && URL.canParse(raw) ? new URL(raw) : null;
    return url && isTokenAllowedFor(url, cfg.baseUrl) ? url : new URL(fallback);
  };

  const fetchSecret = async (): Promise<string> => {
    const raw = await replicateJson(cfg, new URL(`${cfg.baseUrl}/v1/webhooks/default/secret`), { method: 'GET', sendToken: true }, 'webhook secret', undefined);
    const parsed = secretSchema.safeParse(raw);
    if (!parsed.success) throw new EngineError('engine_error', 'Replicate answered the webhook secret request with an unexpected body', { retryable: true });
    return parsed.data.key;
  };
  const secret = opts.webhookSecret;
  const verifyWebhook = createWebhookVerifier({
    loadSecret: secret === undefined ? fetchSecret : typeof secret === 'string' ? () => Promise.resolve(secret) : secret,
    canRefresh: typeof secret !== 'string',
    refreshAfterMs: opts.webhookSecretRefreshMs ?? DEFAULT_SECRET_REFRESH_MS,
  });

  return {
    id: 'replicate',
    label: 'Replicate',
    acceptsWebhooks: true,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      const { owner, name, version } = parseModelName(request.engineModel);
      // Only what the model needs: no user ids and not our idempotency key (Replicate has no
      // idempotency header), so nothing identifying our users leaves the server.
      const body = {
        ...(version ? { version: `${owner}/${name}:${version}` } : {}),
        input: buildPredictionInput(request),
        ...(request.webhookUrl ? { webhook: request.webhookUrl, webhook_events_filter: [...webhookEvents] } : {}),
      };
      const url = new URL(version ? `${cfg.baseUrl}/v1/predictions` : `${cfg.baseUrl}/v1/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/predictions`);
      const raw = await replicateJson(
        cfg,
        url,
        {
          method: 'POST',
          json: body,
          sendToken: true,
          headers: waitSeconds > 0 ? { prefer: `wait=${waitSeconds}` } : {},
          timeoutMs: cfg.requestTimeoutMs + waitSeconds * 1000,
        },
        'create',
        signal,
      );
      // Not retryable when unreadable: the prediction may exist and be billed; a resubmit could run it twice.
      const prediction = parsePrediction(raw, 'create');
      const pollingUrl = trusted(prediction.urls?.get, predictionUrl(prediction.id)).href;
      const cancelUrl = prediction.urls?.cancel && URL.canParse(prediction.urls.cancel) && isTokenAllowedFor(new URL(prediction.urls.cancel), cfg.baseUrl) ? prediction.urls.cancel : null;
      const status = toEngineStatus(prediction, request.seed, maxResultBytes);
      return {
        requestId: prediction.id,
        pollingUrl,
        ...(cancelUrl ? { extra: { cancelUrl } } : {}),
        // Replicate reports no price per prediction; it bills by model and time.
        cost: null,
        ...(status.state === 'pending' ? {} : { status }),
      };
    },

    async poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> {
      const url = trusted(handle.pollingUrl, predictionUrl(handle.requestId));
      let raw: unknown;
      try {
        raw = await replicateJson(cfg, url, { method: 'GET', sendToken: true }, 'poll', signal);
      } catch (err) {
        if (err instanceof EngineError && err.httpStatus === 404) {
          return { state: 'failed', code: 'engine_error', retryable: false, detail: `Replicate does not know prediction ${handle.requestId}` };
        }
        throw err;
      }
      return toEngineStatus(parsePrediction(raw, 'poll'), request.seed, maxResultBytes);
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      if (result.kind === 'bytes') return result.bytes;
      return downloadOutput(cfg, result.url, maxResultBytes, signal);
    },

    async cancel(handle: EngineHandle): Promise<void> {
      const url = trusted(handle.extra?.cancelUrl, `${predictionUrl(handle.requestId)}/cancel`);
      try {
        // Cancelling a finished prediction answers 200 with it unchanged, so this is safe to repeat.
        await replicateJson(cfg, url, { method: 'POST', sendToken: true }, 'cancel', undefined);
      } catch (err) {
        if (err instanceof EngineError && err.httpStatus === 404) return; // nothing left to cancel
        throw err;
      }
    },

    verifyWebhook,

    async health(signal?: AbortSignal): Promise<EngineHealth> {
      try {
        const raw = await replicateJson(cfg, new URL(`${cfg.baseUrl}/v1/account`), { method: 'GET', sendToken: true }, 'account', signal);
        const account = accountSchema.safeParse(raw);
        const who = account.success ? account.data.username : null;
        // Replicate has no balance endpoint, so the balance stays unknown.
        return { reachable: true, detail: who ? `authenticated as ${who}` : null, balance: null };
      } catch (err) {
        if (err instanceof EngineError) return { reachable: false, detail: err.message, balance: null };
        throw err;
      }
    },
  };
}
