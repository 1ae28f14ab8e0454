import type { OutputFormat } from '@atelier/contracts';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineRequest, ReferenceImage } from '#src/adapters/providers/engine.ts';

/**
 * The `input` object of a Replicate FLUX.2 prediction (providers.md §3.3), built from an EngineRequest.
 *
 * - Size: always `aspect_ratio: "custom"` with `width`/`height`. Replicate takes 256–2048 and rounds
 *   each side to a multiple of 32 on flux-2-pro (16 on flux-2-max and flex). Generations are already
 *   validated to multiples of 16, so on pro a side such as 1008 comes back up to 16 px different
 *   (1008 → 992 or 1024, Replicate decides); the stored image takes its size from the bytes, so the
 *   gallery shows the real size. Nothing is rounded here: the engine's rule is the one that counts.
 * - References: `input_images`, an array of base64 data URIs in their own format. pro and max take
 *   at most 8, flex 10, dev 4; more answer 422, reported as engine_rejected_request. Replicate's own
 *   client refuses inline data over 10 MB in total, so that limit is enforced here as well.
 * - `output_format`: jpg | png | webp (Replicate says "jpg", not "jpeg").
 * - `safety_tolerance`: 2, Replicate's and BFL's default, unless the catalogue route sets another.
 * - `request.parameters`: passed through only for the keys in PASSTHROUGH_PARAMETERS (the ones the
 *   FLUX.2 schemas on Replicate know); any other key is dropped, and the request's own fields
 *   (prompt, size, seed, format, images) cannot be overridden through parameters.
 */

export const PASSTHROUGH_PARAMETERS = [
  'safety_tolerance', // pro, max, flex: 1–5
  'output_quality', // 0–100, for jpg/webp
  'steps', // flex: 1–50
  'guidance', // flex: 1.5–10
  'prompt_upsampling', // flex (and older pro versions)
  'go_fast', // dev
] as const;

export const DEFAULT_SAFETY_TOLERANCE = 2;
/** The JS client's cap for inline (data URI) file inputs. */
export const MAX_INLINE_REFERENCE_BYTES = 10_000_000;

const REPLICATE_OUTPUT_FORMAT: Readonly<Record<OutputFormat, 'jpg' | 'png' | 'webp'>> = { jpeg: 'jpg', png: 'png', webp: 'webp' };
const MIME_TYPES: Readonly<Record<OutputFormat, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export function toDataUri(image: ReferenceImage): string {
  return `data:${MIME_TYPES[image.format]};base64,${image.bytes.toString('base64')}`;
}

/**
 * `black-forest-labs/flux-2-pro` runs the model's latest version (official models:
 * `POST /v1/models/{owner}/{name}/predictions`); `owner/name:versionId` pins a version
 * (`POST /v1/predictions` with `version`), which keeps the input schema from changing underneath us.
 */
export function parseModelName(engineModel: string): { owner: string; name: string; version: string | null } {
  const match = /^([a-z0-9][a-z0-9_.-]*)\/([a-z0-9][a-z0-9_.-]*)(?::([a-f0-9]{8,64}))?$/i.exec(engineModel);
  if (!match?.[1] || !match[2]) {
    throw new EngineError('engine_rejected_request', `"${engineModel}" is not a Replicate model name (owner/name or owner/name:version)`, { retryable: false });
  }
  return { owner: match[1], name: match[2], version: match[3] ?? null };
}

export function buildPredictionInput(request: EngineRequest): Record<string, unknown> {
  const inlineBytes = request.references.reduce((sum, ref) => sum + ref.bytes.length, 0);
  if (inlineBytes > MAX_INLINE_REFERENCE_BYTES) {
    throw new EngineError('engine_rejected_request', `Reference images total ${Math.ceil(inlineBytes / 1_000_000)} MB; Replicate takes at most 10 MB inline`, { retryable: false });
  }
  const input: Record<string, unknown> = {
    prompt: request.prompt,
    aspect_ratio: 'custom',
    width: request.width,
    height: request.height,
    output_format: REPLICATE_OUTPUT_FORMAT[request.outputFormat],
    safety_tolerance: DEFAULT_SAFETY_TOLERANCE,
  };
  if (request.seed !== null) input.seed = request.seed;
  if (request.references.length > 0) input.input_images = request.references.map(toDataUri);
  for (const key of PASSTHROUGH_PARAMETERS) {
    const value = request.parameters[key];
    if (value !== undefined) input[key] = value;
  }
  return input;
}
