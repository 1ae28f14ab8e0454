import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { checkSize, MAX_PIXELS, MAX_PROMPT_LENGTH, OUTPUT_FORMATS } from '@atelier/contracts';
import type { OutputFormat, SizeLimits } from '@atelier/contracts';
import { createUpscaler, type Upscaler, type UpscalerLogger } from '#src/adapters/imaging/upscaler/upscaler.ts';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineRequest, EngineResult, EngineStatus, ImageEngine, SubmitResult } from '#src/adapters/providers/engine.ts';
import { composeSvg } from './compose.ts';
import { parsePrompt } from './prompt.ts';
import { MAX_REFERENCES } from './reference-layout.ts';
import { composeWithReferences, MAX_REFERENCE_PIXELS, ReferenceDecodeError } from './reference-render.ts';
import { createUpscaleJobs, upscaleFactorOf, upscaleProblems } from './upscale-jobs.ts';

/**
 * The built-in offline engine: an honest, deterministic CPU renderer for development, demos, tests and
 * air-gapped previews. It is not a diffusion model and says so (label, image mark, provenance). It keeps
 * the request's contract: exact size, output format, seed (same request → same bytes), quoted text,
 * #RRGGBB colours, structured JSON prompts and reference images, which it composites honestly: one
 * reference fills the canvas under a tint of the palette (image-to-image), two to ten become a seeded
 * collage labelled "image 1" … "image N" (see reference-layout.ts). Its `esrgan-x2` and `esrgan-x4`
 * models are different: a real local AI upscaler (see upscale-jobs.ts), run on reference image 1.
 *
 * It is stateless: submit only validates and names the request, poll renders it, so a worker that
 * restarts between the two simply renders again and gets the same bytes.
 */

export const OFFLINE_ENGINE_LABEL = 'Offline preview engine';

export const OFFLINE_SIZE_LIMITS: SizeLimits = { min_dimension: 64, max_dimension: 2048, max_pixels: MAX_PIXELS, dimension_multiple: 16 };

const MAX_SEED = 4_294_967_295;

/**
 * A stable name for the request: the same request always gets the same id, across restarts. References
 * count by a digest of their bytes, in order; a request without references keeps the id it had before
 * references existed, so handles persisted by an earlier version still match.
 */
export function offlineRequestId(request: EngineRequest): string {
  const { engineModel, prompt, width, height, seed, outputFormat, idempotencyKey, references } = request;
  const fields: unknown[] = [engineModel, prompt, width, height, seed, outputFormat, idempotencyKey];
  if (references.length > 0) fields.push(references.map((ref) => createHash('sha256').update(ref.bytes).digest('hex')));
  const digest = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
  return `offline_${digest.slice(0, 32)}`;
}

/** The seed actually used: the request's, or one derived from the prompt so a seedless request is still reproducible. */
export function effectiveSeed(request: Pick<EngineRequest, 'prompt' | 'seed'>): number {
  return request.seed ?? createHash('sha256').update(request.prompt).digest().readUInt32BE(0);
}

function problemsWith(request: EngineRequest): string[] {
  const factor = upscaleFactorOf(request.engineModel);
  if (factor !== undefined) return [...upscaleProblems(request, factor), ...promptProblems(request)];
  const problems = checkSize(request.width, request.height, OFFLINE_SIZE_LIMITS).map((p) => p.message);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(request.outputFormat)) problems.push(`output format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  if (request.seed !== null && !(Number.isInteger(request.seed) && request.seed >= 0 && request.seed <= MAX_SEED)) {
    problems.push(`seed must be a whole number from 0 to ${MAX_SEED}`);
  }
  problems.push(...promptProblems(request), ...referenceProblems(request.references));
  return problems;
}

const promptProblems = (request: EngineRequest): string[] =>
  typeof request.prompt !== 'string' || request.prompt.length > MAX_PROMPT_LENGTH ? [`the prompt must be at most ${MAX_PROMPT_LENGTH} characters`] : [];

const isDimension = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function referenceProblems(references: EngineRequest['references']): string[] {
  if (!Array.isArray(references)) return ['references must be a list'];
  if (references.length > MAX_REFERENCES) return [`at most ${MAX_REFERENCES} reference images (got ${references.length})`];
  return references.flatMap((ref, i) => {
    const problems: string[] = [];
    if (!Buffer.isBuffer(ref.bytes) || ref.bytes.length === 0) problems.push(`image ${i + 1} has no bytes`);
    if (!(OUTPUT_FORMATS as readonly string[]).includes(ref.format)) problems.push(`image ${i + 1} must be one of ${OUTPUT_FORMATS.join(', ')}`);
    if (!isDimension(ref.width) || !isDimension(ref.height)) problems.push(`image ${i + 1} must have a positive whole width and height`);
    else if (ref.width * ref.height > MAX_REFERENCE_PIXELS) problems.push(`image ${i + 1} must be at most ${MAX_REFERENCE_PIXELS} pixels`);
    return problems;
  });
}

function validate(request: EngineRequest): void {
  const problems = problemsWith(request);
  if (problems.length > 0) throw new EngineError('engine_rejected_request', problems.join('; '), { retryable: false });
}

/**
 * Engine-side encoding favours speed: the media pipeline re-encodes with provenance metadata anyway,
 * so this only has to be lossless enough not to matter (PNG lossless, JPEG/WebP at high quality).
 */
function encode(image: Sharp, format: OutputFormat): Sharp {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' });
    case 'png':
      return image.png({ compressionLevel: 3, adaptiveFiltering: false });
    case 'webp':
      return image.webp({ quality: 95, effort: 2 });
  }
}

export async function renderOffline(request: EngineRequest, seed: number): Promise<Buffer> {
  const spec = parsePrompt(request.prompt);
  const canvas = { width: request.width, height: request.height, seed };
  const image = request.references.length > 0 ? await composeWithReferences(spec, canvas, request.references) : sharp(Buffer.from(composeSvg(spec, canvas)), { density: 72 });
  return encode(image.removeAlpha(), request.outputFormat).toBuffer();
}

/**
 * `upscaler`: the local upscaler for the esrgan models (tests pass their own); by default one is made
 * here, which starts its worker thread only when the first upscale arrives.
 */
export function createOfflineEngine(opts: { upscaler?: Upscaler; logger?: UpscalerLogger } = {}): ImageEngine & { close(): Promise<void> } {
  const upscales = createUpscaleJobs(opts.upscaler ?? createUpscaler(opts.logger ? { logger: opts.logger } : {}));
  return {
    id: 'offline',
    label: OFFLINE_ENGINE_LABEL,
    acceptsWebhooks: false,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      signal?.throwIfAborted();
      validate(request);
      const requestId = offlineRequestId(request);
      const factor = upscaleFactorOf(request.engineModel);
      // Upscaling takes a while: start now, so the work overlaps the runner saving the handle.
      if (factor !== undefined) upscales.ensureStarted(requestId, request, factor);
      return { requestId, pollingUrl: null, cost: 0 };
    },

    async poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> {
      signal?.throwIfAborted();
      const problems = problemsWith(request);
      if (problems.length > 0) return { state: 'failed', code: 'engine_rejected_request', detail: problems.join('; '), retryable: false };
      if (handle.requestId !== offlineRequestId(request)) {
        return { state: 'failed', code: 'engine_rejected_request', detail: 'The handle was not issued for this request.', retryable: false };
      }
      const factor = upscaleFactorOf(request.engineModel);
      if (factor !== undefined) return upscales.status(handle.requestId, request, factor);
      const seed = effectiveSeed(request);
      let bytes: Buffer;
      try {
        bytes = await renderOffline(request, seed);
      } catch (cause) {
        if (cause instanceof ReferenceDecodeError) return { state: 'failed', code: 'engine_rejected_request', detail: cause.message, retryable: false };
        // Rendering is deterministic: what failed once fails again, so retrying would only waste time.
        throw new EngineError('engine_error', `The offline engine could not render the image: ${cause instanceof Error ? cause.message : String(cause)}`, {
          retryable: false,
          cause,
        });
      }
      signal?.throwIfAborted();
      return { state: 'ready', result: { kind: 'bytes', bytes, seed } };
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      signal?.throwIfAborted();
      if (result.kind === 'bytes') return result.bytes;
      throw new EngineError('engine_error', 'The offline engine returns image bytes, never a URL.', { retryable: false });
    },

    async cancel(handle: EngineHandle): Promise<void> {
      // Rendering happens inside poll and is over in well under a second; only an upscale can be stopped.
      upscales.cancel(handle.requestId);
    },

    /** Stops upscales under way and the upscaler's worker thread. */
    close: () => upscales.close(),
  };
}
