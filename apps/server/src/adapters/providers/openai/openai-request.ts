import type { OutputFormat } from '@atelier/contracts';
import type { EngineRequest } from '#src/adapters/providers/engine.ts';
import type { SendBody } from './openai-http.ts';

/**
 * What we send to an OpenAI-compatible Images API for one EngineRequest (providers.md §5.1, §5.2).
 *
 * - Text-to-image: `POST /images/generations`, JSON. With references: `POST /images/edits`,
 *   multipart, each reference under `image[]` (the official SDK's encoding; OpenAI and the gateways
 *   accept it), with an opaque file name.
 * - `size` is `${width}x${height}` exactly as asked: the valid sizes differ per model (gpt-image: three
 *   fixed sizes; dall-e-3: three others; FLUX gateways: multiples of 16 up to 4 MP), so rounding here
 *   would silently change the image. The catalogue route offers valid sizes; a wrong one is answered 400
 *   and becomes `engine_rejected_request` with the engine's text.
 * - `n` is always 1. No `user` field, ever: it is a per-user identifier and we send none.
 */

/** gpt-image-1, gpt-image-1-mini, gpt-image-1.5, chatgpt-image-latest… (always answer b64_json). */
export function isGptImageModel(model: string): boolean {
  return /^(gpt-image|chatgpt-image)/i.test(model);
}

/**
 * Catalogue parameters passed through because the Images API (or a known compatible server) defines
 * them; everything else in `request.parameters` is ignored, because OpenAI answers 400 "Unknown
 * parameter" for fields it does not know. `mode`/`step` are LocalAI's.
 */
export const GENERATION_PARAMETERS: readonly string[] = ['quality', 'background', 'moderation', 'style', 'output_compression', 'mode', 'step'];
export const EDIT_PARAMETERS: readonly string[] = ['quality', 'background', 'output_compression', 'input_fidelity'];

/**
 * Parameters that steer this adapter instead of being sent:
 * - `output_format_param` (boolean): send `output_format`. Default: only for gpt-image models, since
 *   OpenAI's DALL·E models reject the field and gateways differ; set it `true` for a gateway that takes
 *   it (e.g. FLUX), `false` to never send it. Without it the engine picks the format (DALL·E: PNG) and
 *   the media pipeline re-encodes to the requested one.
 * - `response_format` ('url' | 'b64_json'): for non-gpt-image models we ask for `b64_json` by default
 *   (no second download, nothing left to expire); `url` for gateways that only answer with URLs.
 *   Never sent to gpt-image models, which always answer b64_json and refuse the field.
 * - `seed_param` (boolean): send `request.seed` as `seed`. OpenAI's models have no seed (and refuse
 *   unknown fields), so only for gateways whose backend takes one [U].
 */
export const CONTROL_PARAMETERS: readonly string[] = ['output_format_param', 'response_format', 'seed_param'];

const MIME: Readonly<Record<OutputFormat, string>> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const EXTENSION: Readonly<Record<OutputFormat, string>> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export interface ImagesCall {
  endpoint: 'generations' | 'edits';
  body: SendBody;
  /** Whether `seed` was sent, so the result can report it. */
  seedSent: boolean;
}

function flag(value: string | number | boolean | undefined): boolean | null {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
}

/** The fields both endpoints share, in the order a reader expects them. */
export function imagesFields(request: EngineRequest): { fields: Record<string, string | number | boolean>; seedSent: boolean } {
  const p = request.parameters;
  const gptImage = isGptImageModel(request.engineModel);
  const fields: Record<string, string | number | boolean> = {
    model: request.engineModel,
    prompt: request.prompt,
    n: 1,
    size: `${request.width}x${request.height}`,
  };
  if (!gptImage) fields.response_format = p.response_format === 'url' ? 'url' : 'b64_json';
  const sendFormat = flag(p.output_format_param) ?? gptImage;
  if (sendFormat) fields.output_format = request.outputFormat;
  const allowed = request.references.length > 0 ? EDIT_PARAMETERS : GENERATION_PARAMETERS;
  for (const key of allowed) {
    const value = p[key];
    if (value === undefined) continue;
    // PNG has no compression level; OpenAI refuses the combination, so the catalogue's default is dropped.
    if (key === 'output_compression' && (!sendFormat || request.outputFormat === 'png')) continue;
    fields[key] = value;
  }
  const seedSent = flag(p.seed_param) === true && request.seed !== null;
  if (seedSent && request.seed !== null) fields.seed = request.seed;
  return { fields, seedSent };
}

export function buildImagesCall(request: EngineRequest): ImagesCall {
  const { fields, seedSent } = imagesFields(request);
  if (request.references.length === 0) return { endpoint: 'generations', body: { kind: 'json', value: fields }, seedSent };
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
  request.references.forEach((ref, i) => {
    // A copy into a plain ArrayBuffer: Blob takes no Buffer backed by a shared pool.
    form.append('image[]', new Blob([new Uint8Array(ref.bytes)], { type: MIME[ref.format] }), `image-${i + 1}.${EXTENSION[ref.format]}`);
  });
  return { endpoint: 'edits', body: { kind: 'form', value: form }, seedSent };
}
