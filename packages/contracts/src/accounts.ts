import { z } from 'zod';

export const meSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
});
export type Me = z.infer<typeof meSchema>;

export const API_KEY_PREFIX = 'atl_';

/**
 * API key format (SEC-15): `atl_` + 43 base64url characters (256 random bits) + 6 base62 characters, the
 * CRC32 of those 43 characters. The checksum lets secret scanners and our own code tell a real key from a
 * typo or a look-alike without a database. Keys made before the checksum (`atl_` + 43) still work.
 */
export const API_KEY_PATTERN = /^atl_([A-Za-z0-9_-]{43})([0-9A-Za-z]{6})$/;
export const LEGACY_API_KEY_PATTERN = /^atl_[A-Za-z0-9_-]{43}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib and GitHub's token checksums use) of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The 6-character base62 checksum of a key's random part (62^6 > 2^32, so every CRC32 fits). */
export function apiKeyChecksum(random: string): string {
  let n = crc32(random);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** `checksummed`: today's format with a matching checksum; `legacy`: a key from before checksums; `malformed`: neither (no lookup needed). */
export function apiKeyShape(key: string): 'checksummed' | 'legacy' | 'malformed' {
  const m = API_KEY_PATTERN.exec(key);
  if (m) return apiKeyChecksum(m[1]!) === m[2] ? 'checksummed' : 'malformed';
  return LEGACY_API_KEY_PATTERN.test(key) ? 'legacy' : 'malformed';
}

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

