import { z } from 'zod';
import { outputFormatSchema, engineSchema, workflowSchema } from './models.ts';
import { ASPECT_RATIOS } from './sizes.ts';

export const MAX_PROMPT_LENGTH = 32_000;
export const MAX_VARIATIONS = 4;

export const GENERATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'blocked'] as const;
export const generationStatusSchema = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof generationStatusSchema>;
export const TERMINAL_STATUSES: readonly GenerationStatus[] = ['succeeded', 'failed', 'canceled', 'blocked'];

/** Why a generation did not succeed. Each code has a message a user (or, for engine_*, an operator) can act on. */
export const FAILURE_CODES = {
  engine_error: 'The image engine reported an error. Try again; if it keeps happening, contact the operator.',
  engine_unavailable: 'The image engine is unavailable right now. Try again in a few minutes.',
  engine_rejected_request: 'The image engine rejected the request parameters.',
  engine_out_of_credits: 'The operator’s account with the image engine has run out of credits. The operator has to top it up.',
  engine_auth_failed: 'The operator’s image engine key was refused. The operator has to fix the engine configuration.',
  result_expired: 'The engine’s result expired before it could be downloaded.',
  invalid_output: 'The engine returned something that is not a valid image.',
  timed_out: 'The engine did not finish in time.',
  interrupted: 'The server restarted while this generation was running and it could not be resumed.',
  request_moderated: 'The prompt or reference images were flagged by the engine’s content policy.',
  content_moderated: 'The generated image was flagged by the engine’s content policy and was not delivered.',
  canceled: 'Canceled.',
} as const;
export type FailureCode = keyof typeof FAILURE_CODES;
export const failureCodeSchema = z.enum(Object.keys(FAILURE_CODES) as [FailureCode, ...FailureCode[]]);

const dimension = z.number().int('must be a whole number of pixels').positive();

export const createGenerationSchema = z
  .object({
    model: z.string().min(1, 'choose a model').max(100),
    prompt: z
      .string()
      .trim()
      .min(1, 'the prompt must not be empty')
      .max(MAX_PROMPT_LENGTH, `the prompt must be at most ${MAX_PROMPT_LENGTH} characters`),
    aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
    width: dimension.optional(),
    height: dimension.optional(),
    seed: z.number().int('must be a whole number').min(0).max(4_294_967_295).optional(),
    output_format: outputFormatSchema.optional(),
    references: z
      .array(z.uuid('each reference must be the id of one of your uploads or images'))
      .max(10, 'at most 10 reference images')
      .optional()
      .describe('Reference images, in order ("image 1" … "image N" in the prompt): ids of your uploads (POST /v1/uploads) or of images you generated'),
    parent: z.uuid('not a generation id').optional().describe('The generation this one refines; recorded in its version history'),
    count: z
      .number()
      .int('must be a whole number')
      .min(1, 'make at least 1 image')
      .max(MAX_VARIATIONS, `at most ${MAX_VARIATIONS} images at once`)
      .optional()
      .describe('How many variations to make (1–4, default 1). Each is its own generation; with a seed they get seed, seed+1, …'),
  })
  .strict()
  .superRefine((v, ctx) => {
    const hasW = v.width !== undefined;
    const hasH = v.height !== undefined;
    if (hasW !== hasH) ctx.addIssue({ code: 'custom', path: [hasW ? 'height' : 'width'], message: 'give both width and height, or neither' });
    if (v.aspect_ratio && (hasW || hasH)) ctx.addIssue({ code: 'custom', path: ['aspect_ratio'], message: 'give either aspect_ratio or width and height, not both' });
    if (v.references && new Set(v.references).size !== v.references.length) ctx.addIssue({ code: 'custom', path: ['references'], message: 'the same reference is listed twice' });
  });
export type CreateGenerationInput = z.infer<typeof createGenerationSchema>;

export const imageSchema = z.object({
  id: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  format: outputFormatSchema,
  bytes: z.number().int(),
  url: z.string().describe('Authenticated URL of the original image; append ?format=png|jpeg|webp to convert'),
  thumbnail_url: z.string().describe('256 px WebP thumbnail'),
  preview_url: z.string().describe('768 px WebP preview'),
});
export type Image = z.infer<typeof imageSchema>;

export const generationSchema = z.object({
  id: z.string(),
  status: generationStatusSchema,
  model: z.string(),
  model_label: z.string(),
  engine: engineSchema,
  is_preview_engine: z.boolean(),
  prompt: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  aspect_ratio: z.string().nullable(),
  seed: z.number().int().nullable(),
  output_format: outputFormatSchema,
  progress: z.number().min(0).max(1).nullable(),
  cost_credits: z.number().int().nullable().describe('Credits charged; null until billing is enabled'),
  error: z.object({ code: failureCodeSchema, message: z.string() }).nullable(),
  images: z.array(imageSchema),
  references: z.array(z.object({ id: z.string(), kind: z.enum(['upload', 'image']), thumbnail_url: z.string() })),
  parent_id: z.string().nullable(),
  workflow: workflowSchema,
  batch_id: z.string().nullable().describe('Set when the generation was one of several variations made by one request'),
  favorite: z.boolean(),
  collection_ids: z.array(z.string()).describe('Collections (boards) the generation is in'),
  created_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});
export type Generation = z.infer<typeof generationSchema>;

export const generationPageSchema = z.object({
  data: z.array(generationSchema),
  next_cursor: z.string().nullable(),
});
export type GenerationPage = z.infer<typeof generationPageSchema>;

/** A generation's version history: every generation linked to it by refinement (`parent`), and the links. */
export const generationVersionsSchema = z.object({
  data: z.array(generationSchema),
  edges: z.array(z.object({ parent: z.string(), child: z.string() })),
});
export type GenerationVersions = z.infer<typeof generationVersionsSchema>;

/** What `POST /generations` answers: the (first) generation, and every generation the request made. */
export const createGenerationResponseSchema = generationSchema.extend({
  batch: z.array(z.string()).describe('Ids of every generation this request created, in seed order (one unless count > 1)'),
});
export type CreateGenerationResponse = z.infer<typeof createGenerationResponseSchema>;

const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'use a date (2026-11-22) or an ISO 8601 date-time' });
const booleanQuery = z.enum(['true', 'false'], { error: 'use true or false' }).transform((v) => v === 'true');

/** History search. Every filter narrows; results are newest first and paged with `cursor`. */
export const listGenerationsQuerySchema = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(30),
    q: z.string().trim().max(200, 'the search must be at most 200 characters').optional().describe('Words from the prompt; every word must match (prefixes match: "cat" finds "cats")'),
    model: z.string().max(100).optional().describe('Only this model id'),
    workflow: workflowSchema.optional(),
    status: z.enum(GENERATION_STATUSES).optional(),
    from: dateBound.optional().describe('Created at or after (a date means its start, UTC)'),
    to: dateBound.optional().describe('Created before (a date means the end of that day, UTC)'),
    favorite: booleanQuery.optional().describe('true: only favourites'),
    collection: z.uuid('not a collection id').optional().describe('Only generations in this collection'),
  })
  .refine((v) => !v.from || !v.to || boundStart(v.from) < boundEnd(v.to), { path: ['to'], message: '"to" must be after "from"' });
export type ListGenerationsQuery = z.infer<typeof listGenerationsQuerySchema>;

/** The instant a `from` bound means: a date is its first moment (UTC). */
export function boundStart(v: string): Date {
  return new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
}
/** The instant a `to` bound means (exclusive): a date covers its whole day (UTC). */
export function boundEnd(v: string): Date {
  return v.length === 10 ? new Date(Date.parse(`${v}T00:00:00Z`) + 86_400_000) : new Date(v);
}

export const updateGenerationSchema = z
  .object({ favorite: z.boolean().optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change: send favorite' });

export const MAX_BULK_IDS = 500;
/** One action over many of the user's generations (bulk select in the studio). */
export const bulkGenerationsSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('delete'), ids: z.array(z.uuid('not a generation id')).min(1).max(MAX_BULK_IDS) }).strict(),
  z.object({ action: z.enum(['favorite', 'unfavorite']), ids: z.array(z.uuid('not a generation id')).min(1).max(MAX_BULK_IDS) }).strict(),
  z
    .object({
      action: z.enum(['add_to_collection', 'remove_from_collection']),
      ids: z.array(z.uuid('not a generation id')).min(1).max(MAX_BULK_IDS),
      collection_id: z.uuid('not a collection id'),
    })
    .strict(),
  z
    .object({
      action: z.literal('move_to_collection').describe('Removes from `from_collection_id` and adds to `collection_id`'),
      ids: z.array(z.uuid('not a generation id')).min(1).max(MAX_BULK_IDS),
      collection_id: z.uuid('not a collection id'),
      from_collection_id: z.uuid('not a collection id'),
    })
    .strict(),
]);
export type BulkGenerationsInput = z.infer<typeof bulkGenerationsSchema>;
export const bulkResultSchema = z.object({ affected: z.number().int().describe('How many generations the action changed') });

export const imageFormatQuerySchema = z.object({
  format: outputFormatSchema.optional(),
  download: z.enum(['1', 'true']).optional(),
  width: z.coerce.number().int('must be a whole number of pixels').min(16, 'at least 16 pixels').max(16_384).optional().describe('Resize to this width (keeps the aspect ratio; never enlarges)'),
});

/** A ZIP of images with manifest.json: a collection (`/collections/:id/download`) or chosen generations. */
export const zipQuerySchema = z.object({
  format: outputFormatSchema.optional().describe('Convert every image; default: as stored'),
});
/** Ids travel in the URL (so a browser can download with a plain link); 200 keep it well under header limits. */
export const MAX_ZIP_IDS = 200;
export const zipSelectionQuerySchema = zipQuerySchema.extend({
  ids: z
    .string()
    .transform((v) => v.split(',').filter((x) => x !== ''))
    .pipe(z.array(z.uuid('not a generation id')).min(1, 'choose at least one generation').max(MAX_ZIP_IDS, `at most ${MAX_ZIP_IDS} generations per download; download a collection for more`))
    .describe('Comma-separated generation ids'),
});

/** One entry per image in a ZIP's manifest.json. */
export const zipManifestSchema = z.object({
  created_at: z.string(),
  collection: z.object({ id: z.string(), name: z.string() }).nullable(),
  images: z.array(
    z.object({
      file: z.string(),
      image_id: z.string(),
      generation_id: z.string(),
      prompt: z.string(),
      model: z.string(),
      seed: z.number().int().nullable(),
      width: z.number().int(),
      height: z.number().int(),
      format: outputFormatSchema,
      parent_id: z.string().nullable(),
      created_at: z.string(),
    }),
  ),
});
export type ZipManifest = z.infer<typeof zipManifestSchema>;

export const idParamSchema = z.object({ id: z.uuid('not a valid id') });

/** Pushed over SSE at /api/events whenever one of the user's generations changes. */
export const generationEventSchema = z.object({
  type: z.literal('generation.updated'),
  generation: generationSchema,
});
export type GenerationEvent = z.infer<typeof generationEventSchema>;
