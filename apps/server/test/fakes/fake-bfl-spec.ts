/**
 * The FLUX.2 part of BFL's OpenAPI (snapshot 2026-04-23) as the fake enforces it: per-model request
 * validation the way FastAPI/pydantic v2 reports it, and the per-megapixel price list.
 * Source: ../shared/research/providers.md §1.2, §1.3, §1.7 and bfl-openapi.json.
 */

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type FakeOutputFormat = (typeof OUTPUT_FORMATS)[number];

interface Flux2Model {
  /** Flux2Inputs (pro, pro-preview, max), Flux2FlexInputs or Flux2KleinInputs. */
  schema: 'pro' | 'flex' | 'klein';
  maxInputImages: number;
  /** Credits (= US cents) for the first megapixel and for each further input or output megapixel. */
  firstMp: number;
  extraMp: number;
}

export const FLUX2_MODELS: Readonly<Record<string, Flux2Model>> = {
  'flux-2-pro': { schema: 'pro', maxInputImages: 8, firstMp: 3, extraMp: 1.5 },
  'flux-2-pro-preview': { schema: 'pro', maxInputImages: 8, firstMp: 3, extraMp: 1.5 },
  'flux-2-max': { schema: 'pro', maxInputImages: 8, firstMp: 7, extraMp: 3 },
  // Flex moved from 6¢ to 5¢ in BFL's skill repo; third parties still quote 6¢ [U].
  'flux-2-flex': { schema: 'flex', maxInputImages: 8, firstMp: 5, extraMp: 5 },
  'flux-2-klein-4b': { schema: 'klein', maxInputImages: 4, firstMp: 1.4, extraMp: 0.1 },
  'flux-2-klein-9b': { schema: 'klein', maxInputImages: 4, firstMp: 1.5, extraMp: 0.2 },
  // No separate price is documented for the preview; assumed equal to 9b [I].
  'flux-2-klein-9b-preview': { schema: 'klein', maxInputImages: 4, firstMp: 1.5, extraMp: 0.2 },
};

/** One pydantic v2 error as FastAPI serialises it inside `{"detail": [...]}`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export interface ValidationRules {
  /** Documented limit the OpenAPI does not encode; the live API's reaction is unverified [U]. */
  rejectNonMultipleOf16: boolean;
  /** Klein's schema has no `input_image_5..8`, so pydantic would silently ignore them; BFL documents a limit of 4 [U]. */
  rejectExtraInputImages: boolean;
}

export interface Flux2Submission {
  prompt: string;
  /** The output size after defaults (0/omitted → 1024) and, when allowed, rounding to multiples of 16. */
  width: number;
  height: number;
  seed: number | null;
  safetyTolerance: number;
  outputFormat: FakeOutputFormat;
  inputImages: string[];
}

/** 4 MP as BFL counts it: 2048 × 2048. */
export const MAX_OUTPUT_PIXELS = 2048 * 2048;
/** BFL's "megapixel" is 2^20 pixels: 1024² costs exactly the first-MP price, and 1440² reports 1.98 MP [I]. */
const PIXELS_PER_MP = 1024 * 1024;
const DEFAULT_SIDE = 1024;

type Check<T> = { ok: true; value: T } | { ok: false; issue: Omit<ValidationIssue, 'loc'> };

/** pydantic's lax integer mode: 12, 12.0 and "12" pass; 12.5, true and "abc" do not. */
function checkInt(v: unknown): Check<number> {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return Number.isInteger(v)
      ? { ok: true, value: v }
      : { ok: false, issue: { type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' } };
  }
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return { ok: true, value: Number(v) };
  if (typeof v === 'string') return { ok: false, issue: { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' } };
  return { ok: false, issue: { type: 'int_type', msg: 'Input should be a valid integer' } };
}

function checkNumber(v: unknown): Check<number> {
  if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: v };
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return { ok: true, value: Number(v) };
  return { ok: false, issue: { type: 'float_type', msg: 'Input should be a valid number' } };
}

function checkRange(value: number, min: number | null, max: number | null): Check<number> {
  if (min !== null && value < min) return { ok: false, issue: { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${min}` } };
  if (max !== null && value > max) return { ok: false, issue: { type: 'less_than_equal', msg: `Input should be less than or equal to ${max}` } };
  return { ok: true, value };
}

/**
 * Validates a FLUX.2 submit body like FastAPI would. Unknown fields are ignored (pydantic's default),
 * which is also how fields that disappeared from the spec (`disable_pup`, `transparent_bg`) behave.
 */
export function validateFlux2Body(
  model: Flux2Model,
  body: unknown,
  rules: ValidationRules,
): { ok: true; value: Flux2Submission } | { ok: false; detail: ValidationIssue[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, detail: [{ loc: ['body'], type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object to extract fields from' }] };
  }
  const b = body as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const fail = (field: string, issue: Omit<ValidationIssue, 'loc'>) => issues.push({ loc: ['body', field], ...issue });
  const present = (field: string) => b[field] !== undefined && b[field] !== null;

  let prompt = '';
  if (b.prompt === undefined) fail('prompt', { type: 'missing', msg: 'Field required' });
  else if (typeof b.prompt !== 'string') fail('prompt', { type: 'string_type', msg: 'Input should be a valid string' });
  else prompt = b.prompt;

  const ints: Record<string, number> = {};
  const intFields: [string, number | null, number | null][] = [['seed', null, null], ['width', 64, null], ['height', 64, null], ['safety_tolerance', 0, 5]];
  if (model.schema === 'flex') intFields.push(['steps', 1, 50]);
  for (const [field, min, max] of intFields) {
    // safety_tolerance is the one non-nullable integer: an explicit null is a type error, not "use the default".
    if (b[field] === undefined || (b[field] === null && field !== 'safety_tolerance')) continue;
    const parsed = checkInt(b[field]);
    const ranged = parsed.ok ? checkRange(parsed.value, min, max) : parsed;
    if (ranged.ok) ints[field] = ranged.value;
    else fail(field, ranged.issue);
  }

  if (model.schema === 'flex') {
    if (present('guidance')) {
      const g = checkNumber(b.guidance);
      const ranged = g.ok ? checkRange(g.value, 1.5, 10) : g;
      if (!ranged.ok) fail('guidance', ranged.issue);
    }
    if (present('prompt_upsampling') && typeof b.prompt_upsampling !== 'boolean') fail('prompt_upsampling', { type: 'bool_type', msg: 'Input should be a valid boolean' });
  }

  let outputFormat: FakeOutputFormat = 'jpeg';
  if (present('output_format')) {
    const f = OUTPUT_FORMATS.find((x) => x === b.output_format);
    if (f) outputFormat = f;
    else fail('output_format', { type: 'enum', msg: "Input should be 'jpeg', 'png' or 'webp'" });
  }

  if (present('webhook_url')) {
    const u = b.webhook_url;
    if (typeof u !== 'string') fail('webhook_url', { type: 'url_type', msg: 'URL input should be a string or URL' });
    else if (u.length > 2083) fail('webhook_url', { type: 'string_too_long', msg: 'String should have at most 2083 characters' });
    else if (!URL.canParse(u)) fail('webhook_url', { type: 'url_parsing', msg: 'Input should be a valid URL, relative URL without a base' });
  }

  const imageFields = ['input_image', ...Array.from({ length: 9 }, (_, i) => `input_image_${i + 2}`)];
  const inputImages: string[] = [];
  imageFields.forEach((field, i) => {
    if (!present(field)) return;
    if (i >= model.maxInputImages) {
      if (rules.rejectExtraInputImages) fail(field, { type: 'value_error', msg: `Value error, this model accepts at most ${model.maxInputImages} input images` });
      return;
    }
    const v = b[field];
    if (typeof v === 'string') inputImages.push(v);
    else fail(field, { type: 'string_type', msg: 'Input should be a valid string' });
  });

  // Sizes: the spec's default is 0, which means "the model picks" (1024 for text-to-image).
  let width = ints.width ?? DEFAULT_SIDE;
  let height = ints.height ?? DEFAULT_SIDE;
  for (const [field, value] of [['width', width], ['height', height]] as const) {
    if (value % 16 === 0 || ints[field] === undefined) continue;
    if (rules.rejectNonMultipleOf16) fail(field, { type: 'value_error', msg: `Value error, ${field} must be a multiple of 16` });
  }
  if (!rules.rejectNonMultipleOf16) {
    width = Math.max(64, Math.round(width / 16) * 16);
    height = Math.max(64, Math.round(height / 16) * 16);
  }
  if (issues.length === 0 && width * height > MAX_OUTPUT_PIXELS) {
    issues.push({ loc: ['body'], type: 'value_error', msg: `Value error, ${width}x${height} exceeds the maximum of 4 megapixels` });
  }

  if (issues.length > 0) return { ok: false, detail: issues };
  return {
    ok: true,
    value: { prompt, width, height, seed: ints.seed ?? null, safetyTolerance: ints.safety_tolerance ?? 2, outputFormat, inputImages },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** §1.7: credits = firstMP + (outputMP − 1)·mpPrice + inputMP·mpPrice, megapixels rounded up. */
export function priceFlux2(model: Flux2Model, width: number, height: number, inputMp: number): { cost: number; inputMp: number; outputMp: number } {
  const outputMp = (width * height) / PIXELS_PER_MP;
  const billedOut = Math.max(1, Math.ceil(outputMp - 1e-9));
  const billedIn = Math.ceil(inputMp - 1e-9);
  return {
    cost: round2(model.firstMp + (billedOut - 1) * model.extraMp + billedIn * model.extraMp),
    inputMp: round2(inputMp),
    outputMp: round2(outputMp),
  };
}
