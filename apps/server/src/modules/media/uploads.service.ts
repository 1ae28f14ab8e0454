import { UPLOAD_LIMITS, type OutputFormat } from '@atelier/contracts';
import { ImagingError, type Imaging } from '#src/adapters/imaging/imaging.ts';
import type { EncryptedStorage } from '#src/adapters/storage/encrypted-storage.ts';
import type { Db } from '#src/db/client.ts';
import type { UploadRow } from '#src/db/schema.ts';
import { systemClock, type Clock } from '#src/lib/clock.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import { CONTENT_TYPES, THUMBNAIL_SIDE } from './media.service.ts';
import { createUploadRateLimit, quotaRefusal, type UploadQuota, type UploadUsage } from './uploads.limits.ts';
import type { UploadRepository } from './uploads.repository.ts';
import { sniffUpload } from './uploads.sniff.ts';
import { decodeCursor, encodeCursor } from '#src/lib/cursor.ts';

/** What the upload pipeline needs from the imaging adapter (sharp). */
export type UploadImaging = Pick<Imaging, 'normalizeUpload' | 'thumbnails'>;

export interface UploadLimits {
  maxBytes: number;
  maxPixels: number;
  maxSide: number;
}

export type UploadVariant = 'original' | 'thumbnail';

export type UploadService = ReturnType<typeof createUploadService>;

const FORMAT_NAMES: Record<OutputFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };
const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

export const formatMegabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

export function createUploadService(deps: {
  db: Db;
  repository: UploadRepository;
  storage: EncryptedStorage;
  imaging: UploadImaging;
  limits?: UploadLimits;
  /** Uploads decoded at once: each may hold up to `maxPixels` decoded pixels, so this bounds the memory they take together. */
  concurrency?: number;
  /** What each user may keep; none: no quota. */
  quota?: UploadQuota;
  /** Upload attempts per user per minute; none: no limit. */
  ratePerMinute?: number | null;
  clock?: Clock;
}) {
  const { db, repository, storage, imaging } = deps;
  const limits = deps.limits ?? UPLOAD_LIMITS;
  const quota: UploadQuota = deps.quota ?? { maxBytes: null, maxCount: null };
  const rateLimit = deps.ratePerMinute ? createUploadRateLimit({ perMinute: deps.ratePerMinute, clock: deps.clock ?? systemClock }) : null;
  const withDecodeSlot = createLimiter(deps.concurrency ?? 2);
  const ctx = (ownerId: string) => ({ ownerId, purpose: 'upload' as const });

  /** Validates by content, checks the size from the header, then decodes fully and re-encodes (dropping all metadata). */
  async function prepare(bytes: Buffer) {
    if (bytes.length > limits.maxBytes) throw tooManyBytes(limits.maxBytes);
    const sniffed = sniffUpload(bytes);
    if ('refused' in sniffed) throw new AppError('unsupported_media_type', sniffed.refused);
    try {
      return await withDecodeSlot(async () => {
        const image = await imaging.normalizeUpload(bytes, limits);
        if (image.format !== sniffed.format) throw new ImagingError('unsupported_format', `The file starts like a ${FORMAT_NAMES[sniffed.format]} image but is not one.`);
        const [thumbnail] = (await imaging.thumbnails(image.bytes, [THUMBNAIL_SIDE])) as [Buffer];
        return { image, thumbnail };
      });
    } catch (error) {
      throw error instanceof ImagingError ? fromImagingError(error, sniffed.format) : error;
    }
  }

  return {
    /**
     * The checks that need no byte of the body, made before it is read: the per-minute limit (this
     * attempt counts), and a user already at their quota. The exact quota check is made by `create`.
     */
    async admit(userId: string): Promise<void> {
      rateLimit?.take(userId);
      if (quota.maxBytes === null && quota.maxCount === null) return;
      const refusal = quotaRefusal(await repository.usage(db, userId), quota, 0);
      if (refusal) throw refusal;
    },

    /** What the user's uploads take against their quota. */
    async usage(userId: string): Promise<UploadUsage & { quota: UploadQuota; ratePerMinute: number | null }> {
      return { ...(await repository.usage(db, userId)), quota, ratePerMinute: deps.ratePerMinute || null };
    },

    /**
     * Stores a user's reference image: recognised by content, size-checked before decoding, re-encoded
     * in its own format with no metadata, thumbnailed, encrypted. Nothing is kept when any step fails.
     * The quota is checked where the row is written, under the user's upload lock: two uploads racing
     * for the last of it cannot both be kept.
     */
    async create(userId: string, bytes: Buffer): Promise<UploadRow> {
      const { image, thumbnail } = await prepare(bytes);
      const id = newId();
      const keys = { original_key: `uploads/${id}/original`, thumbnail_key: `uploads/${id}/thumbnail` };
      const discard = () => Promise.all([storage.delete(keys.original_key), storage.delete(keys.thumbnail_key)]).catch(() => undefined);
      // allSettled: a failed write must not be cleaned up while the other is still landing.
      const written = await Promise.allSettled([storage.put(keys.original_key, image.bytes, ctx(userId)), storage.put(keys.thumbnail_key, thumbnail, ctx(userId))]);
      const failure = written.find((w) => w.status === 'rejected');
      try {
        if (failure) throw failure.reason;
        const row = { id, user_id: userId, width: image.width, height: image.height, format: image.format, bytes: image.bytes.length, ...keys };
        if (quota.maxBytes === null && quota.maxCount === null) return await repository.insert(db, row);
        return await db.transaction().execute(async (trx) => {
          await repository.lockUser(trx, userId);
          const refusal = quotaRefusal(await repository.usage(trx, userId), quota, row.bytes);
          if (refusal) throw refusal;
          return repository.insert(trx, row);
        });
      } catch (error) {
        await discard();
        throw error;
      }
    },

    async list(userId: string, opts: { cursor?: string | undefined; limit: number }): Promise<{ items: UploadRow[]; nextCursor: string | null }> {
      const beforeId = opts.cursor ? decodeCursor(opts.cursor) : null;
      const rows = await repository.listForUser(userId, { beforeId, limit: opts.limit + 1 });
      const items = rows.slice(0, opts.limit);
      return { items, nextCursor: rows.length > opts.limit ? encodeCursor(items.at(-1)!.id) : null };
    },

    /** The stored bytes for their owner; anyone else gets not_found. */
    async read(userId: string, uploadId: string, variant: UploadVariant): Promise<{ bytes: Buffer; contentType: string; filename: string }> {
      const row = await repository.getForUser(userId, uploadId);
      const stored = row && (await storage.get(variant === 'original' ? row.original_key : row.thumbnail_key, ctx(userId)));
      if (!row || !stored) throw notFound('Upload');
      return variant === 'original'
        ? { bytes: stored, contentType: CONTENT_TYPES[row.format], filename: `upload-${row.id}.${EXTENSIONS[row.format]}` }
        : { bytes: stored, contentType: 'image/webp', filename: `upload-${row.id}-thumbnail.webp` };
    },

    /** The decrypted (re-encoded) original, for a generation that uses it as a reference; undefined when it is gone or not the user's. */
    async readUpload(userId: string, uploadId: string): Promise<{ bytes: Buffer; format: OutputFormat; width: number; height: number } | undefined> {
      const row = await repository.getForUser(userId, uploadId);
      if (!row) return undefined;
      const bytes = await storage.get(row.original_key, ctx(userId));
      return bytes ? { bytes, format: row.format, width: row.width, height: row.height } : undefined;
    },

    /** Removes the row, then its files: a failure in between leaves unreadable ciphertext, never a row without files. */
    async delete(userId: string, uploadId: string): Promise<void> {
      const keys = await repository.delete(userId, uploadId);
      if (!keys) throw notFound('Upload');
      await Promise.all([storage.delete(keys.original_key), storage.delete(keys.thumbnail_key)]);
    },
  };
}

export const tooManyBytes = (maxBytes: number) => new AppError('payload_too_large', `The file is too large: uploads must be at most ${formatMegabytes(maxBytes)}.`);

/**
 * The checks every image a user sends goes through — recognised by content, size limits from the header,
 * a full decode and a re-encode without metadata — for images that are not references (avatars).
 */
export async function normalizeUserImage(imaging: Pick<Imaging, 'normalizeUpload'>, bytes: Buffer, limits: UploadLimits = UPLOAD_LIMITS) {
  if (bytes.length > limits.maxBytes) throw tooManyBytes(limits.maxBytes);
  const sniffed = sniffUpload(bytes);
  if ('refused' in sniffed) throw new AppError('unsupported_media_type', sniffed.refused);
  try {
    const image = await imaging.normalizeUpload(bytes, limits);
    if (image.format !== sniffed.format) throw new ImagingError('unsupported_format', `The file starts like a ${FORMAT_NAMES[sniffed.format]} image but is not one.`);
    return image;
  } catch (error) {
    throw error instanceof ImagingError ? fromImagingError(error, sniffed.format) : error;
  }
}

function fromImagingError(error: ImagingError, format: OutputFormat): AppError {
  switch (error.code) {
    case 'too_large':
      return new AppError('payload_too_large', error.message, { cause: error });
    case 'unsupported_format':
      return new AppError('unsupported_media_type', error.message, { cause: error });
    case 'corrupt':
      return new AppError('unsupported_media_type', `The ${FORMAT_NAMES[format]} image is damaged or incomplete (truncated or corrupt data): it could not be decoded.`, { cause: error });
  }
}

/** At most `max` tasks at once; a finishing task hands its slot straight to the next in line. */
function createLimiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

