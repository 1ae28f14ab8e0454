import { z } from 'zod';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp'] as const;
export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

export const ENGINES = ['offline', 'bfl'] as const;
export const engineSchema = z.enum(ENGINES);
export type Engine = z.infer<typeof engineSchema>;

export const WORKFLOWS = ['text-to-image', 'image-to-image', 'multi-reference'] as const;
export const workflowSchema = z.enum(WORKFLOWS);

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
  price_credits: z.number().int().min(0).describe('Credits charged per image at up to one megapixel'),
});
export type Model = z.infer<typeof modelSchema>;

export const modelListSchema = z.object({ data: z.array(modelSchema) });
