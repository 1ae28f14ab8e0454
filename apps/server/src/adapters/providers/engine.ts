import type { FailureCode, OutputFormat } from '@atelier/contracts';

/**
 * The one interface every image engine implements (BFL, the offline engine, and later fal.ai, Replicate,
 * ComfyUI, OpenAI-compatible). The generation job drives it: submit → persist the handle → poll with
 * back-off → download the result at once → cancel when the user asks.
 */
export interface EngineRequest {
  /** The engine's own model name, e.g. "flux-2-pro" for BFL or "offline" for the offline engine. */
  engineModel: string;
  prompt: string;
  width: number;
  height: number;
  seed: number | null;
  outputFormat: OutputFormat;
  /** Stable per generation; engines that support idempotency receive it so a resubmit is absorbed. */
  idempotencyKey: string;
}

/** What we persist after submit so a restarted worker can resume polling instead of submitting again. */
export interface EngineHandle {
  requestId: string;
  pollingUrl: string | null;
}

export interface SubmitResult extends EngineHandle {
  /** The engine's reported cost in its own unit (BFL credits, 1 credit = $0.01), when it reports one. */
  cost: number | null;
}

export type EngineStatus =
  | { state: 'pending'; progress: number | null }
  | { state: 'ready'; result: EngineResult }
  | { state: 'moderated'; stage: 'request' | 'content'; detail: string | null }
  | { state: 'failed'; code: FailureCode; detail: string; retryable: boolean };

export type EngineResult =
  | { kind: 'url'; url: string; seed: number | null }
  | { kind: 'bytes'; bytes: Buffer; seed: number | null };

export interface ImageEngine {
  readonly id: 'offline' | 'bfl';
  /** Human-readable name shown in the UI, API and image metadata. */
  readonly label: string;
  submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** `request` is passed again so stateless engines (offline) can render from it after a restart. */
  poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus>;
  /** Downloads a `url` result immediately (provider URLs expire within minutes). */
  fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer>;
  /** Best-effort cancel at the engine; engines without a cancel API resolve without doing anything. */
  cancel(handle: EngineHandle): Promise<void>;
}

/**
 * A failure talking to an engine. `retryable` decides whether the job backs off and tries again
 * (429, 5xx, network errors, timeouts) or fails the generation for good (402, 401/403, 422, bad output).
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
