import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineResult, EngineStatus } from '#src/adapters/providers/engine.ts';

/**
 * Replicate's prediction object (providers.md §3.1) and its mapping to EngineStatus. The same object
 * comes back from create, from `GET urls.get`, from cancel and as a webhook body.
 */

// Lenient by design: unknown keys are dropped, and a malformed optional field never fails the parse.
export const predictionSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  logs: z.string().nullish().catch(null),
  data_removed: z.boolean().nullish().catch(null),
  urls: z
    .object({ get: z.string().optional().catch(undefined), cancel: z.string().optional().catch(undefined) })
    .nullish()
    .catch(null),
});
export type Prediction = z.infer<typeof predictionSchema>;

/** tqdm's "76%|███████▌  | 7568/10000 [00:33<00:10, 229.00it/s]", the pattern Replicate's own client reads. */
const TQDM_LINE = /^\s*(\d{1,3})%\s*\|.*?\|\s*\d+\/\d+/;
/** FLUX models on Replicate log the seed they used ("Using seed: 7710683") [C: captured webhook bodies]. */
const SEED_LINE = /Using seed:\s*(\d+)/g;

export function progressFromLogs(logs: string | null | undefined): number | null {
  if (!logs) return null;
  for (const line of logs.split(/\r?\n|\r/).reverse()) {
    const match = TQDM_LINE.exec(line);
    if (match?.[1]) return Math.min(1, Math.max(0, Number(match[1]) / 100));
  }
  return null;
}

export function seedFromLogs(logs: string | null | undefined): number | null {
  if (!logs) return null;
  const last = [...logs.matchAll(SEED_LINE)].at(-1)?.[1];
  const seed = last === undefined ? NaN : Number(last);
  return Number.isSafeInteger(seed) ? seed : null;
}

/*
 * `error` on a failed prediction is free text. Which texts mean what is not documented; these are the
 * wordings seen in the wild [C] — "The input or output was flagged as sensitive. Please try again with
 * different inputs. (E005)", "NSFW content detected", "Service is currently unavailable due to high
 * demand (E003)", "Prediction interrupted; please retry (code: PA)" — and anything else is treated as
 * a final engine_error [I].
 */
const MODERATION = /\bnsfw\b|flagged|sensitive|safety (checker|filter|system)|moderat|content policy|\(E005\)/i;
const UNAVAILABLE = /unavailable|high demand|capacity|no gpus?\b|cannot connect to model|interrupted|please retry|try again later|\(E003\)/i;
const MAX_DETAIL = 500;

function errorText(error: unknown): string | null {
  if (error === null || error === undefined || error === '') return null;
  const text = typeof error === 'string' ? error : JSON.stringify(error);
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > MAX_DETAIL ? `${trimmed.slice(0, MAX_DETAIL)}…` : trimmed;
}

export function classifyFailure(error: unknown): EngineStatus {
  const text = errorText(error);
  if (text === null) return { state: 'failed', code: 'engine_error', retryable: false, detail: 'Replicate reported a failed prediction without an error' };
  if (MODERATION.test(text)) {
    // "The input or output was flagged" cannot be placed; only a message about the prompt or input
    // alone is counted as the request stage [I].
    const aboutInputOnly = /\b(prompt|input)\b/i.test(text) && !/\boutput\b/i.test(text);
    return { state: 'moderated', stage: aboutInputOnly ? 'request' : 'content', detail: text };
  }
  if (UNAVAILABLE.test(text)) return { state: 'failed', code: 'engine_unavailable', retryable: true, detail: text };
  return { state: 'failed', code: 'engine_error', retryable: false, detail: text };
}

const IMAGE_DATA_URI = /^data:(image\/[a-z0-9.+-]+)(?:;[^,]*)?;base64,(.*)$/is;

/** `output` is one URI on FLUX.2 models; an array (older or other models) yields its first URI. */
function firstOutput(output: unknown): string | null {
  if (typeof output === 'string' && output !== '') return output;
  if (Array.isArray(output)) {
    const first: unknown = output.find((o) => typeof o === 'string' && o !== '');
    return typeof first === 'string' ? first : null;
  }
  return null;
}

function readyStatus(output: string, seed: number | null, maxResultBytes: number): EngineStatus {
  if (output.startsWith('data:')) {
    // Inline outputs are possible for synchronous predictions [U]; they are already our bytes.
    const match = IMAGE_DATA_URI.exec(output);
    if (!match?.[2]) return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'Replicate returned an output data URI that is not a base64 image' };
    const bytes = Buffer.from(match[2], 'base64');
    if (bytes.length === 0) return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'Replicate output is empty' };
    if (bytes.length > maxResultBytes) return { state: 'failed', code: 'invalid_output', retryable: false, detail: `Replicate output is larger than ${Math.round(maxResultBytes / 1024 / 1024)} MB` };
    return { state: 'ready', result: { kind: 'bytes', bytes, seed } };
  }
  if (!URL.canParse(output) || !/^https?:$/.test(new URL(output).protocol)) {
    return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'Replicate returned an output that is not an http(s) URL' };
  }
  const result: EngineResult = { kind: 'url', url: output, seed };
  return { state: 'ready', result };
}

export function toEngineStatus(prediction: Prediction, requestSeed: number | null, maxResultBytes: number): EngineStatus {
  switch (prediction.status) {
    case 'succeeded': {
      // Inputs and outputs of API predictions are deleted after an hour.
      if (prediction.data_removed) return { state: 'failed', code: 'result_expired', retryable: false, detail: 'Replicate has deleted this prediction’s output (outputs are kept for 1 hour)' };
      const output = firstOutput(prediction.output);
      if (output === null) return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'Replicate reported success without an output' };
      return readyStatus(output, seedFromLogs(prediction.logs) ?? requestSeed, maxResultBytes);
    }
    case 'failed':
      return classifyFailure(prediction.error);
    case 'canceled':
    case 'aborted':
      return { state: 'failed', code: 'canceled', retryable: false, detail: `Replicate prediction ${prediction.status}` };
    default:
      // starting, processing, and any status outside the documented set: still running; the job's
      // own deadline ends a prediction that never finishes.
      return { state: 'pending', progress: prediction.status === 'processing' ? progressFromLogs(prediction.logs) : null };
  }
}

export function parsePrediction(raw: unknown, what: string): Prediction {
  const parsed = predictionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EngineError('engine_error', `Replicate answered the ${what} with something that is not a prediction`, { retryable: what !== 'create' });
  }
  return parsed.data;
}
