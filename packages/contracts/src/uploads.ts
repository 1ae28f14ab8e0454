import { z } from 'zod';
import { outputFormatSchema } from './models.ts';

/** A reference image a user uploaded: validated, re-encoded (metadata stripped) and stored encrypted. */
export const uploadSchema = z.object({
  id: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  format: outputFormatSchema,
  bytes: z.number().int(),
  url: z.string().describe('Authenticated URL of the re-encoded upload'),
  thumbnail_url: z.string().describe('256 px WebP thumbnail'),
  created_at: z.string(),
});
export type Upload = z.infer<typeof uploadSchema>;

export const uploadPageSchema = z.object({ data: z.array(uploadSchema), next_cursor: z.string().nullable() });

/** Limits every upload must meet; each refusal names the limit it broke. */
export const UPLOAD_LIMITS = {
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 8192,
  formats: ['png', 'jpeg', 'webp'] as const,
} as const;

/** The multipart field the image must be sent in. */
export const UPLOAD_FILE_FIELD = 'file';

export const listUploadsQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30),
});
export type UploadPage = z.infer<typeof uploadPageSchema>;

/** What a user's uploads take against their quota (null: no limit configured). */
export const uploadUsageSchema = z.object({
  used_bytes: z.number().int().describe('Bytes of the stored (re-encoded) originals'),
  used_count: z.number().int(),
  quota_bytes: z.number().int().nullable(),
  quota_count: z.number().int().nullable(),
  rate_limit_per_minute: z.number().int().nullable().describe('Uploads a minute per account'),
});
export type UploadUsage = z.infer<typeof uploadUsageSchema>;
