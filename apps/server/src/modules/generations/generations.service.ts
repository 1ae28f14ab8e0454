import type { CreateGenerationInput, FieldError } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { GenerationRow, ImageRow } from '#src/db/schema.ts';
import { publishEngineWake, publishGenerationChanged } from '#src/events/event-hub.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { Catalogue, CatalogueEntry } from '#src/modules/catalogue/catalogue.ts';
import type { MediaService } from '#src/modules/media/media.service.ts';
import { runGenerationJob } from './generations.jobs.ts';
import type { GenerationsRepository } from './generations.repository.ts';
import type { ReferenceRef, ReferencesRepository } from './references.repository.ts';
import { hashRequest, resolveRequest, validateIdempotencyKey } from './generation.rules.ts';

export interface GenerationWithImages {
  row: GenerationRow;
  images: ImageRow[];
  /** In order; null where the upload or image has since been deleted. */
  references: (ReferenceRef | null)[];
}

export type GenerationService = ReturnType<typeof createGenerationService>;

export function createGenerationService(deps: {
  db: Db;
  repository: GenerationsRepository;
  catalogue: Catalogue;
  media: Pick<MediaService, 'listForGenerations' | 'schedulePurgeForGeneration'>;
  references: ReferencesRepository;
  jobs: JobQueue;
}) {
  const { db, repository, catalogue, media, jobs } = deps;

  const withImages = async (rows: GenerationRow[]): Promise<GenerationWithImages[]> => {
    const [images, references] = await Promise.all([
      media.listForGenerations(rows.filter((r) => r.status === 'succeeded').map((r) => r.id)),
      deps.references.listFor(rows.map((r) => r.id)),
    ]);
    return rows.map((row) => ({ row, images: images.filter((i) => i.generation_id === row.id), references: references.get(row.id) ?? [] }));
  };

  /** The request's references and parent, checked: the user's own, within the model's limit, on a route that takes them. */
  const resolveInputs = async (userId: string, input: CreateGenerationInput, model: CatalogueEntry): Promise<{ references: ReferenceRef[]; parentId: string | null; routes: CatalogueEntry['availableRoutes'] }> => {
    const ids = input.references ?? [];
    const fields: FieldError[] = [];
    if (ids.length > model.max_reference_images) {
      fields.push({ path: 'references', message: model.max_reference_images === 0 ? `${model.label} does not take reference images` : `${model.label} takes at most ${model.max_reference_images} reference images (got ${ids.length})` });
    }
    const owned = await deps.references.resolveOwned(userId, ids);
    ids.forEach((id, i) => {
      if (!owned.has(id)) fields.push({ path: `references.${i}`, message: `image ${i + 1} (${id}) is not one of your uploads or images` });
    });
    let parentId: string | null = null;
    if (input.parent) {
      if (await repository.getForUser(userId, input.parent)) parentId = input.parent;
      else fields.push({ path: 'parent', message: 'not one of your generations' });
    }
    const routes = model.availableRoutes.filter((r) => ids.length <= (r.max_reference_images ?? model.max_reference_images));
    if (routes.length === 0 && fields.length === 0) fields.push({ path: 'references', message: `no engine configured for ${model.label} takes ${ids.length} reference images` });
    if (fields.length) throw new AppError('validation_failed', fields.map((f) => f.message).join('; '), { fields });
    return { references: ids.map((id) => ({ id, kind: owned.get(id)! })), parentId, routes };
  };

  const replay = (existing: GenerationRow, requestHash: string) => {
    if (existing.request_hash !== requestHash) {
      throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used for a different request. Use a new key for a new request.');
    }
    return existing;
  };

  return {
    /**
     * Validates against the model's capabilities, then in ONE transaction inserts the generation as
     * queued and enqueues its job (and, later, reserves credits and records the safety verdict).
     * The same Idempotency-Key with the same body returns the first generation; with another body, 409.
     */
    async create(userId: string, input: CreateGenerationInput, rawIdempotencyKey?: string): Promise<{ generation: GenerationWithImages; replayed: boolean }> {
      const idempotencyKey = validateIdempotencyKey(rawIdempotencyKey);
      const model = catalogue.get(input.model);
      if (!model) {
        const available = catalogue.list().map((m) => m.id).join(', ');
        throw new AppError('validation_failed', `Unknown model "${input.model}"`, { fields: [{ path: 'model', message: `unknown or unavailable model "${input.model}"; available: ${available}` }] });
      }
      const resolved = resolveRequest(input, model);
      const inputs = await resolveInputs(userId, input, model);
      const route = inputs.routes[0]!;
      const requestHash = hashRequest(input);

      if (idempotencyKey) {
        const existing = await repository.getByIdempotencyKey(userId, idempotencyKey);
        if (existing) return { generation: (await withImages([replay(existing, requestHash)]))[0]!, replayed: true };
      }

      const id = newId();
      const inserted = await db.transaction().execute(async (trx) => {
        const row = await repository.insert(trx, {
          id,
          user_id: userId,
          status: 'queued',
          model_id: model.id,
          engine: route.engine,
          engine_model: route.engine_model,
          prompt: input.prompt,
          width: resolved.width,
          height: resolved.height,
          aspect_ratio: resolved.aspectRatio,
          seed: input.seed ?? null,
          output_format: resolved.outputFormat,
          idempotency_key: idempotencyKey,
          request_hash: requestHash,
          engine_request_id: null,
          engine_handle: null,
          webhook_token_hash: null,
          submitted_at: null,
          engine_finished_at: null,
          engine_cost: null,
          progress: null,
          lease_until: null,
          error_code: null,
          error_detail: null,
          cost_credits: null,
          parent_id: inputs.parentId,
        });
        if (!row) return undefined;
        await deps.references.insert(trx, row.id, inputs.references);
        // Seams for later issues, inside this same transaction: safety screening of the prompt, and the
        // credits hold (reserve now, capture on success, release on failure/cancel).
        await jobs.enqueue(runGenerationJob, { generationId: row.id }, { trx });
        await publishGenerationChanged(trx, { generationId: row.id, userId });
        return row;
      });
      if (!inserted) {
        // A concurrent request with the same key committed first.
        const existing = await repository.getByIdempotencyKey(userId, idempotencyKey!);
        if (!existing) throw new AppError('internal', 'Idempotent insert lost its row');
        return { generation: (await withImages([replay(existing, requestHash)]))[0]!, replayed: true };
      }
      return { generation: { row: inserted, images: [], references: inputs.references }, replayed: false };
    },

    async get(userId: string, id: string): Promise<GenerationWithImages> {
      const row = await repository.getForUser(userId, id);
      if (!row) throw notFound('Generation');
      return (await withImages([row]))[0]!;
    },

    async list(userId: string, opts: { cursor?: string | undefined; limit: number }): Promise<{ items: GenerationWithImages[]; nextCursor: string | null }> {
      const beforeId = opts.cursor ? decodeCursor(opts.cursor) : null;
      const rows = await repository.listForUser(userId, { beforeId, limit: opts.limit + 1 });
      const page = rows.slice(0, opts.limit);
      const nextCursor = rows.length > opts.limit ? encodeCursor(page.at(-1)!.id) : null;
      return { items: await withImages(page), nextCursor };
    },

    async cancel(userId: string, id: string): Promise<GenerationWithImages> {
      const canceled = await db.transaction().execute(async (trx) => {
        const row = await repository.cancel(trx, userId, id);
        if (row) await publishGenerationChanged(trx, { generationId: id, userId });
        return row;
      });
      if (canceled) {
        // The worker waiting on the engine notices at once and tells the engine to stop.
        await publishEngineWake(db, id);
        return (await withImages([canceled]))[0]!;
      }
      const current = await repository.getForUser(userId, id);
      if (!current) throw notFound('Generation');
      throw new AppError('invalid_state', `This generation already ${current.status === 'succeeded' ? 'finished' : current.status === 'canceled' ? 'was canceled' : `ended (${current.status})`}; there is nothing to cancel.`);
    },

    /** Deletes the record now and its stored objects right after (a job, so a crash cannot leave them behind). */
    /** The version graph around a generation: every generation linked to it by refinement, with its parent. */
    async versions(userId: string, id: string): Promise<{ items: GenerationWithImages[]; edges: { parent: string; child: string }[] }> {
      const graph = await deps.references.versionGraph(userId, id);
      if (graph.length === 0) throw notFound('Generation');
      const rows = (await Promise.all(graph.map((g) => repository.getForUser(userId, g.id)))).filter((r): r is GenerationRow => r !== undefined);
      return { items: await withImages(rows), edges: graph.filter((g) => g.parent_id !== null).map((g) => ({ parent: g.parent_id!, child: g.id })) };
    },

    async delete(userId: string, id: string): Promise<void> {
      const deleted = await db.transaction().execute(async (trx) => {
        await media.schedulePurgeForGeneration(trx, userId, id);
        const row = await repository.delete(trx, userId, id);
        if (row) await publishGenerationChanged(trx, { generationId: id, userId });
        return row;
      });
      if (!deleted) throw notFound('Generation');
    },
  };
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('validation_failed', 'Invalid cursor', { fields: [{ path: 'cursor', message: 'not a cursor returned by this API' }] });
  return id;
}
