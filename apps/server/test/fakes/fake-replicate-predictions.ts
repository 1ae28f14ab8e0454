import type { ReplicateOutputFormat, ValidatedInput } from './fake-replicate-spec.ts';

/** How a prediction ends. Scripted per test with `fake.nextOutcome(...)`, otherwise `succeeded`. */
export type PredictionOutcome =
  | { kind: 'succeeded' }
  /** Succeeded with `output` as an array of URIs, as older and non-FLUX.2 models answer. */
  | { kind: 'succeeded_array' }
  /** Fails with `error` (default: a generic model error). */
  | { kind: 'failed'; error?: string }
  /** Fails with Replicate's sensitive-content error (E005). */
  | { kind: 'moderated'; error?: string }
  /** Fails with a capacity error (E003). */
  | { kind: 'unavailable'; error?: string }
  /** Succeeds, but the output is already deleted (`data_removed: true`, delivery URL 404). */
  | { kind: 'output_expired' }
  /** Ends in the `aborted` status the JS client's types know. */
  | { kind: 'aborted' }
  /** Stays `processing`; for deadline and cancellation tests. */
  | { kind: 'pending_forever' };

export const DEFAULT_ERRORS = {
  failed: 'Prediction failed: CUDA error: an illegal memory access was encountered',
  moderated: 'The input or output was flagged as sensitive. Please try again with different inputs. (E005)',
  unavailable: 'Service is currently unavailable due to high demand. Please try again later. (E003)',
} as const;

export type WebhookEvent = 'start' | 'output' | 'logs' | 'completed';

export interface FakePrediction {
  id: string;
  model: string;
  /** The `input` object exactly as received. */
  input: Record<string, unknown>;
  validated: ValidatedInput;
  /** The request's seed, or the one the fake picked (logged as "Using seed: N"). */
  seed: number;
  createdAt: number;
  startingMs: number;
  processingMs: number;
  outputTtlMs: number;
  outcome: PredictionOutcome;
  canceledAt: number | null;
  webhook: string | null;
  webhookEventsFilter: WebhookEvent[] | null;
  /** Part of the delivery URL, like the random path segment of a replicate.delivery URL. */
  outputToken: string;
  progressLogs: boolean;
  /** Rendered on first download and reused. */
  image: Promise<Buffer> | null;
  downloads: number;
}

export const OUTPUT_CONTENT_TYPES: Readonly<Record<ReplicateOutputFormat, string>> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

const STEPS = 10;
const iso = (t: number) => new Date(t).toISOString();

function logsAt(p: FakePrediction, fraction: number, done: boolean): string {
  const lines = [`Using seed: ${p.seed}`];
  if (p.progressLogs) {
    const steps = Math.min(STEPS, Math.floor(fraction * STEPS));
    for (let s = 1; s <= steps; s++) {
      const pct = Math.round((s / STEPS) * 100);
      lines.push(`${String(pct).padStart(3)}%|${'█'.repeat(s)}${' '.repeat(STEPS - s)}| ${s}/${STEPS} [00:0${s}<00:0${STEPS - s}, 1.00it/s]`);
    }
  } else {
    lines.push('Generating...');
  }
  if (done) lines.push(`Generated image in ${(p.processingMs / 1000).toFixed(1)}sec`);
  return lines.join('\n') + '\n';
}

export function terminalAt(p: FakePrediction): number | null {
  if (p.canceledAt !== null) return p.canceledAt;
  return p.outcome.kind === 'pending_forever' ? null : p.createdAt + p.processingMs;
}

export function outputExpiresAt(p: FakePrediction): number | null {
  const end = terminalAt(p);
  if (end === null || p.canceledAt !== null) return null;
  return p.outcome.kind === 'output_expired' ? end : end + p.outputTtlMs;
}

export function outputUrl(p: FakePrediction, deliveryUrl: string): string {
  return `${deliveryUrl}/xezq/${p.outputToken}/out-0.${p.validated.outputFormat}`;
}

/** The prediction object at `now`, as GET /v1/predictions/{id}, create, cancel and webhooks return it. */
export function viewPrediction(p: FakePrediction, now: number, urls: { api: string; delivery: string }): Record<string, unknown> {
  const startedAt = p.createdAt + Math.min(p.startingMs, p.processingMs);
  const end = terminalAt(p);
  const base: Record<string, unknown> = {
    id: p.id,
    model: p.model,
    // Official models hide their version.
    version: 'hidden',
    input: p.input,
    logs: '',
    output: null,
    data_removed: false,
    error: null,
    source: 'api',
    status: 'starting',
    created_at: iso(p.createdAt),
    started_at: null,
    completed_at: null,
    urls: {
      cancel: `${urls.api}/v1/predictions/${p.id}/cancel`,
      get: `${urls.api}/v1/predictions/${p.id}`,
      stream: `${urls.api}/v1/files/stream-${p.id}`,
      web: `https://replicate.com/p/${p.id}`,
    },
    metrics: {},
    ...(p.webhook ? { webhook: p.webhook, webhook_events_filter: p.webhookEventsFilter ?? ['output', 'completed'] } : {}),
  };
  const running = (t: number) => (t < startedAt ? base : { ...base, status: 'processing', started_at: iso(startedAt), logs: logsAt(p, (t - startedAt) / Math.max(1, p.createdAt + p.processingMs - startedAt), false) });
  if (end === null || now < end) return running(now);
  if (p.canceledAt !== null) {
    const before = running(p.canceledAt);
    return { ...before, status: 'canceled', completed_at: iso(p.canceledAt) };
  }
  const finished = {
    ...base,
    started_at: iso(startedAt),
    completed_at: iso(end),
    logs: logsAt(p, 1, p.outcome.kind !== 'failed' && p.outcome.kind !== 'unavailable'),
    metrics: { predict_time: (end - startedAt) / 1000, total_time: (end - p.createdAt) / 1000 },
  };
  switch (p.outcome.kind) {
    case 'failed':
    case 'moderated':
    case 'unavailable':
      return { ...finished, status: 'failed', error: p.outcome.error ?? DEFAULT_ERRORS[p.outcome.kind] };
    case 'aborted':
      return { ...finished, status: 'aborted' };
    default:
      break;
  }
  const expires = outputExpiresAt(p);
  if (expires !== null && now >= expires) {
    // Inputs, outputs and logs are deleted after an hour [V]; what the object keeps then is unverified [U].
    return { ...finished, status: 'succeeded', input: {}, logs: null, output: null, data_removed: true, metrics: { ...finished.metrics, image_count: 1 } };
  }
  const url = outputUrl(p, urls.delivery);
  return { ...finished, status: 'succeeded', output: p.outcome.kind === 'succeeded_array' ? [url] : url, metrics: { ...finished.metrics, image_count: 1 } };
}

export const TERMINAL_STATUSES: readonly string[] = ['succeeded', 'failed', 'canceled', 'aborted'];
