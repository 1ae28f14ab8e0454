import sharp from 'sharp';
import type { FakeOutputFormat } from './fake-bfl-spec.ts';

/**
 * The FLUX.2 endpoints of fal.ai as the fake enforces them (providers.md §2.3, from @fal-ai/client
 * 1.10.1's generated types): which fields each endpoint takes, validated the way fal's pydantic apps
 * report it (`{detail: [{loc, msg, type}]}`, unknown fields ignored), and the output they return.
 */

export type FalFamily = 'pro' | 'flex' | 'dev' | 'klein';

export interface FalEndpointSpec {
  family: FalFamily;
  edit: boolean;
  outputFormats: readonly FakeOutputFormat[];
  defaultFormat: FakeOutputFormat;
}

const pro = (family: 'pro' | 'flex', edit: boolean): FalEndpointSpec => ({ family, edit, outputFormats: ['jpeg', 'png'], defaultFormat: 'jpeg' });
const dev = (family: 'dev' | 'klein', edit: boolean): FalEndpointSpec => ({ family, edit, outputFormats: ['jpeg', 'png', 'webp'], defaultFormat: 'png' });

export const FAL_FLUX2_ENDPOINTS: Readonly<Record<string, FalEndpointSpec>> = {
  'fal-ai/flux-2-pro': pro('pro', false),
  'fal-ai/flux-2-pro/edit': pro('pro', true),
  'fal-ai/flux-2-max': pro('pro', false),
  'fal-ai/flux-2-max/edit': pro('pro', true),
  'fal-ai/flux-2-flex': pro('flex', false),
  'fal-ai/flux-2-flex/edit': pro('flex', true),
  'fal-ai/flux-2': dev('dev', false),
  'fal-ai/flux-2/edit': dev('dev', true),
  'fal-ai/flux-2/turbo': dev('dev', false),
  'fal-ai/flux-2/turbo/edit': dev('dev', true),
  'fal-ai/flux-2/klein/4b': dev('klein', false),
  'fal-ai/flux-2/klein/4b/edit': dev('klein', true),
  'fal-ai/flux-2/klein/9b': dev('klein', false),
  'fal-ai/flux-2/klein/9b/edit': dev('klein', true),
};

/** owner/app of an endpoint id: the only part status, result and cancel paths use. */
export const appOf = (endpointId: string): string => endpointId.split('/').slice(0, 2).join('/');

export interface FalIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  url?: string;
  ctx?: Record<string, unknown>;
}

export interface FalReference {
  /** "data" for an inline data URI, "url" for a link the runner would download. */
  source: 'data' | 'url';
  format: string | null;
  width: number | null;
  height: number | null;
}

export interface FalValidInput {
  prompt: string;
  width: number;
  height: number;
  seed: number | null;
  outputFormat: FakeOutputFormat;
  safetyTolerance: string | null;
  syncMode: boolean;
  /** The references the model actually uses (flux-2 [dev]/klein ignore those past 4). */
  references: FalReference[];
}

const ENUM_SIZES: Readonly<Record<string, [number, number]>> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

export interface FalValidationRules {
  /** Largest `image_urls` list the pro/max/flex edit endpoints accept; "up to 9" is third-party [C]. */
  maxProReferences: number;
}

const issue = (field: (string | number)[], msg: string, type: string, ctx?: Record<string, unknown>): FalIssue => ({ loc: ['body', ...field], msg, type, ...(ctx ? { ctx } : {}) });
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const literal = (options: readonly string[]) => `Input should be ${options.map((o) => `'${o}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')}`;

/**
 * Checks a submitted input the way the runner does when it picks the request up: the queue accepts
 * any JSON object, and validation failures come back later from the result endpoint.
 */
export async function validateFalInput(spec: FalEndpointSpec, body: unknown, rules: FalValidationRules): Promise<{ ok: true; value: FalValidInput } | { ok: false; detail: FalIssue[] }> {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const issues: FalIssue[] = [];
  if (typeof b.prompt !== 'string') issues.push(b.prompt === undefined ? issue(['prompt'], 'Field required', 'missing') : issue(['prompt'], 'Input should be a valid string', 'string_type'));

  let [width, height] = [1024, 768];
  const size = b.image_size ?? (spec.edit ? 'auto' : 'landscape_4_3');
  if (typeof size === 'string') {
    const named = ENUM_SIZES[size];
    if (named) [width, height] = named;
    else if (!(spec.edit && size === 'auto')) issues.push(issue(['image_size'], literal([...Object.keys(ENUM_SIZES), ...(spec.edit ? ['auto'] : [])]), 'literal_error'));
  } else if (typeof size === 'object' && size !== null) {
    const s = size as Record<string, unknown>;
    for (const side of ['width', 'height'] as const) {
      if (!isInt(s[side])) issues.push(issue(['image_size', side], s[side] === undefined ? 'Field required' : 'Input should be a valid integer', s[side] === undefined ? 'missing' : 'int_type'));
    }
    if (isInt(s.width) && isInt(s.height)) [width, height] = [s.width, s.height];
  } else {
    issues.push(issue(['image_size'], 'Input should be a valid dictionary or instance of ImageSize', 'model_type'));
  }
  // [dev]/klein document 512–2048 px per side; pro/max/flex take up to 4 MP like BFL's API [I].
  const [minSide, maxSide] = spec.family === 'dev' || spec.family === 'klein' ? [512, 2048] : [64, 4096];
  for (const [side, v] of [['width', width], ['height', height]] as const) {
    if (v < minSide) issues.push(issue(['image_size', side], `Input should be greater than or equal to ${minSide}`, 'greater_than_equal', { ge: minSide }));
    if (v > maxSide) issues.push(issue(['image_size', side], `Input should be less than or equal to ${maxSide}`, 'less_than_equal', { le: maxSide }));
  }
  if ((spec.family === 'pro' || spec.family === 'flex') && width * height > 2048 * 2048) {
    issues.push(issue(['image_size'], 'Image size must be at most 4 megapixels', 'value_error'));
  }

  if (b.seed !== undefined && b.seed !== null && !isInt(b.seed)) issues.push(issue(['seed'], 'Input should be a valid integer', 'int_type'));
  const outputFormat = b.output_format ?? spec.defaultFormat;
  if (typeof outputFormat !== 'string' || !(spec.outputFormats as readonly string[]).includes(outputFormat)) issues.push(issue(['output_format'], literal(spec.outputFormats), 'literal_error'));

  let safetyTolerance: string | null = null;
  if (spec.family === 'pro' || spec.family === 'flex') {
    // A string enum on fal, unlike BFL's integer: a number fails as a literal_error.
    const tolerance = b.safety_tolerance ?? '2';
    if (typeof tolerance !== 'string' || !['1', '2', '3', '4', '5'].includes(tolerance)) issues.push(issue(['safety_tolerance'], literal(['1', '2', '3', '4', '5']), 'literal_error'));
    else safetyTolerance = tolerance;
  }
  for (const flag of ['enable_safety_checker', 'sync_mode', 'enable_prompt_expansion']) {
    if (b[flag] !== undefined && typeof b[flag] !== 'boolean') issues.push(issue([flag], 'Input should be a valid boolean', 'bool_type'));
  }
  if (spec.family !== 'pro' && b.num_inference_steps !== undefined && !isInt(b.num_inference_steps)) issues.push(issue(['num_inference_steps'], 'Input should be a valid integer', 'int_type'));
  if ((spec.family === 'flex' || spec.family === 'dev') && b.guidance_scale !== undefined && typeof b.guidance_scale !== 'number') issues.push(issue(['guidance_scale'], 'Input should be a valid number', 'float_type'));

  const references: FalReference[] = [];
  if (spec.edit) {
    const urls = b.image_urls;
    if (urls === undefined) issues.push(issue(['image_urls'], 'Field required', 'missing'));
    else if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string')) issues.push(issue(['image_urls'], 'Input should be a valid list of strings', 'list_type'));
    else {
      const limit = spec.family === 'pro' || spec.family === 'flex' ? rules.maxProReferences : 4;
      if (spec.family !== 'dev' && spec.family !== 'klein' && urls.length > limit) {
        issues.push(issue(['image_urls'], `List should have at most ${limit} items after validation, not ${urls.length}`, 'too_long', { max_length: limit }));
      }
      for (const [i, url] of (urls as string[]).slice(0, limit).entries()) {
        const ref = await inspectReference(url);
        if (ref) references.push(ref);
        else issues.push({ ...issue(['image_urls', i], 'Failed to load the image. Please ensure the image file is not corrupted and is in a supported format.', 'image_load_error'), url: 'https://docs.fal.ai/errors#image_load_error' });
      }
    }
  }
  if (issues.length > 0) return { ok: false, detail: issues };
  if (spec.edit && size === 'auto' && references[0]?.width && references[0].height) [width, height] = [references[0].width, references[0].height];
  return {
    ok: true,
    value: {
      prompt: b.prompt as string,
      width,
      height,
      seed: isInt(b.seed) ? b.seed : null,
      outputFormat: outputFormat as FakeOutputFormat,
      safetyTolerance,
      syncMode: b.sync_mode === true,
      references,
    },
  };
}

/** A data URI decoded and measured; http(s) links are taken on trust (the fake downloads nothing). */
async function inspectReference(url: string): Promise<FalReference | null> {
  if (/^https?:\/\//.test(url)) return { source: 'url', format: null, width: null, height: null };
  const match = /^data:image\/[\w.+-]+;base64,(.+)$/s.exec(url);
  if (!match?.[1]) return null;
  try {
    const meta = await sharp(Buffer.from(match[1], 'base64')).metadata();
    return { source: 'data', format: meta.format ?? null, width: meta.width ?? null, height: meta.height ?? null };
  } catch {
    return null;
  }
}
