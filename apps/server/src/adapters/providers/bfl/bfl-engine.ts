import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineHealth, EngineRequest, EngineResult, EngineStatus, ImageEngine, SubmitResult } from '#src/adapters/providers/engine.ts';
import { DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT_MS, bflFetch, bflJson, errorFromResponse, isKeyAllowedFor, normaliseBaseUrl, parseResponseUrl } from './bfl-http.ts';
import type { BflHttpConfig } from './bfl-http.ts';
import { readCapped, resultTooLarge } from '../engine-http.ts';

/**
 * Black Forest Labs API (api.bfl.ai) as an ImageEngine: submit → poll `polling_url` → download
 * `result.sample` at once (it expires after 10 minutes). Protocol: ../shared/research/providers.md §1.
 */

export interface BflEngineOptions {
  apiKey: string;
  /** Defaults to the global host https://api.bfl.ai; regional ones are https://api.eu.bfl.ai etc. No /v1. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Per HTTP request (submit, one poll, one download); default 30 s. */
  requestTimeoutMs?: number;
  /** Largest result accepted; default 50 MB. */
  maxResultBytes?: number;
}

const DEFAULT_MAX_RESULT_BYTES = 50 * 1024 * 1024;
/** BFL's documented default; the request must not depend on the account's or a user's settings. */
const SAFETY_TOLERANCE = 2;

// Lenient by design: zod objects drop unknown keys, and BFL adds and removes fields between spec snapshots.
const asyncResponseSchema = z.object({
  id: z.string().min(1),
  // Absent in the webhook variant (AsyncWebhookResponse); then get_result on our own host is the fallback.
  polling_url: z.string().nullish(),
  cost: z.number().nullish().catch(null),
});

const resultResponseSchema = z.object({
  // The spec's enum; anything else is tolerated here and treated as "still running" below.
  status: z.string(),
  result: z.unknown().optional(),
  progress: z.number().nullish().catch(null),
  details: z.record(z.string(), z.unknown()).nullish().catch(null),
});

// The spec types `result` as an untyped object; `sample` is the one field every client relies on.
const readyResultSchema = z.object({
  sample: z.string().min(1),
  seed: z.number().int().nullish().catch(null),
});

const creditsSchema = z.object({ credits: z.number() });

function httpConfig(opts: Pick<BflEngineOptions, 'apiKey' | 'baseUrl' | 'fetch' | 'requestTimeoutMs'>): BflHttpConfig {
  if (!opts.apiKey) throw new Error('BFL engine needs an API key');
  return {
    apiKey: opts.apiKey,
    baseUrl: normaliseBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL),
    fetch: opts.fetch ?? globalThis.fetch,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

/** BFL `details` objects (e.g. `{"Moderation Reasons": ["…"]}`) as one readable line. */
function describeDetails(details: Record<string, unknown> | null | undefined): string | null {
  if (!details) return null;
  const parts = Object.entries(details).map(([key, value]) => {
    const text = Array.isArray(value) ? value.map(String).join(', ') : typeof value === 'string' ? value : JSON.stringify(value);
    return `${key}: ${text}`;
  });
  return parts.length > 0 ? parts.join('; ') : null;
}

const taskUnknown = (id: string): EngineStatus => ({
  state: 'failed',
  code: 'engine_error',
  retryable: false,
  detail: `BFL does not know task ${id}: it never existed or has expired`,
});

export function createBflEngine(opts: BflEngineOptions): ImageEngine {
  const cfg = httpConfig(opts);
  const maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const fallbackPollingUrl = (id: string) => `${cfg.baseUrl}/v1/get_result?id=${encodeURIComponent(id)}`;

  return {
    id: 'bfl',
    label: 'Black Forest Labs API',
    acceptsWebhooks: true,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      if (!/^[a-z0-9][a-z0-9.-]*$/.test(request.engineModel)) {
        throw new EngineError('engine_rejected_request', `"${request.engineModel}" is not a BFL model name`, { retryable: false });
      }
      // Only what the model needs. No user ids, emails or our generation/idempotency ids: BFL has no
      // idempotency support, and nothing identifying our users leaves the server.
      const body = {
        prompt: request.prompt,
        width: request.width,
        height: request.height,
        ...(request.seed === null ? {} : { seed: request.seed }),
        output_format: request.outputFormat,
        safety_tolerance: SAFETY_TOLERANCE,
        ...referenceFields(request),
        ...(typeof request.parameters.steps === 'number' ? { steps: request.parameters.steps } : {}),
        ...(typeof request.parameters.guidance === 'number' ? { guidance: request.parameters.guidance } : {}),
        ...(typeof request.parameters.prompt_upsampling === 'boolean' ? { prompt_upsampling: request.parameters.prompt_upsampling } : {}),
        // BFL's webhook payload and signature are undocumented: the URL's own secret token authenticates it,
        // and the job re-reads get_result either way.
        ...(request.webhookUrl ? { webhook_url: request.webhookUrl } : {}),
      };
      const url = new URL(`${cfg.baseUrl}/v1/${request.engineModel}`);
      const raw = await bflJson(cfg, url, { method: 'POST', json: body, sendKey: true }, 'submit', signal);
      const parsed = asyncResponseSchema.safeParse(raw);
      if (!parsed.success) {
        // Not retryable: BFL may have accepted (and billed) the task; a resubmit could run it twice.
        throw new EngineError('engine_error', 'BFL accepted the submit but its answer had no task id', { retryable: false });
      }
      const { id, polling_url: pollingUrl, cost } = parsed.data;
      return {
        requestId: id,
        pollingUrl: pollingUrl ? parseResponseUrl(pollingUrl, 'polling').href : fallbackPollingUrl(id),
        cost: cost ?? null,
      };
    },

    async poll(handle: EngineHandle, _request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> {
      // Always the URL BFL returned: it names the cluster that holds the task; rebuilding it on the
      // submit host fails with "Task not found" on multi-cluster hosts.
      const url = parseResponseUrl(handle.pollingUrl ?? fallbackPollingUrl(handle.requestId), 'polling');
      let raw: unknown;
      try {
        raw = await bflJson(cfg, url, { method: 'GET', sendKey: isKeyAllowedFor(url, cfg.baseUrl) }, 'poll', signal);
      } catch (err) {
        // Some integrations see an HTTP 404 instead of the documented 200 "Task not found" [C].
        if (err instanceof EngineError && err.httpStatus === 404) return taskUnknown(handle.requestId);
        throw err;
      }
      const parsed = resultResponseSchema.safeParse(raw);
      if (!parsed.success) {
        throw new EngineError('engine_error', 'BFL answered the poll with an unexpected body', { retryable: true });
      }
      const { status, result, progress, details } = parsed.data;
      switch (status) {
        case 'Ready': {
          const ready = readyResultSchema.safeParse(result);
          if (!ready.success) return { state: 'failed', code: 'engine_error', retryable: false, detail: 'BFL reported Ready without a result.sample URL' };
          return { state: 'ready', result: { kind: 'url', url: ready.data.sample, seed: ready.data.seed ?? null } };
        }
        case 'Request Moderated':
          return { state: 'moderated', stage: 'request', detail: describeDetails(details) };
        case 'Content Moderated':
          return { state: 'moderated', stage: 'content', detail: describeDetails(details) };
        case 'Error':
          return { state: 'failed', code: 'engine_error', retryable: false, detail: describeDetails(details) ?? 'BFL reported an error without details' };
        case 'Task not found':
          return taskUnknown(handle.requestId);
        default:
          // "Pending", and any status outside the spec (some clients report "Processing"): still running;
          // the job's own deadline ends a task that never finishes.
          return { state: 'pending', progress: progress === null || progress === undefined ? null : Math.min(1, Math.max(0, progress)) };
      }
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      if (result.kind === 'bytes') return result.bytes;
      const url = parseResponseUrl(result.url, 'result');
      const sendKey = isKeyAllowedFor(url, cfg.baseUrl);
      return bflFetch(cfg, url, { method: 'GET', sendKey, accept: 'image/*' }, 'result download', signal, async (res) => {
        // Signed delivery URLs answer 403 (or 404/410) once expired; we sent no credentials to be refused.
        if ([403, 404, 410].includes(res.status) || (res.status === 401 && !sendKey)) {
          await res.body?.cancel();
          throw new EngineError('result_expired', `BFL result URL answered HTTP ${res.status}; it has probably expired`, { retryable: false, httpStatus: res.status });
        }
        if (!res.ok) {
          const text = await res.text();
          throw errorFromResponse(res.status, res.headers, undefined, text, 'result download', cfg.apiKey);
        }
        const type = res.headers.get('content-type') ?? '';
        if (!type.toLowerCase().startsWith('image/')) {
          await res.body?.cancel();
          throw new EngineError('invalid_output', `BFL result is not an image (content-type "${type || 'none'}")`, { retryable: false });
        }
        const bytes = await readCapped(res, maxResultBytes, resultTooLarge('BFL', maxResultBytes));
        if (bytes.length === 0) throw new EngineError('invalid_output', 'BFL result is empty', { retryable: false });
        return bytes;
      });
    },

    // BFL has no cancel endpoint: a submitted task runs to completion (and is billed) whatever we do.
    // The job simply stops polling and discards the result.
    async cancel(): Promise<void> {},

    async health(signal?: AbortSignal): Promise<EngineHealth> {
      try {
        const balance = await getBflCredits({ ...opts, ...(signal ? { signal } : {}) });
        return { reachable: true, detail: null, balance };
      } catch (error) {
        return { reachable: false, detail: error instanceof Error ? error.message : String(error), balance: null };
      }
    },
  };
}

/** References as `input_image`, `input_image_2` … `input_image_8`, base64 (BFL accepts a URL or base64). */
function referenceFields(request: EngineRequest): Record<string, string> {
  return Object.fromEntries(request.references.map((ref, i) => [i === 0 ? 'input_image' : `input_image_${i + 1}`, ref.bytes.toString('base64')]));
}


/** The account's credit balance (1 credit = $0.01), for the engine status page. */
export async function getBflCredits(opts: { apiKey: string; baseUrl?: string; fetch?: typeof fetch; requestTimeoutMs?: number; signal?: AbortSignal }): Promise<number> {
  const cfg = httpConfig(opts);
  const raw = await bflJson(cfg, new URL(`${cfg.baseUrl}/v1/credits`), { method: 'GET', sendKey: true }, 'credits', opts.signal);
  const parsed = creditsSchema.safeParse(raw);
  if (!parsed.success) throw new EngineError('engine_error', 'BFL answered the credits request with an unexpected body', { retryable: true });
  return parsed.data.credits;
}
