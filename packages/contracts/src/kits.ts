import { z } from 'zod';

/**
 * A named reference kit: references a user reuses together (a character, a brand, a product), in
 * order. Its references are the user's uploads or generated images; deleting one takes it out of
 * every kit.
 */
export const MAX_KITS = 200;
export const MAX_KIT_REFERENCES = 10;

export const kitReferenceSchema = z.object({
  id: z.string().describe('The upload or image id, as sent in a generation’s `references`'),
  kind: z.enum(['upload', 'image']),
  width: z.number().int(),
  height: z.number().int(),
  thumbnail_url: z.string().describe('256 px WebP thumbnail'),
});
export type KitReference = z.infer<typeof kitReferenceSchema>;

export const kitSchema = z.object({
  id: z.string(),
  name: z.string(),
  references: z.array(kitReferenceSchema).describe('In order: "image 1" … "image N" when the kit is applied'),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Kit = z.infer<typeof kitSchema>;
export const kitListSchema = z.object({ data: z.array(kitSchema) });
export type KitList = z.infer<typeof kitListSchema>;

export const kitNameSchema = z.string().trim().min(1, 'give the kit a name').max(80, 'at most 80 characters');
export const kitReferencesSchema = z
  .array(z.uuid('each reference must be the id of one of your uploads or images'))
  .min(1, 'a kit holds at least one reference')
  .max(MAX_KIT_REFERENCES, `a kit holds at most ${MAX_KIT_REFERENCES} references`)
  .refine((ids) => new Set(ids).size === ids.length, 'the same reference is listed twice')
  .describe('Ids of your uploads or generated images, in order');

export const createKitSchema = z.object({ name: kitNameSchema, references: kitReferencesSchema }).strict();
export type CreateKitInput = z.infer<typeof createKitSchema>;

/** Rename, or replace the references (a new order, added or removed ones), or both. */
export const updateKitSchema = z
  .object({ name: kitNameSchema.optional(), references: kitReferencesSchema.optional() })
  .strict()
  .refine((v) => v.name !== undefined || v.references !== undefined, 'send a new name, new references, or both');
export type UpdateKitInput = z.infer<typeof updateKitSchema>;
