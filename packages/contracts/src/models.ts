import { z } from 'zod';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp'] as const;
export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

export const ENGINES = ['offline', 'bfl', 'fal', 'replicate', 'comfyui', 'openai'] as const;
export const engineSchema = z.enum(ENGINES);
export type Engine = z.infer<typeof engineSchema>;
export const ENGINE_LABELS: Record<Engine, string> = {
  offline: 'Offline preview engine',
  bfl: 'Black Forest Labs API',
  fal: 'fal.ai',
  replicate: 'Replicate',
  comfyui: 'ComfyUI',
  openai: 'OpenAI-compatible images API',
};

/** What a model does. `upscale` models take exactly one image and enlarge it by their factor. */
/** How the built-in upscaler (the offline engine running ESRGAN) is named: it is a trained model, not a preview. */
export const LOCAL_UPSCALER_LABEL = 'Local ESRGAN upscaler';

export const WORKFLOWS = ['text-to-image', 'image-to-image', 'multi-reference', 'upscale'] as const;
export const workflowSchema = z.enum(WORKFLOWS);
export type Workflow = z.infer<typeof workflowSchema>;

/** A model as the catalogue describes it: what it can do and what it costs. */
export const modelSchema = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  engine: engineSchema,
  engine_label: z.string().describe('Human-readable engine name, e.g. "Offline preview engine"'),
  is_preview_engine: z.boolean().describe('True for the offline engine: a deterministic CPU renderer, not a diffusion model'),
  workflows: z.array(workflowSchema),
  max_reference_images: z.number().int().min(0),
  min_dimension: z.number().int().positive(),
  max_dimension: z.number().int().positive(),
  max_pixels: z.number().int().positive(),
  dimension_multiple: z.number().int().positive(),
  output_formats: z.array(outputFormatSchema).min(1),
  default_output_format: outputFormatSchema,
  price_credits: z.number().int().min(0).describe('Credits charged per image for each started megapixel (1024 × 1024) of output'),
  price_per_reference_credits: z.number().int().min(0).describe('Credits charged per image for each reference image'),
  upscale_factor: z.number().int().nullable().describe('For upscale models: how many times wider and taller the output is'),
});
export type Model = z.infer<typeof modelSchema>;

export const modelListSchema = z.object({ data: z.array(modelSchema) });

const parameterValue = z.union([z.string(), z.number(), z.boolean()]);

/** One way to serve a model: an engine and its own model name, tried in catalogue order (fail-over). */
export const routeDefinitionSchema = z
  .object({
    engine: engineSchema,
    engine_model: z.string().min(1).max(200),
    /** Passed through to the engine's input (e.g. steps, guidance). */
    parameters: z.record(z.string(), parameterValue).default({}),
    /** A lower reference-image limit on this route than the model's; the route is skipped for requests above it. */
    max_reference_images: z.number().int().min(0).optional(),
    /** What one image is expected to cost on this route, for operators. */
    cost: z.object({ amount: z.number().min(0), unit: z.enum(['bfl_credits', 'usd']) }).nullable().default(null),
  })
  .strict();
export type RouteDefinition = z.infer<typeof routeDefinitionSchema>;

/** A model as operators define it: in the built-in catalogue, CATALOGUE_FILE, or a staff override. */
export const modelDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, dot, dash and underscore; at most 64'),
    label: z.string().min(1).max(100),
    description: z.string().max(500).default(''),
    enabled: z.boolean().default(true),
    workflows: z.array(workflowSchema).min(1).default(['text-to-image']),
    max_reference_images: z.number().int().min(0).max(10).default(0),
    min_dimension: z.number().int().min(16).default(64),
    max_dimension: z.number().int().max(8192).default(2048),
    max_pixels: z.number().int().positive().max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    dimension_multiple: z.number().int().positive().default(16),
    output_formats: z.array(outputFormatSchema).min(1).default(['jpeg', 'png', 'webp']),
    default_output_format: outputFormatSchema.default('jpeg'),
    price_credits: z.number().int().min(0).default(0),
    price_per_reference_credits: z.number().int().min(0).default(0),
    /** Upscale models only: the output is this many times the input's width and height. */
    upscale_factor: z.union([z.literal(2), z.literal(4)]).optional(),
    /** A generation not finished this long after it was created fails as timed_out (default: GENERATION_DEADLINE_SECONDS). */
    deadline_seconds: z.number().int().min(10).max(86_400).optional(),
    routes: z.array(routeDefinitionSchema).min(1),
  })
  .strict()
  .refine((m) => m.output_formats.includes(m.default_output_format), { path: ['default_output_format'], message: 'must be one of output_formats' })
  .refine((m) => m.min_dimension <= m.max_dimension, { path: ['min_dimension'], message: 'must not exceed max_dimension' })
  .refine((m) => (m.upscale_factor !== undefined) === m.workflows.includes('upscale'), { path: ['upscale_factor'], message: 'an upscale model needs upscale_factor (2 or 4), and only upscale models have one' })
  .refine((m) => !m.workflows.includes('upscale') || m.workflows.length === 1, { path: ['workflows'], message: 'an upscale model does nothing else' });
export type ModelDefinition = z.infer<typeof modelDefinitionSchema>;

export const catalogueFileSchema = z.object({ models: z.array(modelDefinitionSchema) }).strict();
