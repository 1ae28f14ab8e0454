import { z } from 'zod';

export const meSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
});
export type Me = z.infer<typeof meSchema>;

export const API_KEY_PREFIX = 'atl_';

export const createApiKeySchema = z.object({ name: z.string().trim().min(1, 'give the key a name').max(100) }).strict();

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;
export const apiKeyCreatedSchema = apiKeySchema.extend({ key: z.string().describe('The secret, shown only once') });
export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) });
