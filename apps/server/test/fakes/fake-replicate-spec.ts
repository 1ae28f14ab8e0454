/**
 * The FLUX.2 models on Replicate as the fake enforces them (providers.md §3.3: the version API pages
 * of flux-2-pro 285631b5 and flux-2-max 9c23b0aa [V]; flex and dev from mirrors [C]), with input
 * validation reported the way Replicate reports it: HTTP 422 with a problem body
 * `{title: "Input validation failed", detail: "- input.width: …\n", status: 422, invalid_fields: [...]}`
 * [U: the envelope is seen in client libraries and captured responses, not in a published spec].
 * Unknown input keys are ignored, as Cog does.
 */

export type ReplicateOutputFormat = 'webp' | 'jpg' | 'png';

export interface ReplicateModelSpec {
  schema: 'pro' | 'flex' | 'dev';
  maxInputImages: number;
  /** Custom width/height are rounded to a multiple of this. */
  dimensionMultiple: number;
  maxDimension: number;
  /** Illustrative USD per prediction, only for the fake's credit balance [I]. */
  price: number;
}

export const REPLICATE_FLUX2_MODELS: Readonly<Record<string, ReplicateModelSpec>> = {
  'black-forest-labs/flux-2-pro': { schema: 'pro', maxInputImages: 8, dimensionMultiple: 32, maxDimension: 2048, price: 0.03 },
  'black-forest-labs/flux-2-max': { schema: 'pro', maxInputImages: 8, dimensionMultiple: 16, maxDimension: 2048, price: 0.07 },
  'black-forest-labs/flux-2-flex': { schema: 'flex', maxInputImages: 10, dimensionMultiple: 16, maxDimension: 2048, price: 0.06 },
  'black-forest-labs/flux-2-dev': { schema: 'dev', maxInputImages: 4, dimensionMultiple: 16, maxDimension: 1440, price: 0.012 },
};

export const ASPECT_RATIOS = ['match_input_image', 'custom', '1:1', '16:9', '3:2', '2:3', '4:5', '5:4', '9:16', '3:4', '4:3'] as const;
export const RESOLUTIONS = ['match_input_image', '0.5 MP', '1 MP', '2 MP', '4 MP'] as const;

/** One entry of `invalid_fields`. */
export interface InvalidField {
  type: string;
  field: string;
  description: string;
}

export interface InputImage {
  /** The data URI's MIME type, or null for an http(s) URL. */
  mime: string | null;
  /** Decoded bytes of a data URI; null for a URL. */
  bytes: Buffer | null;
  url: string | null;
}

export interface ValidatedInput {
  prompt: string;
  aspectRatio: string;
  width: number;
  height: number;
  seed: number | null;
  outputFormat: ReplicateOutputFormat;
  safetyTolerance: number | null;
  inputImages: InputImage[];
}

export function validationProblem(issues: InvalidField[]): Record<string, unknown> {
  return {
    title: 'Input validation failed',
    detail: issues.map((i) => `- ${i.field}: ${i.description}`).join('\n') + '\n',
    status: 422,
    invalid_fields: issues,
  };
}

const DATA_URI = /^data:(image\/(?:jpeg|png|gif|webp));base64,([A-Za-z0-9+/=\s]+)$/;

type Check = (value: unknown, field: string, issues: InvalidField[]) => void;
const integer = (min: number, max: number): Check => (value, field, issues) => {
  if (typeof value !== 'number' || !Number.isInteger(value)) issues.push({ type: 'invalid_type', field, description: `Invalid type. Expected: integer, given: ${typeName(value)}` });
  else if (value < min) issues.push({ type: 'number_gte', field, description: `Must be greater than or equal to ${min}` });
  else if (value > max) issues.push({ type: 'number_lte', field, description: `Must be less than or equal to ${max}` });
};
const number = (min: number, max: number): Check => (value, field, issues) => {
  if (typeof value !== 'number') issues.push({ type: 'invalid_type', field, description: `Invalid type. Expected: number, given: ${typeName(value)}` });
  else if (value < min) issues.push({ type: 'number_gte', field, description: `Must be greater than or equal to ${min}` });
  else if (value > max) issues.push({ type: 'number_lte', field, description: `Must be less than or equal to ${max}` });
};
const boolean: Check = (value, field, issues) => {
  if (typeof value !== 'boolean') issues.push({ type: 'invalid_type', field, description: `Invalid type. Expected: boolean, given: ${typeName(value)}` });
};
const oneOf = (allowed: readonly string[]): Check => (value, field, issues) => {
  if (typeof value !== 'string' || !allowed.includes(value)) issues.push({ type: 'enum', field, description: `${field.replace(/^input\./, '')} must be one of the following: ${allowed.map((a) => `"${a}"`).join(', ')}` });
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

/** Width/height the model renders: custom sizes rounded to the model's multiple, others from ratio × resolution. */
function outputSize(spec: ReplicateModelSpec, input: Record<string, unknown>, aspectRatio: string): { width: number; height: number } {
  const m = spec.dimensionMultiple;
  const clamp = (v: number) => Math.min(spec.maxDimension, Math.max(256, Math.round(v / m) * m));
  if (aspectRatio === 'custom') return { width: clamp(Number(input.width ?? 1024)), height: clamp(Number(input.height ?? 1024)) };
  const [rw, rh] = aspectRatio.includes(':') ? aspectRatio.split(':').map(Number) : [1, 1];
  const resolution = typeof input.resolution === 'string' ? input.resolution : '1 MP';
  const mp = resolution.endsWith(' MP') ? Number(resolution.slice(0, -3)) : 1;
  const pixels = mp * 1024 * 1024;
  const width = Math.sqrt((pixels * (rw ?? 1)) / (rh ?? 1));
  return { width: clamp(width), height: clamp(pixels / width) };
}

export function validateInput(spec: ReplicateModelSpec, raw: unknown): { ok: true; value: ValidatedInput } | { ok: false; issues: InvalidField[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ type: 'invalid_type', field: 'input', description: `Invalid type. Expected: object, given: ${typeName(raw)}` }] };
  }
  const input = raw as Record<string, unknown>;
  const issues: InvalidField[] = [];
  if (input.prompt === undefined) issues.push({ type: 'required', field: 'input', description: 'prompt is required' });
  else if (typeof input.prompt !== 'string') issues.push({ type: 'invalid_type', field: 'input.prompt', description: `Invalid type. Expected: string, given: ${typeName(input.prompt)}` });

  const checks: [string, Check][] = [
    ['aspect_ratio', oneOf(ASPECT_RATIOS)],
    ['width', integer(256, spec.maxDimension)],
    ['height', integer(256, spec.maxDimension)],
    ['seed', integer(-(2 ** 31), 2 ** 32)],
    ['output_format', oneOf(['webp', 'jpg', 'png'])],
    ['output_quality', integer(0, 100)],
  ];
  if (spec.schema !== 'dev') checks.push(['resolution', oneOf(RESOLUTIONS)], ['safety_tolerance', integer(1, 5)]);
  if (spec.schema === 'flex') checks.push(['steps', integer(1, 50)], ['guidance', number(1.5, 10)], ['prompt_upsampling', boolean]);
  if (spec.schema === 'dev') checks.push(['go_fast', boolean], ['disable_safety_checker', boolean]);
  for (const [key, check] of checks) if (input[key] !== undefined) check(input[key], `input.${key}`, issues);

  const inputImages: InputImage[] = [];
  if (input.input_images !== undefined) {
    if (!Array.isArray(input.input_images)) {
      issues.push({ type: 'invalid_type', field: 'input.input_images', description: `Invalid type. Expected: array, given: ${typeName(input.input_images)}` });
    } else {
      if (input.input_images.length > spec.maxInputImages) {
        issues.push({ type: 'array_max_items', field: 'input.input_images', description: `Array must have at most ${spec.maxInputImages} items` });
      }
      input.input_images.forEach((item: unknown, i) => {
        const field = `input.input_images.${i}`;
        const dataUri = typeof item === 'string' ? DATA_URI.exec(item) : null;
        if (dataUri?.[1] && dataUri[2]) {
          const bytes = Buffer.from(dataUri[2], 'base64');
          if (bytes.length === 0) issues.push({ type: 'format', field, description: 'Does not match format \'uri\'' });
          else inputImages.push({ mime: dataUri[1], bytes, url: null });
        } else if (typeof item === 'string' && URL.canParse(item) && /^https?:$/.test(new URL(item).protocol)) {
          inputImages.push({ mime: null, bytes: null, url: item });
        } else {
          issues.push({ type: 'format', field, description: 'Does not match format \'uri\'' });
        }
      });
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const aspectRatio = typeof input.aspect_ratio === 'string' ? input.aspect_ratio : '1:1';
  return {
    ok: true,
    value: {
      prompt: input.prompt as string,
      aspectRatio,
      ...outputSize(spec, input, aspectRatio),
      seed: typeof input.seed === 'number' ? input.seed : null,
      outputFormat: (input.output_format as ReplicateOutputFormat | undefined) ?? 'webp',
      safetyTolerance: typeof input.safety_tolerance === 'number' ? input.safety_tolerance : spec.schema === 'dev' ? null : 2,
      inputImages,
    },
  };
}
