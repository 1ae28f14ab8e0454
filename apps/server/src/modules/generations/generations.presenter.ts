import type { Generation } from '@atelier/contracts';
import { FAILURE_CODES } from '@atelier/contracts';
import type { GenerationRow, ImageRow } from '#src/db/schema.ts';
import type { Catalogue } from '#src/modules/catalogue/catalogue.ts';
import type { ReferenceRef } from './references.repository.ts';

/** Copies fields explicitly: internal columns (leases, engine ids, operator details) never leave the server. */
export function presentGeneration(
  { row, images, references, collectionIds }: { row: GenerationRow; images: readonly ImageRow[]; references: readonly (ReferenceRef | null)[]; collectionIds: readonly string[] },
  ctx: { catalogue: Catalogue; basePath: '/api' | '/v1' },
): Generation {
  const model = ctx.catalogue.get(row.model_id);
  return {
    id: row.id,
    status: row.status,
    model: row.model_id,
    model_label: model?.label ?? row.model_id,
    engine: row.engine,
    // The offline engine's upscales run a trained model (ESRGAN): real output, not a preview.
    is_preview_engine: row.engine === 'offline' && row.workflow !== 'upscale',
    prompt: row.prompt,
    width: row.width,
    height: row.height,
    aspect_ratio: row.aspect_ratio,
    seed: row.seed,
    output_format: row.output_format,
    progress: row.status === 'running' ? row.progress : row.status === 'succeeded' ? 1 : null,
    cost_credits: row.cost_credits,
    error: row.error_code && row.status !== 'succeeded' ? { code: row.error_code, message: FAILURE_CODES[row.error_code] } : null,
    images: images.map((image) => ({
      id: image.id,
      width: image.width,
      height: image.height,
      format: image.format,
      bytes: image.bytes,
      url: `${ctx.basePath}/images/${image.id}`,
      thumbnail_url: `${ctx.basePath}/images/${image.id}/thumbnail`,
      preview_url: `${ctx.basePath}/images/${image.id}/preview`,
    })),
    references: references.filter((ref): ref is ReferenceRef => ref !== null).map((ref) => ({ id: ref.id, kind: ref.kind, thumbnail_url: `${ctx.basePath}/${ref.kind === 'upload' ? 'uploads' : 'images'}/${ref.id}/thumbnail` })),
    parent_id: row.parent_id,
    workflow: row.workflow,
    batch_id: row.batch_id,
    favorite: row.favorite,
    collection_ids: [...collectionIds],
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    completed_at: row.completed_at?.toISOString() ?? null,
  };
}
