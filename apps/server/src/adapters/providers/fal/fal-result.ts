import { z } from 'zod';
import type { EngineStatus } from '#src/adapters/providers/engine.ts';
import { describeErrorBody, errorFromAnswer, errorTypeOf, issuesOf, redact, retryableHeader } from './fal-http.ts';
import type { FalAnswer, FalIssue } from './fal-http.ts';

/**
 * Reading fal's queue answers (providers.md §2.1): the status object, and the result GET, which carries
 * the model output, or — because a failed request also ends as COMPLETED — the failure itself.
 */

// Lenient by design: zod objects drop unknown keys; fal adds fields (metrics, gateway ids) freely.
const logSchema = z.object({ message: z.string().catch('') });
export const statusSchema = z.object({
  status: z.string(),
  queue_position: z.number().nullish().catch(null),
  logs: z.array(logSchema).nullish().catch(null),
});

const imageSchema = z.object({ url: z.string().min(1), content_type: z.string().nullish().catch(null) });
const outputSchema = z.object({
  images: z.array(z.unknown()).catch([]),
  seed: z.number().nullish().catch(null),
  has_nsfw_concepts: z.array(z.boolean().nullable().catch(null)).nullish().catch(null),
});

/** Seeds our records can hold (contracts: 0 … 2^32 − 1); fal may report 64-bit seeds that JSON cannot carry exactly. */
const isStorableSeed = (seed: number | null | undefined): seed is number => typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0 && seed <= 4_294_967_295;

/**
 * Progress from the status logs where the runner prints diffusion steps as tqdm does
 * ("50%|█████     | 14/28 [00:02<00:02]") [I]; BFL-hosted endpoints (pro, max) print nothing, and then
 * progress is unknown (null) while IN_PROGRESS.
 */
export function progressFromLogs(logs: readonly { message: string }[] | null | undefined): number | null {
  for (const { message } of [...(logs ?? [])].reverse()) {
    const steps = /\|\s*(\d+)\s*\/\s*(\d+)\s*\[/.exec(message);
    if (steps && Number(steps[2]) > 0) return Math.min(1, Number(steps[1]) / Number(steps[2]));
    const percent = /(\d{1,3})%\|/.exec(message);
    if (percent) return Math.min(1, Number(percent[1]) / 100);
  }
  return null;
}

/** A data URI image (sync_mode) decoded, or null when the URL is not a base64 image data URI. */
export function decodeDataUri(url: string): { bytes: Buffer; contentType: string } | null {
  const match = /^data:(image\/[\w.+-]+)(;[^,;]+=[^,;]*)*;base64,(.*)$/s.exec(url);
  if (!match?.[1] || match[3] === undefined) return null;
  return { bytes: Buffer.from(match[3], 'base64'), contentType: match[1] };
}

/** The model output of a successful request. `requestSeed` is what we asked for, if anything. */
export function statusFromOutput(body: unknown, requestSeed: number | null): EngineStatus {
  const output = outputSchema.safeParse(body);
  if (!output.success) return { state: 'failed', code: 'engine_error', retryable: false, detail: 'fal completed the request but its result was not an output object' };
  const { images, seed, has_nsfw_concepts: nsfw } = output.data;
  // flux-2 [dev] and klein flag outputs their safety checker caught (and blank them) instead of failing.
  if (nsfw?.[0] === true) return { state: 'moderated', stage: 'content', detail: 'fal safety checker flagged the output (has_nsfw_concepts)' };
  const image = imageSchema.safeParse(images[0]);
  if (!image.success) return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'fal completed the request without an image' };
  const resultSeed = isStorableSeed(seed) ? seed : requestSeed;
  const inline = decodeDataUri(image.data.url);
  if (inline) return { state: 'ready', result: { kind: 'bytes', bytes: inline.bytes, seed: resultSeed } };
  return { state: 'ready', result: { kind: 'url', url: image.data.url, seed: resultSeed } };
}

const INPUT_FIELDS = ['prompt', 'image_url', 'image_urls', 'negative_prompt'];
/** fal's content checker answers 422 `content_policy_violation` [V errors doc]; wording varies by model [I]. */
const MODERATION_TEXT = /nsfw|content polic|content checker|flagged|safety (filter|checker|system)|moderat/i;

function moderationOf(issues: FalIssue[], detail: string): EngineStatus | null {
  const flagged = issues.find((i) => i.type === 'content_policy_violation');
  if (flagged) {
    // The location names the input that was flagged; a bare ["body"] means the output was.
    const onInput = (flagged.loc ?? []).some((part) => INPUT_FIELDS.includes(String(part)));
    return { state: 'moderated', stage: onInput ? 'request' : 'content', detail: flagged.msg };
  }
  if (issues.length === 0 && MODERATION_TEXT.test(detail)) return { state: 'moderated', stage: 'content', detail };
  return null;
}

/** Request error types that mean the request was canceled rather than failed [V request-errors doc]. */
const CANCELED_TYPES = ['client_cancelled', 'client_disconnected'];

/**
 * A non-2xx answer to the result GET of a COMPLETED request. Answers about the request itself become a
 * final status; answers about our GET (auth, rate limit, a bare gateway 5xx) are thrown so the job
 * polls again later.
 */
export function statusFromFailedResult(answer: FalAnswer, requestId: string, apiKey: string): EngineStatus {
  const { status, headers, body, text } = answer;
  if (status === 401 || status === 403 || status === 429) throw errorFromAnswer(answer, 'result', apiKey);
  if (status === 404 || status === 410) {
    return { state: 'failed', code: 'result_expired', retryable: false, detail: `fal no longer has the result of request ${requestId} (HTTP ${status})` };
  }
  const issues = issuesOf(body);
  const detail = redact(describeErrorBody(body, text) || `HTTP ${status}`, apiKey);
  const moderated = moderationOf(issues, detail);
  if (moderated) return moderated;

  const errorType = errorTypeOf(headers, body);
  const retryable = retryableHeader(headers);
  const described = errorType ? `${detail} (${errorType})` : detail;
  if (errorType && CANCELED_TYPES.includes(errorType)) return { state: 'failed', code: 'canceled', retryable: false, detail: described };
  if (status === 402) return { state: 'failed', code: 'engine_out_of_credits', retryable: false, detail: described };
  if (status >= 500) {
    // Without error_type or model errors it is the gateway failing our GET, not the request: poll again.
    if (!errorType && issues.length === 0) throw errorFromAnswer(answer, 'result', apiKey);
    // fal already retried infrastructure failures up to 10 times; a fresh submit may still succeed.
    const again = retryable ?? true;
    return { state: 'failed', code: again && errorType ? 'engine_unavailable' : 'engine_error', retryable: again, detail: described };
  }
  return { state: 'failed', code: 'engine_rejected_request', retryable: retryable ?? false, detail: described };
}
