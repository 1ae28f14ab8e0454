import { z } from 'zod';

export const meSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
});
export type Me = z.infer<typeof meSchema>;

export const API_KEY_PREFIX = 'atl_';

/**
 * What an API key may do on /v1 (the studio's /api ignores scopes): `read` lists and fetches
 * generations, images, models, uploads, collections and kits; `generate` creates and changes them
 * (generations, cancels, uploads, collections, kits, favourites); `manage` deletes (and bulk actions).
 */
export const API_KEY_SCOPES = ['read', 'generate', 'manage'] as const;
export const apiKeyScopeSchema = z.enum(API_KEY_SCOPES);
export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;
/** Expiry choices the studio offers; the API takes any whole number of days in range, or null for never. */
export const API_KEY_EXPIRY_DAYS = [7, 30, 90, 365] as const;

export const createApiKeySchema = z
  .object({
    name: z.string().trim().min(1, 'give the key a name').max(100),
    scopes: z.array(apiKeyScopeSchema).min(1, 'choose at least one scope').max(3).describe('What the key may do: read, generate, manage'),
    expires_in_days: z.number().int().min(1).max(3650).nullable().optional().describe('Days until the key stops working; null or absent: never'),
  })
  .strict();
export type CreateApiKey = z.input<typeof createApiKeySchema>;

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  created_at: z.string(),
  last_used_at: z.string().nullable().describe('Updated at most once a minute'),
  scopes: z.array(apiKeyScopeSchema),
  expires_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;
export const apiKeyCreatedSchema = apiKeySchema.extend({ key: z.string().describe('The secret, shown only once') });
export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) });

