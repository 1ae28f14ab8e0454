import type { FailureCode, OutputFormat } from '@atelier/contracts';

/**
 * The one interface every image engine implements: the offline engine, BFL, fal.ai, Replicate,
 * ComfyUI and OpenAI-compatible APIs. The generation job drives it: submit → persist the handle →
 * wait (webhook or polling with back-off) → download the result at once → cancel when the user asks.
 */
export type EngineId = 'offline' | 'bfl' | 'fal' | 'replicate' | 'comfyui' | 'openai';

/** A reference image, already decoded, checked and resized to the engine's limits by the media pipeline. */
export interface ReferenceImage {
  bytes: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
}

export interface EngineRequest {
  /** The engine's own model name: BFL "flux-2-pro", fal "fal-ai/flux-2-pro", Replicate "black-forest-labs/flux-2-pro", a ComfyUI template name, an OpenAI model. */
  engineModel: string;
  prompt: string;
  width: number;
  height: number;
  seed: number | null;
  outputFormat: OutputFormat;
  /** Reference images for editing and multi-reference generation; empty for text-to-image. */
  references: readonly ReferenceImage[];
  /** Model-specific parameters from the catalogue route (e.g. steps, guidance), passed through as given. */
  parameters: Readonly<Record<string, string | number | boolean>>;
  /** Stable per generation; engines that support idempotency receive it so a resubmit is absorbed. */
  idempotencyKey: string;
  /** Where the engine should call back for this request, when PUBLIC_URL makes webhooks possible; else null. */
  webhookUrl: string | null;
}

/**
 * What we persist after submit (as JSON) so a restarted worker resumes instead of submitting again.
 * `extra` holds whatever else the engine needs to poll or cancel (fal's status/response/cancel URLs,
 * the ComfyUI server a prompt went to). Values are strings only, so the handle round-trips through JSON.
 */
export interface EngineHandle {
  requestId: string;
  pollingUrl: string | null;
  extra?: Readonly<Record<string, string>>;
}

export interface SubmitResult extends EngineHandle {
  /** The engine's reported cost in its own unit (BFL credits, USD for fal/Replicate) when it reports one. */
  cost: number | null;
  /** Some engines answer synchronously (OpenAI-compatible, Replicate with Prefer: wait): the final status, if already known. */
  status?: EngineStatus;
}

export type EngineStatus =
  | { state: 'pending'; progress: number | null }
  | { state: 'ready'; result: EngineResult }
  | { state: 'moderated'; stage: 'request' | 'content'; detail: string | null }
  | { state: 'failed'; code: FailureCode; detail: string; retryable: boolean };

export type EngineResult =
  | { kind: 'url'; url: string; seed: number | null }
  | { kind: 'bytes'; bytes: Buffer; seed: number | null };

/** An incoming webhook, as the HTTP layer received it. The raw body is what signatures cover. */
export interface WebhookDelivery {
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
}

export interface EngineHealth {
  /** False when the engine answered with an error or did not answer. */
  reachable: boolean;
  detail: string | null;
  /** Remaining balance in the engine's unit, where the engine reports one (BFL credits). */
  balance?: number | null;
}

export interface ImageEngine {
  readonly id: EngineId;
  /** Human-readable name shown in the UI, API and image metadata. */
  readonly label: string;
  /** Whether the engine calls `EngineRequest.webhookUrl` when a request finishes (BFL, fal.ai, Replicate). */
  readonly acceptsWebhooks: boolean;
  submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** `request` is passed again so stateless engines (offline) can render from it after a restart. */
  poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus>;
  /** Downloads a `url` result immediately (provider URLs expire within minutes). */
  fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer>;
  /** Best-effort cancel at the engine; engines without a cancel API resolve without doing anything. */
  cancel(handle: EngineHandle): Promise<void>;
  /**
   * For engines that sign their webhooks (fal: Ed25519 over JWKS; Replicate: Standard Webhooks):
   * verifies a delivery and returns the engine request id it is about, or throws WebhookRejectedError.
   * A verified webhook is only a trigger: the job re-reads the status with `poll`. Engines that do not
   * sign (BFL) leave this out; their webhook URL carries a per-generation secret token instead.
   */
  verifyWebhook?(delivery: WebhookDelivery): Promise<{ requestId: string }>;
  /**
   * For engines that push progress (ComfyUI's WebSocket): calls `onChange` whenever the request's
   * progress or state changes, so the job polls at once instead of at its next back-off step.
   * Returns the unsubscribe function.
   */
  watch?(handle: EngineHandle, onChange: () => void): () => void;
  /** A cheap check for the staff engine-status page. */
  health?(signal?: AbortSignal): Promise<EngineHealth>;
}

/**
 * A failure talking to an engine. `retryable` decides whether the job backs off and tries again —
 * or fails over to the next route — (429, 5xx, network errors, timeouts) or fails the generation for
 * good (402, 401/403, 422, moderation, bad output).
 */
export class EngineError extends Error {
  readonly code: FailureCode;
  readonly retryable: boolean;
  /** From a Retry-After header, when the engine sent one. */
  readonly retryAfterMs: number | null;
  readonly httpStatus: number | null;

  constructor(code: FailureCode, message: string, opts: { retryable: boolean; retryAfterMs?: number | null; httpStatus?: number | null; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'EngineError';
    this.code = code;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.httpStatus = opts.httpStatus ?? null;
  }
}

/** A webhook that failed verification (bad signature, stale timestamp, unknown key). Answered 401; changes nothing. */
export class WebhookRejectedError extends Error {
  override readonly name = 'WebhookRejectedError';
}
