import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineRequest, ReferenceImage } from '#src/adapters/providers/engine.ts';

/**
 * From an EngineRequest to a fal endpoint id and its JSON input (providers.md §2.3). Only what the
 * model needs leaves the server: no user ids, no generation id, no idempotency key (fal has none).
 */

/** `fal-ai/flux-2-pro`, `fal-ai/flux-2/klein/4b/edit`, `workflows/owner/app/path`: owner/app plus an optional path. */
const ENDPOINT_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)+$/;
/** Namespaced ids keep their prefix in the status/result/cancel path (fal-js parseEndpointId). */
const NAMESPACES = ['workflows', 'comfy'];

export interface FalEndpoint {
  /** The full endpoint id we submit to. */
  id: string;
  /** The owner/app part (with a namespace prefix) that status, result and cancel URLs use. */
  app: string;
}

export function parseEndpointId(id: string): FalEndpoint {
  if (!ENDPOINT_ID.test(id) || id.split('/').some((s) => s === '.' || s === '..')) {
    throw new EngineError('engine_rejected_request', `"${id}" is not a fal endpoint id (owner/app[/path])`, { retryable: false });
  }
  const parts = id.split('/');
  const prefix = NAMESPACES.includes(parts[0] ?? '') && parts.length >= 3 ? parts.slice(0, 1) : [];
  const rest = parts.slice(prefix.length);
  if (rest.length < 2) throw new EngineError('engine_rejected_request', `"${id}" is not a fal endpoint id (owner/app[/path])`, { retryable: false });
  return { id, app: [...prefix, ...rest.slice(0, 2)].join('/') };
}

const isEditEndpoint = (id: string) => id.endsWith('/edit');

/**
 * The endpoint a request goes to: with reference images, the `/edit` variant of the configured model
 * (`fal-ai/flux-2-pro` → `fal-ai/flux-2-pro/edit`, `fal-ai/flux-2/klein/4b` → `…/klein/4b/edit`).
 */
export function endpointFor(request: EngineRequest): FalEndpoint {
  const model = request.engineModel.replace(/\/+$/, '');
  const hasReferences = request.references.length > 0;
  if (!hasReferences && isEditEndpoint(model)) {
    // fal would accept the submit and fail it at the runner with "image_urls: Field required".
    throw new EngineError('engine_rejected_request', `fal endpoint ${model} edits images and needs at least one reference image`, { retryable: false });
  }
  return parseEndpointId(hasReferences && !isEditEndpoint(model) ? `${model}/edit` : model);
}

const MIME: Readonly<Record<ReferenceImage['format'], string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/**
 * References travel inline as base64 data URIs in `image_urls`, which fal accepts wherever it takes a
 * URL. Privacy: nothing is uploaded to fal storage (no `rest.fal.ai/storage/upload`), so no public
 * CDN URL of a user's reference image ever exists; the images exist at fal only as part of the request.
 */
export function toDataUri(image: ReferenceImage): string {
  return `data:${MIME[image.format]};base64,${image.bytes.toString('base64')}`;
}

/** The BFL-hosted FLUX.2 endpoints (pro, max, flex) take `safety_tolerance` as a string "1".."5". */
const takesSafetyTolerance = (endpoint: FalEndpoint) => /^fal-ai\/flux-2-(pro|max|flex)$/.test(endpoint.app);
/** fal's documented default; the request must not depend on the account's or a user's settings. */
const DEFAULT_SAFETY_TOLERANCE = '2';

/**
 * `request.parameters` keys passed through (FLUX.2 input schemas on fal, §2.3). Everything else is
 * dropped: keys the adapter sets itself (prompt, image_size, seed, output_format, image_urls) cannot be
 * overridden, and `num_images` is never sent (one image per generation).
 */
export const PASSTHROUGH_PARAMETERS = [
  'guidance_scale', // flex, dev
  'num_inference_steps', // flex, dev, klein
  'acceleration', // dev: none | regular | high
  'enable_prompt_expansion', // dev
  'enable_safety_checker', // all; fal's default is true
  'safety_tolerance', // pro, max, flex; sent as a string
  'sync_mode', // all; the result then comes back inline as a data URI and stays out of fal's request history
] as const;

export function buildInput(request: EngineRequest, endpoint: FalEndpoint): Record<string, unknown> {
  const input: Record<string, unknown> = {
    prompt: request.prompt,
    // Sent as given, not rounded: the catalogue keeps sizes within the model's limits and multiples.
    image_size: { width: request.width, height: request.height },
    output_format: request.outputFormat,
  };
  if (request.seed !== null) input.seed = request.seed;
  if (takesSafetyTolerance(endpoint)) input.safety_tolerance = DEFAULT_SAFETY_TOLERANCE;
  for (const key of PASSTHROUGH_PARAMETERS) {
    const value = request.parameters[key];
    if (value === undefined) continue;
    input[key] = key === 'safety_tolerance' ? String(value) : value;
  }
  if (request.references.length > 0) input.image_urls = request.references.map(toDataUri);
  return input;
}
