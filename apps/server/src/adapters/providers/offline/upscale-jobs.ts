import sharp from 'sharp';
import { OUTPUT_FORMATS, type OutputFormat } from '@atelier/contracts';
import { UpscaleError, type UpscaleFactor, type Upscaler } from '#src/adapters/imaging/upscaler/upscaler.ts';
import type { EngineRequest, EngineStatus } from '#src/adapters/providers/engine.ts';

/**
 * The offline engine's upscale routes (engine models `esrgan-x2`, `esrgan-x4`): the local upscaler run
 * on reference image 1, which the job loads as stored (not fitted to 2048 px).
 *
 * Upscaling a large image takes minutes, so unlike the offline renderer it does not happen inside one
 * poll: the first poll (or submit) starts it in the background, later polls report its progress — which
 * keeps the job's lease alive and shows progress in the studio — and the poll after it finished hands
 * over the bytes. The state is in memory only: a restarted worker finds nothing and starts again, which
 * gives the same result (the network is deterministic).
 */

export const UPSCALE_ENGINE_MODELS: Readonly<Record<string, UpscaleFactor>> = { 'esrgan-x2': 2, 'esrgan-x4': 4 };
export const upscaleFactorOf = (engineModel: string): UpscaleFactor | undefined => (Object.hasOwn(UPSCALE_ENGINE_MODELS, engineModel) ? UPSCALE_ENGINE_MODELS[engineModel] : undefined);

/** The largest output the engine accepts: 8192 a side and 64 MP, the catalogue's ceiling for any model. */
export const UPSCALE_MAX_SIDE = 8192;
export const UPSCALE_MAX_PIXELS = 64 * 1024 * 1024;

/** A finished result nobody came back for (the generation was deleted meanwhile) is dropped after this. */
const UNCLAIMED_RESULT_MS = 10 * 60_000;

type Job = { controller: AbortController; progress: number; outcome?: EngineStatus; dropTimer?: NodeJS.Timeout };

/** What is wrong with an upscale request; empty when it can run. */
export function upscaleProblems(request: EngineRequest, factor: UpscaleFactor): string[] {
  const problems: string[] = [];
  if (!(OUTPUT_FORMATS as readonly string[]).includes(request.outputFormat)) problems.push(`output format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  if (!Array.isArray(request.references) || request.references.length !== 1) {
    problems.push(`upscaling takes exactly one reference image (got ${Array.isArray(request.references) ? request.references.length : 'none'})`);
    return problems;
  }
  const ref = request.references[0]!;
  if (!Buffer.isBuffer(ref.bytes) || ref.bytes.length === 0) problems.push('image 1 has no bytes');
  if (request.width !== ref.width * factor || request.height !== ref.height * factor) {
    problems.push(`the output must be the reference's size ×${factor}: ${ref.width * factor}×${ref.height * factor} (got ${request.width}×${request.height})`);
  } else if (request.width > UPSCALE_MAX_SIDE || request.height > UPSCALE_MAX_SIDE || request.width * request.height > UPSCALE_MAX_PIXELS) {
    problems.push(`the output may be at most ${UPSCALE_MAX_SIDE} pixels a side and ${UPSCALE_MAX_PIXELS / 1024 / 1024} MP (got ${request.width}×${request.height})`);
  }
  return problems;
}

async function toFormat(png: Buffer, format: OutputFormat): Promise<Buffer> {
  // Lossless enough not to matter: the media pipeline re-encodes with provenance metadata anyway.
  if (format === 'png') return png;
  const image = sharp(png, { limitInputPixels: false });
  return (format === 'jpeg' ? image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }) : image.webp({ quality: 95, effort: 2 })).toBuffer();
}

export function createUpscaleJobs(upscaler: Upscaler) {
  const jobs = new Map<string, Job>();

  const start = (requestId: string, request: EngineRequest, factor: UpscaleFactor): Job => {
    const job: Job = { controller: new AbortController(), progress: 0 };
    jobs.set(requestId, job);
    const settle = (outcome: EngineStatus) => {
      if (jobs.get(requestId) !== job) return; // canceled meanwhile
      job.outcome = outcome;
      job.dropTimer = setTimeout(() => jobs.delete(requestId), UNCLAIMED_RESULT_MS).unref();
    };
    upscaler
      .upscale(request.references[0]!.bytes, factor, { signal: job.controller.signal, onProgress: (p) => (job.progress = p) })
      .then(async (result) => settle({ state: 'ready', result: { kind: 'bytes', bytes: await toFormat(result.data, request.outputFormat), seed: null } }))
      .catch((error: unknown) => {
        if (job.controller.signal.aborted) return;
        if (error instanceof UpscaleError && (error.code === 'invalid_input' || error.code === 'too_large')) {
          return settle({ state: 'failed', code: 'engine_rejected_request', detail: error.message, retryable: false });
        }
        // A server shutting down closes the upscaler: another attempt after the restart will work.
        const retryable = error instanceof UpscaleError && error.code === 'closed';
        settle({ state: 'failed', code: 'engine_error', detail: error instanceof Error ? error.message : String(error), retryable });
      });
    return job;
  };

  return {
    /** Starts the request's upscale unless it is already under way (idempotent per request id). */
    ensureStarted(requestId: string, request: EngineRequest, factor: UpscaleFactor): void {
      if (!jobs.has(requestId)) start(requestId, request, factor);
    },

    /** Progress while running; the outcome, once, when finished. */
    status(requestId: string, request: EngineRequest, factor: UpscaleFactor): EngineStatus {
      const job = jobs.get(requestId) ?? start(requestId, request, factor);
      if (!job.outcome) return { state: 'pending', progress: job.progress };
      clearTimeout(job.dropTimer);
      jobs.delete(requestId);
      return job.outcome;
    },

    cancel(requestId: string): void {
      const job = jobs.get(requestId);
      if (!job) return;
      jobs.delete(requestId);
      clearTimeout(job.dropTimer);
      job.controller.abort();
    },

    async close(): Promise<void> {
      for (const id of [...jobs.keys()]) this.cancel(id);
      await upscaler.close();
    },
  };
}
