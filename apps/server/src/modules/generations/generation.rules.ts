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

/** The stored size of an upscale request's source image; undefined when it is not one of the user's. */
export type SourceSize = { width: number; height: number } | undefined;

/**
 * Checks a request against the model's capabilities; throws one validation error listing every problem.
 * Upscale models take their size from the source image (`source`, see resolveUpscale).
 */
export function resolveRequest(input: CreateGenerationInput, model: ModelDefinition, source?: SourceSize): ResolvedRequest {
  if (model.upscale_factor !== undefined) return resolveUpscale(input, model, source);
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

/** Whether a model's engines get the references as stored rather than fitted to 2048 px: upscalers enlarge the original. */
export const takesOriginalReferences = (model: Pick<ModelDefinition, 'workflows'> | undefined): boolean => model?.workflows.includes('upscale') ?? false;

/**
 * An upscale request: exactly one reference (the source: an upload or image of the user's), no size
 * of its own (the output is the source × the model's factor, so width, height and aspect_ratio are
 * refused rather than silently ignored), one image per request, and an output within the model's limits.
 */
export function resolveUpscale(input: CreateGenerationInput, model: ModelDefinition, source: SourceSize): ResolvedRequest {
  const factor = model.upscale_factor ?? 1;
  const fields: FieldError[] = [];
  const references = input.references ?? [];
  if (references.length !== 1) fields.push({ path: 'references', message: `${model.label} takes exactly one image to upscale (got ${references.length})` });
  for (const key of ['width', 'height', 'aspect_ratio'] as const) {
    if (input[key] !== undefined) fields.push({ path: key, message: `${model.label} makes the image ${factor}× the size of its source; leave out ${key}` });
  }
  if ((input.count ?? 1) > 1) fields.push({ path: 'count', message: `${model.label} makes one image per request (got count ${input.count})` });
  const outputFormat = input.output_format ?? model.default_output_format;
  if (!model.output_formats.includes(outputFormat)) {
    fields.push({ path: 'output_format', message: `${model.label} supports ${model.output_formats.join(', ')} (got ${outputFormat})` });
  }
  let width = 0;
  let height = 0;
  if (references.length === 1) {
    if (!source) {
      fields.push({ path: 'references.0', message: `image 1 (${references[0]}) is not one of your uploads or images` });
    } else {
      width = source.width * factor;
      height = source.height * factor;
      const mp = (pixels: number) => Number((pixels / 1024 / 1024).toFixed(2));
      if (width > model.max_dimension || height > model.max_dimension || width * height > model.max_pixels) {
        fields.push({
          path: 'references.0',
          message: `this ${source.width}×${source.height} image would become ${width}×${height} (${mp(width * height)} MP); ${model.label} makes at most ${mp(model.max_pixels)} MP and ${model.max_dimension} pixels a side`,
        });
      } else if (width < model.min_dimension || height < model.min_dimension) {
        fields.push({ path: 'references.0', message: `this ${source.width}×${source.height} image is too small to upscale; the result must be at least ${model.min_dimension} pixels a side` });
      }
    }
  }
  if (fields.length) throw new AppError('validation_failed', fields.map((f) => f.message).join('; '), { fields });
  return { width, height, aspectRatio: null, outputFormat };
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
