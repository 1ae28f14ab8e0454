/**
 * The OpenAI Images API (`/v1/images/generations`, `/v1/images/edits`) as the fake enforces it, per model
 * family: OpenAI's own models validate strictly and reject unknown parameters; gateways (LocalAI, FLUX
 * gateways) are lenient. Source: ../shared/research/providers.md §5 and openai-node `resources/images.ts`.
 * Error texts follow OpenAI's house style ("Invalid value: …", "Unknown parameter: …") [I].
 */
import type { FakeOutputFormat } from './fake-bfl-spec.ts';

export type ModelFamily = 'gpt-image' | 'dall-e-2' | 'dall-e-3' | 'gateway';

/** gpt-image-1, gpt-image-1-mini, gpt-image-1.5, chatgpt-image-latest… always answer b64_json. */
export function familyOf(model: string): ModelFamily {
  if (/^(gpt-image|chatgpt-image)/i.test(model)) return 'gpt-image';
  if (model === 'dall-e-2' || model === 'dall-e-3') return model;
  return 'gateway';
}

export interface OpenAiError {
  status: number;
  error: { message: string; type: string; param: string | null; code: string | null };
}

const invalid = (param: string, message: string, code: string | null = 'invalid_value'): OpenAiError => ({
  status: 400,
  error: { message, type: 'invalid_request_error', param, code },
});
const quoteList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const invalidValue = (param: string, value: unknown, allowed: readonly string[]) =>
  invalid(param, `Invalid value: '${String(value)}'. Supported values are: ${quoteList(allowed)}.`);

export interface FakeFile {
  field: string;
  filename: string;
  type: string;
  bytes: Buffer;
}

export interface ImagesSubmission {
  model: string;
  family: ModelFamily;
  prompt: string;
  n: number;
  /** The size asked for ("auto" resolved to 1024×1024). */
  width: number;
  height: number;
  size: string;
  responseFormat: 'url' | 'b64_json';
  outputFormat: FakeOutputFormat;
  quality: string;
  background: string;
  /** Gateways only (their FLUX backends take one) [U]; OpenAI's models have no seed. */
  seed: number | null;
  images: FakeFile[];
  mask: FakeFile | null;
}

export interface SpecRules {
  /** gpt-image models "always return b64_json"; whether they refuse the parameter outright is unverified [U]. */
  rejectResponseFormatForGptImage: boolean;
  /** Gateways' FLUX backends reject sizes that are not multiples of 16 or exceed 4 MP [C apiyi]. */
  gatewayMaxImages: number;
}

const SIZES: Record<Exclude<ModelFamily, 'gateway'>, readonly string[]> = {
  'gpt-image': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
};
const MAX_PROMPT: Record<ModelFamily, number> = { 'gpt-image': 32_000, 'dall-e-2': 1_000, 'dall-e-3': 4_000, gateway: 32_000 };
const QUALITY: Record<ModelFamily, readonly string[] | null> = {
  'gpt-image': ['auto', 'high', 'medium', 'low'],
  'dall-e-2': ['standard'],
  'dall-e-3': ['standard', 'hd'],
  gateway: null,
};
const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
const COMMON = ['prompt', 'model', 'n', 'size', 'quality', 'response_format', 'user'];
/** What each family knows; OpenAI answers `Unknown parameter` for anything else. */
const KNOWN: Record<'generations' | 'edits', Record<Exclude<ModelFamily, 'gateway'>, readonly string[]>> = {
  generations: {
    'gpt-image': [...COMMON, 'output_format', 'output_compression', 'background', 'moderation', 'stream', 'partial_images'],
    'dall-e-2': COMMON,
    'dall-e-3': [...COMMON, 'style'],
  },
  edits: {
    'gpt-image': [...COMMON, 'image', 'image[]', 'mask', 'output_format', 'output_compression', 'background', 'input_fidelity', 'stream', 'partial_images'],
    'dall-e-2': [...COMMON, 'image', 'image[]', 'mask'],
    'dall-e-3': [...COMMON, 'image', 'image[]', 'mask'],
  },
};

/** JSON numbers, or numeric strings as multipart fields carry them. */
function readInt(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return null;
}

type Checked = { ok: true; value: ImagesSubmission } | { ok: false; error: OpenAiError };

function parseSize(family: ModelFamily, raw: unknown): { width: number; height: number; size: string } | OpenAiError {
  const size = raw === undefined ? (family === 'dall-e-2' || family === 'dall-e-3' ? '1024x1024' : 'auto') : String(raw);
  if (family !== 'gateway' && !SIZES[family].includes(size)) return invalidValue('size', size, SIZES[family]);
  if (size === 'auto') return { width: 1024, height: 1024, size };
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (!m) return invalid('size', `Invalid value: '${size}'. Expected WIDTHxHEIGHT or 'auto'.`);
  const [width, height] = [Number(m[1]), Number(m[2])];
  if (width % 16 !== 0 || height % 16 !== 0) return invalid('size', `Invalid size '${size}': width and height must be multiples of 16.`);
  if (width < 64 || height < 64 || width * height > 2048 * 2048) return invalid('size', `Invalid size '${size}': must be between 64 px per side and 4 megapixels.`);
  return { width, height, size };
}

function checkImages(endpoint: 'generations' | 'edits', family: ModelFamily, images: FakeFile[], rules: SpecRules): OpenAiError | null {
  if (endpoint === 'generations') return null;
  if (family === 'dall-e-3') return invalidValue('model', 'dall-e-3', ['dall-e-2', 'gpt-image-1']);
  if (images.length === 0) return invalid('image', "Missing required parameter: 'image'.", 'missing_required_parameter');
  const max = family === 'gpt-image' ? 16 : family === 'dall-e-2' ? 1 : rules.gatewayMaxImages;
  if (images.length > max) return invalid('image', `Too many images: ${images.length}. At most ${max} images are supported for this model.`, 'invalid_image_count');
  for (const image of images) {
    const allowed = family === 'dall-e-2' ? ['image/png'] : ['image/png', 'image/jpeg', 'image/webp'];
    if (!allowed.includes(image.type)) {
      return invalid('image', `Invalid file 'image': unsupported mimetype ('${image.type}'). Supported file formats are ${quoteList(allowed)}.`, 'unsupported_file_mimetype');
    }
    if (image.bytes.length === 0) return invalid('image', "Invalid file 'image': the file is empty.", 'invalid_image');
    const limit = family === 'dall-e-2' ? 4 * 1024 * 1024 : 50 * 1024 * 1024;
    if (image.bytes.length > limit) return invalid('image', `Invalid file 'image': larger than ${limit / 1024 / 1024} MB.`, 'image_too_large');
  }
  return null;
}

/**
 * Validates one request body: JSON for generations, the multipart fields for edits (`fields` then
 * carries strings, `images` the uploaded files under `image` or `image[]`).
 */
export function validateImagesRequest(
  endpoint: 'generations' | 'edits',
  fields: Record<string, unknown>,
  images: FakeFile[],
  mask: FakeFile | null,
  rules: SpecRules,
): Checked {
  const fail = (error: OpenAiError): Checked => ({ ok: false, error });
  const model = fields.model === undefined ? (endpoint === 'edits' ? 'gpt-image-1' : 'dall-e-2') : String(fields.model);
  const family = familyOf(model);
  if (family !== 'gateway') {
    const unknown = Object.keys(fields).find((k) => !KNOWN[endpoint][family].includes(k));
    if (unknown) return fail(invalid(unknown, `Unknown parameter: '${unknown}'.`, 'unknown_parameter'));
  }
  if (typeof fields.prompt !== 'string' || fields.prompt === '') return fail(invalid('prompt', "Missing required parameter: 'prompt'.", 'missing_required_parameter'));
  if (fields.prompt.length > MAX_PROMPT[family]) return fail(invalid('prompt', `Invalid 'prompt': string too long. Expected a string with maximum length ${MAX_PROMPT[family]}, but got a string with length ${fields.prompt.length} instead.`, 'string_above_max_length'));

  const n = fields.n === undefined ? 1 : readInt(fields.n);
  if (n === null || n < 1 || n > 10) return fail(invalid('n', `Invalid value for 'n': expected an integer between 1 and 10.`));
  if (family === 'dall-e-3' && n !== 1) return fail(invalid('n', "Invalid 'n': dall-e-3 only supports n=1."));

  const size = parseSize(family, fields.size);
  if ('error' in size) return fail(size);

  let responseFormat: 'url' | 'b64_json' = family === 'gpt-image' ? 'b64_json' : 'url';
  if (fields.response_format !== undefined) {
    if (family === 'gpt-image' && rules.rejectResponseFormatForGptImage) return fail(invalid('response_format', `Unknown parameter: 'response_format'.`, 'unknown_parameter'));
    if (fields.response_format !== 'url' && fields.response_format !== 'b64_json') return fail(invalidValue('response_format', fields.response_format, ['url', 'b64_json']));
    if (family !== 'gpt-image') responseFormat = fields.response_format;
  }

  const outputFormat = fields.output_format ?? 'png';
  if (!OUTPUT_FORMATS.includes(outputFormat as FakeOutputFormat)) return fail(invalidValue('output_format', outputFormat, OUTPUT_FORMATS));
  if (fields.output_compression !== undefined) {
    const c = readInt(fields.output_compression);
    if (c === null || c < 0 || c > 100) return fail(invalid('output_compression', "Invalid 'output_compression': expected an integer between 0 and 100."));
    if (outputFormat === 'png' && family === 'gpt-image') return fail(invalid('output_compression', "'output_compression' is only supported for jpeg and webp output formats."));
  }
  const allowedQuality = QUALITY[family];
  const quality = fields.quality === undefined ? (allowedQuality?.[0] ?? 'auto') : String(fields.quality);
  if (allowedQuality && !allowedQuality.includes(quality)) return fail(invalidValue('quality', quality, allowedQuality));
  const background = fields.background === undefined ? 'auto' : String(fields.background);
  if (family === 'gpt-image') {
    if (!['transparent', 'opaque', 'auto'].includes(background)) return fail(invalidValue('background', background, ['transparent', 'opaque', 'auto']));
    if (background === 'transparent' && outputFormat === 'jpeg') return fail(invalid('background', 'Transparent background requires output_format png or webp.'));
    if (fields.moderation !== undefined && !['low', 'auto'].includes(String(fields.moderation))) return fail(invalidValue('moderation', fields.moderation, ['low', 'auto']));
    if (fields.input_fidelity !== undefined && !['high', 'low'].includes(String(fields.input_fidelity))) return fail(invalidValue('input_fidelity', fields.input_fidelity, ['high', 'low']));
  }
  if (family === 'dall-e-3' && fields.style !== undefined && !['vivid', 'natural'].includes(String(fields.style))) return fail(invalidValue('style', fields.style, ['vivid', 'natural']));

  const imageError = checkImages(endpoint, family, images, rules);
  if (imageError) return fail(imageError);
  if (family === 'dall-e-2' && endpoint === 'edits' && size.width !== size.height) return fail(invalid('size', 'dall-e-2 edits need a square size.'));

  const seed = family === 'gateway' && fields.seed !== undefined ? readInt(fields.seed) : null;
  return {
    ok: true,
    value: {
      model, family, prompt: fields.prompt, n, ...size, responseFormat, outputFormat: outputFormat as FakeOutputFormat,
      quality, background, seed, images, mask,
    },
  };
}
