import { CONTENT_TYPES, renderSample } from './fake-bfl-image.ts';
import type { FalEndpointSpec, FalIssue, FalValidInput } from './fake-fal-spec.ts';

/** How a queued request ends. Scripted per test with `fake.nextOutcome(...)`, otherwise `ok`. */
export type FalOutcome =
  | { kind: 'ok' }
  /** A model error (HTTP 422 `{detail: [...]}`) reported by the result endpoint. */
  | { kind: 'rejected'; detail?: FalIssue[] }
  /** The prompt hit fal's content checker: 422 `content_policy_violation` at ["body", "prompt"]. */
  | { kind: 'request_moderated' }
  /** The output was flagged: pro/max/flex answer 422 `content_policy_violation` at ["body"] [I]; [dev]/klein return `has_nsfw_concepts: [true]`. */
  | { kind: 'content_moderated' }
  /** An infrastructure failure after fal's own retries: `{detail, error_type}` + X-Fal-Error-Type [V request-errors doc]. */
  | { kind: 'request_error'; status?: number; errorType?: string; detail?: string; retryable?: boolean }
  /** A model-side crash: 500 `{detail: [{type: "internal_server_error"}]}` with X-Fal-Retryable. */
  | { kind: 'model_error'; retryable?: boolean }
  /** Completed, but the CDN file has already expired by the time anyone fetches it. */
  | { kind: 'cdn_expired' }
  /** Completed, but the result endpoint no longer has it (404). */
  | { kind: 'result_gone' }
  /** Stays IN_PROGRESS; for deadline and cancellation tests. */
  | { kind: 'pending_forever' };

export interface FakeFalRequest {
  id: string;
  /** The endpoint id submitted to, e.g. fal-ai/flux-2-pro/edit. */
  endpointId: string;
  /** owner/app, where status, result and cancel live. */
  app: string;
  spec: FalEndpointSpec;
  /** The JSON body exactly as received. */
  body: unknown;
  webhookUrl: string | null;
  /** The validated input, or null when validation failed (the outcome is then `rejected`). */
  input: FalValidInput | null;
  createdAt: number;
  queueMs: number;
  processingMs: number;
  outcome: FalOutcome;
  canceledAt: number | null;
  /** The request's seed, or the one the fake picked. */
  seed: number;
  /** Path segment of the CDN URL; the file answers until `cdnExpiresAt`. */
  cdnKey: string;
  cdnTtlMs: number;
  image: Promise<Buffer> | null;
  downloads: number;
}

export type FalPhase = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

export function phaseOf(req: FakeFalRequest, now: number): FalPhase {
  if (req.canceledAt !== null) return 'COMPLETED';
  if (now < req.createdAt + req.queueMs) return 'IN_QUEUE';
  if (req.outcome.kind === 'pending_forever' || now < req.createdAt + req.queueMs + req.processingMs) return 'IN_PROGRESS';
  return 'COMPLETED';
}

export const completedAt = (req: FakeFalRequest): number => req.canceledAt ?? req.createdAt + req.queueMs + req.processingMs;
export const cdnExpiresAt = (req: FakeFalRequest): number => (req.outcome.kind === 'cdn_expired' ? completedAt(req) : completedAt(req) + req.cdnTtlMs);

export interface QueueUrls {
  request_id: string;
  response_url: string;
  status_url: string;
  cancel_url: string;
}

export function queueUrls(req: FakeFalRequest, queueUrl: string): QueueUrls {
  const response = `${queueUrl}/${req.app}/requests/${req.id}`;
  return { request_id: req.id, response_url: response, status_url: `${response}/status`, cancel_url: `${response}/cancel` };
}

/** Diffusion runners print tqdm bars; the BFL-hosted pro/max endpoints print nothing. */
function logsOf(req: FakeFalRequest, now: number): { message: string; level: string; source: string; timestamp: string }[] {
  if (req.spec.family === 'pro') return [];
  const total = req.spec.family === 'klein' ? 4 : 28;
  const started = req.createdAt + req.queueMs;
  const fraction = Math.max(0, Math.min(1, (now - started) / Math.max(1, req.processingMs)));
  const done = Math.floor(fraction * total);
  const pct = Math.floor((done / total) * 100);
  const bar = '█'.repeat(Math.floor(pct / 10)).padEnd(10, ' ');
  const at = (t: number) => new Date(t).toISOString();
  return [
    { message: 'Loading pipeline…', level: 'INFO', source: 'USER', timestamp: at(started) },
    { message: `${String(pct).padStart(3)}%|${bar}| ${done}/${total} [00:01<00:02,  9.80it/s]`, level: 'STDERR', source: 'USER', timestamp: at(now) },
  ];
}

/** The status object and its HTTP status: 202 while queued or running, 200 once COMPLETED [V]. */
export function statusView(req: FakeFalRequest, now: number, queueUrl: string, withLogs: boolean, queuePosition: number): { status: number; body: Record<string, unknown> } {
  const phase = phaseOf(req, now);
  const base = queueUrls(req, queueUrl);
  const logs = withLogs ? logsOf(req, Math.min(now, completedAt(req))) : null;
  if (phase === 'IN_QUEUE') return { status: 202, body: { status: phase, queue_position: queuePosition, ...base } };
  if (phase === 'IN_PROGRESS') return { status: 202, body: { status: phase, logs, ...base } };
  return { status: 200, body: { status: phase, logs, metrics: { inference_time: req.processingMs / 1000 }, ...base } };
}

export interface ResultView {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const EXT: Readonly<Record<string, string>> = { jpeg: 'jpg', png: 'png', webp: 'webp' };
const policy = (loc: string[]): FalIssue => ({
  loc,
  msg: 'The content could not be processed because it contained material flagged by a content checker.',
  type: 'content_policy_violation',
  url: 'https://docs.fal.ai/errors#content_policy_violation',
});

/** What GET response_url answers for a COMPLETED request: the model output, or the failure. */
export async function resultView(req: FakeFalRequest, cdnUrl: string): Promise<ResultView> {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): ResultView => ({ status, headers: { 'x-fal-request-id': req.id, ...headers }, body });
  const noRetry = { 'x-fal-retryable': 'false' };
  if (req.canceledAt !== null) {
    return json(499, { detail: 'Request was cancelled by the client', error_type: 'client_cancelled' }, { 'x-fal-error-type': 'client_cancelled' });
  }
  const o = req.outcome;
  const input = req.input;
  if (o.kind === 'rejected' || !input) return json(422, { detail: o.kind === 'rejected' && o.detail ? o.detail : [] }, noRetry);
  if (o.kind === 'request_moderated') return json(422, { detail: [policy(['body', 'prompt'])] }, noRetry);
  if (o.kind === 'content_moderated' && (req.spec.family === 'pro' || req.spec.family === 'flex')) return json(422, { detail: [policy(['body'])] }, noRetry);
  if (o.kind === 'request_error') {
    const errorType = o.errorType ?? 'runner_disconnected';
    const headers: Record<string, string> = { 'x-fal-error-type': errorType, ...(o.retryable === undefined ? {} : { 'x-fal-retryable': String(o.retryable) }) };
    return json(o.status ?? 503, { detail: o.detail ?? 'Runner disconnected unexpectedly', error_type: errorType }, headers);
  }
  if (o.kind === 'model_error') {
    return json(500, { detail: [{ loc: ['body'], msg: 'Internal server error', type: 'internal_server_error', url: 'https://docs.fal.ai/errors#internal_server_error' }] }, { 'x-fal-retryable': String(o.retryable ?? true) });
  }
  if (o.kind === 'result_gone') return json(404, { detail: 'Request not found' });

  req.image ??= renderSample(input.width, input.height, input.outputFormat, req.seed);
  const bytes = await req.image;
  const contentType = CONTENT_TYPES[input.outputFormat];
  const fileName = `${req.cdnKey.slice(0, 12)}.${EXT[input.outputFormat] ?? input.outputFormat}`;
  const url = input.syncMode ? `data:${contentType};base64,${bytes.toString('base64')}` : `${cdnUrl}/files/${req.cdnKey}/${fileName}`;
  const image = { url, content_type: contentType, file_name: fileName, file_size: bytes.length, width: input.width, height: input.height };
  if (req.spec.family === 'pro' || req.spec.family === 'flex') return json(200, { images: [image], seed: req.seed });
  return json(200, {
    images: [image],
    seed: req.seed,
    prompt: input.prompt,
    has_nsfw_concepts: [o.kind === 'content_moderated'],
    timings: { inference: req.processingMs / 1000 },
  });
}

/** The webhook body fal POSTs when a request completes [V webhooks doc]. */
export async function webhookPayload(req: FakeFalRequest, cdnUrl: string): Promise<Record<string, unknown>> {
  const result = await resultView(req, cdnUrl);
  const ids = { request_id: req.id, gateway_request_id: req.id };
  if (result.status === 200) return { ...ids, status: 'OK', payload: result.body };
  return { ...ids, status: 'ERROR', error: `Invalid status code: ${result.status}`, payload: result.body };
}
