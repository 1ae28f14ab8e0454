import crypto from 'node:crypto';
import { checkSize, sizeForAspectRatio, type CreateGenerationInput, type FieldError, type GenerationStatus, type ModelDefinition } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';

/** Pure rules of the generation lifecycle and request validation; unit-tested without a database. */

const TRANSITIONS: Record<GenerationStatus, readonly GenerationStatus[]> = {
  queued: ['running', 'canceled', 'failed', 'blocked'],
  running: ['running', 'succeeded', 'failed', 'canceled', 'blocked'],
  succeeded: [],
  failed: [],
  canceled: [],
  blocked: [],
};

export const canTransition = (from: GenerationStatus, to: GenerationStatus): boolean => TRANSITIONS[from].includes(to);
export const isCancelable = (status: GenerationStatus): boolean => canTransition(status, 'canceled');
export const UNFINISHED_STATUSES = ['queued', 'running'] as const satisfies readonly GenerationStatus[];

export interface ResolvedRequest {
  width: number;
  height: number;
  aspectRatio: string | null;
  outputFormat: ModelDefinition['default_output_format'];
}

/** Checks a request against the model's capabilities; throws one validation error listing every problem. */
export function resolveRequest(input: CreateGenerationInput, model: ModelDefinition): ResolvedRequest {
  const fields: FieldError[] = [];
  let width: number;
  let height: number;
  if (input.width !== undefined && input.height !== undefined) {
    width = input.width;
    height = input.height;
  } else {
    ({ width, height } = sizeForAspectRatio(input.aspect_ratio ?? '1:1', 1024 * 1024, model.dimension_multiple));
  }
  fields.push(...checkSize(width, height, model));
  const outputFormat = input.output_format ?? model.default_output_format;
  if (!model.output_formats.includes(outputFormat)) {
    fields.push({ path: 'output_format', message: `${model.label} supports ${model.output_formats.join(', ')} (got ${outputFormat})` });
  }
  if (fields.length) throw new AppError('validation_failed', fields.map((f) => f.message).join('; '), { fields });
  return { width, height, aspectRatio: input.width !== undefined ? null : (input.aspect_ratio ?? '1:1'), outputFormat };
}

/** A stable hash of what was asked, to tell an idempotent retry from a different request under the same key. */
export function hashRequest(input: CreateGenerationInput): string {
  const canonical = JSON.stringify(Object.keys(input).sort().map((k) => [k, input[k as keyof CreateGenerationInput]]));
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

export function validateIdempotencyKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError('validation_failed', 'Idempotency-Key must be 1–255 printable ASCII characters', { fields: [{ path: 'Idempotency-Key', message: 'must be 1–255 printable ASCII characters' }] });
  }
  return key;
}

/** Full-jitter exponential back-off (AWS builders' library): random in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 2000, capMs = 300_000): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)));
}
