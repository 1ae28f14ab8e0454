import { z } from 'zod';

/** A board the user files generations in. A generation can be in several; deleting a board keeps them. */
export const collectionSchema = z.object({
  id: z.string(),
  name: z.string(),
  count: z.number().int().describe('Generations in the collection'),
  cover_thumbnail_url: z.string().nullable().describe('Thumbnail of the most recently added image'),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Collection = z.infer<typeof collectionSchema>;
export const collectionListSchema = z.object({ data: z.array(collectionSchema) });

const name = z.string().trim().min(1, 'give the collection a name').max(80, 'at most 80 characters');
export const createCollectionSchema = z.object({ name }).strict();
export const updateCollectionSchema = z.object({ name }).strict();
export const MAX_COLLECTIONS = 1000;
