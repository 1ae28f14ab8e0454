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
