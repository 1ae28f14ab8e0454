import type { OutputFormat } from '@atelier/contracts';
import { EngineError, type ReferenceImage } from '#src/adapters/providers/engine.ts';
import type { ReferencesRepository } from './references.repository.ts';

type StoredImage = { bytes: Buffer; format: OutputFormat; width: number; height: number };

/**
 * Loads a generation's references for the job, in the user's order: their uploads and earlier outputs,
 * decrypted, and sized for engines (at most `maxSide` on the long side) — or as stored when `original`
 * is set, for models that must see every pixel of the source (upscalers, see takesOriginalReferences).
 * A reference deleted since the generation was queued fails it for good: running without it would not
 * be what the user asked for.
 */
export function createReferenceLoader(deps: {
  references: Pick<ReferencesRepository, 'listFor'>;
  readUpload: (userId: string, uploadId: string) => Promise<StoredImage | undefined>;
  readImage: (userId: string, imageId: string) => Promise<StoredImage | undefined>;
  fitWithin: (image: StoredImage, maxSide: number) => Promise<StoredImage>;
  maxSide?: number;
}) {
  return async (userId: string, generationId: string, opts: { original?: boolean } = {}): Promise<ReferenceImage[]> => {
    const refs = (await deps.references.listFor([generationId])).get(generationId) ?? [];
    return Promise.all(
      refs.map(async (ref, i) => {
        const stored = ref === null ? undefined : ref.kind === 'upload' ? await deps.readUpload(userId, ref.id) : await deps.readImage(userId, ref.id);
        if (!stored) throw new EngineError('engine_rejected_request', `reference image ${i + 1} was deleted before the generation ran`, { retryable: false });
        return opts.original ? stored : deps.fitWithin(stored, deps.maxSide ?? 2048);
      }),
    );
  };
}
