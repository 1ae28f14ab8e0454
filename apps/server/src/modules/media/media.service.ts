import { z } from 'zod';
import type { Transaction } from 'kysely';
import type { OutputFormat } from '@atelier/contracts';
import type { Imaging } from '#src/adapters/imaging/imaging.ts';
import type { DB, ImageRow } from '#src/db/schema.ts';
import type { EncryptedStorage, EncryptionContext } from '#src/adapters/storage/encrypted-storage.ts';
import { defineJob, type JobQueue } from '#src/jobs/queue.ts';
import { notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { MediaRepository } from './media.repository.ts';

/** What the media pipeline needs from the imaging adapter (sharp). */
export type MediaImaging = Pick<Imaging, 'encodeWithInfo' | 'thumbnails' | 'convert'>;

export const THUMBNAIL_SIDE = 256;
export const PREVIEW_SIDE = 768;
export type ImageVariant = 'original' | 'thumbnail' | 'preview';

export const CONTENT_TYPES: Record<OutputFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

export const purgeObjectsJob = defineJob({
  name: 'media.purge',
  payload: z.object({ keys: z.array(z.string()).min(1).max(100) }),
  queue: { retryLimit: 10, retryDelay: 30, retryBackoff: true, expireInSeconds: 300 },
  concurrency: 2,
  duePollSeconds: 30,
});

/** An output processed and stored, not yet recorded: record it in the completing transaction, or discard it. */
export interface StoredImage {
  row: Omit<ImageRow, 'created_at'>;
}

export type MediaService = ReturnType<typeof createMediaService>;

export function createMediaService(deps: { repository: MediaRepository; storage: EncryptedStorage; imaging: MediaImaging; jobs: JobQueue }) {
  const { repository, storage, imaging, jobs } = deps;
  const ctx = (ownerId: string, purpose: EncryptionContext['purpose']): EncryptionContext => ({ ownerId, purpose });

  return {
    /**
     * The output pipeline: decode and check the engine's bytes, re-encode in the requested format with
     * provenance metadata (which also strips anything else the engine embedded), make the grid's WebP
     * thumbnails, encrypt and store all three under generated keys.
     */
    async storeOutput(input: { userId: string; generationId: string; bytes: Buffer; format: OutputFormat; provenance: { engineLabel: string; modelId: string; isPreviewEngine: boolean } }): Promise<StoredImage> {
      // One decode validates and re-encodes the engine's bytes; one more decode makes both thumbnails.
      const { bytes: original, ...info } = await imaging.encodeWithInfo(input.bytes, input.format, input.provenance);
      const [thumbnail, preview] = await imaging.thumbnails(original, [THUMBNAIL_SIDE, PREVIEW_SIDE]) as [Buffer, Buffer];
      const id = newId();
      const prefix = `images/${input.generationId}/${id}`;
      const row = {
        id,
        generation_id: input.generationId,
        user_id: input.userId,
        width: info.width,
        height: info.height,
        format: input.format,
        bytes: original.length,
        original_key: `${prefix}/original`,
        thumbnail_key: `${prefix}/thumbnail`,
        preview_key: `${prefix}/preview`,
      };
      await Promise.all([
        storage.put(row.original_key, original, ctx(input.userId, 'output')),
        storage.put(row.thumbnail_key, thumbnail, ctx(input.userId, 'thumbnail')),
        storage.put(row.preview_key, preview, ctx(input.userId, 'preview')),
      ]);
      return { row };
    },

    record(trx: Transaction<DB>, image: StoredImage): Promise<void> {
      return repository.insert(trx, image.row);
    },

    async discard(image: StoredImage): Promise<void> {
      await Promise.all([image.row.original_key, image.row.thumbnail_key, image.row.preview_key].map((k) => storage.delete(k)));
    },

    listForGenerations: (ids: readonly string[]) => repository.listForGenerations(ids),

    /** Reads an image for its owner; anyone else gets not_found. Converts the original on request. */
    async read(userId: string, imageId: string, variant: ImageVariant, format?: OutputFormat, opts: { width?: number | undefined } = {}): Promise<{ bytes: Buffer; contentType: string; filename: string }> {
      const image = await repository.getForUser(userId, imageId);
      if (!image) throw notFound('Image');
      const key = variant === 'original' ? image.original_key : variant === 'thumbnail' ? image.thumbnail_key : image.preview_key;
      const purpose = variant === 'original' ? 'output' : variant;
      const stored = await storage.get(key, ctx(userId, purpose));
      if (!stored) throw notFound('Image');
      if (variant !== 'original') return { bytes: stored, contentType: 'image/webp', filename: `atelier-${image.id}-${variant}.webp` };
      const target = format ?? image.format;
      const width = opts.width !== undefined && opts.width < image.width ? opts.width : undefined;
      const bytes = target === image.format && width === undefined ? stored : await imaging.convert(stored, target, { width });
      const suffix = width === undefined ? '' : `-${width}w`;
      return { bytes, contentType: CONTENT_TYPES[target], filename: `atelier-${image.generation_id}${suffix}.${EXTENSIONS[target]}` };
    },

    /** For staff content access (audited by the caller, with its reason): whose image this is. */
    systemOwnerOf: async (imageId: string): Promise<string | undefined> => (await repository.systemGet(imageId))?.user_id,

    /** An output's original, decrypted, for use as a reference image in a new generation (owner only). */
    async readForReference(userId: string, imageId: string): Promise<{ bytes: Buffer; format: OutputFormat; width: number; height: number } | undefined> {
      const image = await repository.getForUser(userId, imageId);
      if (!image) return undefined;
      const bytes = await storage.get(image.original_key, ctx(userId, 'output'));
      return bytes ? { bytes, format: image.format, width: image.width, height: image.height } : undefined;
    },

    /** Within the deleting transaction: schedules the generation's objects for removal once it commits. */
    async schedulePurgeForGeneration(trx: Transaction<DB>, userId: string, generationId: string): Promise<void> {
      const rows = await repository.listKeysForGeneration(trx, userId, generationId);
      const keys = rows.flatMap((r) => [r.original_key, r.thumbnail_key, r.preview_key]);
      if (keys.length) await jobs.enqueue(purgeObjectsJob, { keys }, { trx });
    },

    async purgeObjects(keys: readonly string[]): Promise<void> {
      await Promise.all(keys.map((k) => storage.delete(k)));
    },
  };
}
