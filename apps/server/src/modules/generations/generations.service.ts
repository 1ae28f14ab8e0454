import { MEGAPIXEL, quoteCredits, type PlanLimits, type Quote, boundEnd, boundStart, type BulkGenerationsInput, type CreateGenerationInput, type FieldError, type ListGenerationsQuery, type Workflow } from '@atelier/contracts';
import type { Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB } from '#src/db/schema.ts';
import type { CreditsService } from '#src/modules/credits/credits.service.ts';
import type { GenerationRow, ImageRow } from '#src/db/schema.ts';
import { publishEngineWake, publishGenerationChanged } from '#src/events/event-hub.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { Catalogue, CatalogueEntry } from '#src/modules/catalogue/catalogue.ts';
import type { MediaService } from '#src/modules/media/media.service.ts';
import { runGenerationJob } from './generations.jobs.ts';
import type { CollectionsRepository } from '#src/modules/collections/collections.repository.ts';
import type { GenerationsRepository } from './generations.repository.ts';
import type { ReferenceRef, ReferencesRepository } from './references.repository.ts';
import { hashRequest, resolveRequest, validateIdempotencyKey } from './generation.rules.ts';
import { decodeCursor, encodeCursor } from '#src/lib/cursor.ts';

export interface GenerationWithImages {
  row: GenerationRow;
  images: ImageRow[];
  /** In order; null where the upload or image has since been deleted. */
  references: (ReferenceRef | null)[];
  collectionIds: string[];
}

const MAX_SEED = 4_294_967_295;

/** What a request is, for history filters: upscale models are their own workflow; otherwise by its references. */
export function workflowOf(model: { workflows: readonly Workflow[] }, references: number): Workflow {
  if (model.workflows.includes('upscale')) return 'upscale';
  return references === 0 ? 'text-to-image' : references === 1 ? 'image-to-image' : 'multi-reference';
}

export type GenerationService = ReturnType<typeof createGenerationService>;

export function createGenerationService(deps: {
  db: Db;
  repository: GenerationsRepository;
  catalogue: Catalogue;
  media: Pick<MediaService, 'listForGenerations' | 'schedulePurgeForGeneration'>;
  references: ReferencesRepository;
  collections: Pick<CollectionsRepository, 'collectionIdsFor' | 'owns' | 'addItems' | 'removeItems'>;
  jobs: JobQueue;
  /** Admission: the price is reserved and the plan's limits are checked in the transaction that inserts the generations. */
  credits: Pick<CreditsService, 'reserve' | 'release' | 'lockForAdmission' | 'countOpenHoldsForKey'>;
  limitsFor: (ex: Db | Transaction<DB>, userId: string) => Promise<PlanLimits & { planName: string }>;
  apiKeyMaxConcurrent: number;
  /** How long a generation of this model may take before its hold is settled by the sweeper (deadline + grace). */
  holdTtlSeconds: (model: CatalogueEntry) => number;
}) {
  const { db, repository, catalogue, media, jobs } = deps;

  const withImages = async (rows: GenerationRow[]): Promise<GenerationWithImages[]> => {
    const ids = rows.map((r) => r.id);
    const [images, references, collections] = await Promise.all([
      media.listForGenerations(rows.filter((r) => r.status === 'succeeded').map((r) => r.id)),
      deps.references.listFor(ids),
      deps.collections.collectionIdsFor(ids),
    ]);
    return rows.map((row) => ({ row, images: images.filter((i) => i.generation_id === row.id), references: references.get(row.id) ?? [], collectionIds: collections.get(row.id) ?? [] }));
  };

  /** The size rules (generation.rules.ts); an upscale model's output size comes from its source image's stored size. */
  const resolveSize = async (userId: string, input: CreateGenerationInput, model: CatalogueEntry) =>
    resolveRequest(input, model, model.upscale_factor !== undefined && input.references?.length === 1 ? await deps.references.sizeOf(userId, input.references[0]) : undefined);

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

  /** The plan's largest output (the free tier's too): refused with the limit and what allows more. */
  const assertWithinPlan = async (userId: string, size: { width: number; height: number }, modelLabel: string) => {
    const limits = await deps.limitsFor(db, userId);
    const mp = Math.ceil((size.width * size.height) / MEGAPIXEL);
    if (mp > limits.max_megapixels) {
      throw new AppError('plan_limit', `Your ${limits.planName} plan makes images up to ${limits.max_megapixels} MP; this ${modelLabel} request is ${mp} MP (${size.width}×${size.height}). Choose a smaller size, or upgrade your plan on the Billing page.`, {
        details: { limit: 'max_megapixels', allowed: limits.max_megapixels, requested: mp, plan: limits.planName, how_to_raise: 'upgrade your plan (Billing)' },
        fields: [{ path: 'width', message: `at most ${limits.max_megapixels} MP on the ${limits.planName} plan` }],
      });
    }
  };

  /** Generations in flight at once, per plan and per API key (SEC-15); checked under the admission lock so it is exact. */
  const assertConcurrency = async (trx: Transaction<DB>, userId: string, apiKeyId: string | null, adding: number) => {
    const limits = await deps.limitsFor(trx, userId);
    const active = await repository.countUnfinished(trx, userId);
    if (active + adding > limits.max_concurrent_generations) {
      throw new AppError(
        'concurrency_limit',
        `You have ${active} generation${active === 1 ? '' : 's'} queued or running; your ${limits.planName} plan allows ${limits.max_concurrent_generations} at once${adding > 1 ? ` and this request adds ${adding}` : ''}. Try again when one finishes, or upgrade your plan for more.`,
        { details: { limit: 'max_concurrent_generations', allowed: limits.max_concurrent_generations, active, requested: adding, plan: limits.planName, resets: 'when one of your generations finishes', how_to_raise: 'upgrade your plan (Billing)' } },
      );
    }
    if (apiKeyId) {
      const open = await deps.credits.countOpenHoldsForKey(trx, apiKeyId);
      if (open + adding > deps.apiKeyMaxConcurrent) {
        throw new AppError('concurrency_limit', `This API key has ${open} generations in flight; a key may have ${deps.apiKeyMaxConcurrent} at once. Wait for one to finish, or use another key.`, {
          details: { limit: 'api_key_max_concurrent', allowed: deps.apiKeyMaxConcurrent, active: open, requested: adding, resets: 'when one of this key’s generations finishes', how_to_raise: 'ask the operator (API_KEY_MAX_CONCURRENT)' },
        });
      }
    }
  };

  return {
    /**
     * Validates against the model's capabilities, then in ONE transaction inserts the generation as
     * queued and enqueues its job (and, later, reserves credits and records the safety verdict).
     * The same Idempotency-Key with the same body returns the first generation; with another body, 409.
     */
    async create(userId: string, input: CreateGenerationInput, rawIdempotencyKey?: string, opts: { apiKeyId?: string | null } = {}): Promise<{ generation: GenerationWithImages; batch: string[]; replayed: boolean }> {
      const idempotencyKey = validateIdempotencyKey(rawIdempotencyKey);
      const model = catalogue.get(input.model);
      if (!model) {
        const available = catalogue.list().map((m) => m.id).join(', ');
        throw new AppError('validation_failed', `Unknown model "${input.model}"`, { fields: [{ path: 'model', message: `unknown or unavailable model "${input.model}"; available: ${available}` }] });
      }
      const resolved = await resolveSize(userId, input, model);
      const inputs = await resolveInputs(userId, input, model);
      const route = inputs.routes[0]!;
      const requestHash = hashRequest(input);
      const count = input.count ?? 1;

      const replayOf = async (existing: GenerationRow) => {
        const first = replay(existing, requestHash);
        const batch = first.batch_id ? (await repository.listBatch(userId, first.batch_id)).map((r) => r.id) : [first.id];
        return { generation: (await withImages([first]))[0]!, batch, replayed: true };
      };
      if (idempotencyKey) {
        const existing = await repository.getByIdempotencyKey(userId, idempotencyKey);
        if (existing) return replayOf(existing);
      }

      const quote = quoteCredits(model, { width: resolved.width, height: resolved.height, references: inputs.references.length, count });
      // Upscalers make large images by design; the plan's size limit is for generating.
      if (model.upscale_factor === undefined) await assertWithinPlan(userId, resolved, model.label);
      const apiKeyId = opts.apiKeyId ?? null;

      // Variations: one generation each, seeds consecutive from the given (or a random) seed.
      const baseSeed = input.seed ?? (count > 1 ? crypto.getRandomValues(new Uint32Array(1))[0]! : null);
      const batchId = count > 1 ? newId() : null;
      const workflow = workflowOf(model, inputs.references.length);
      const inserted = await db.transaction().execute(async (trx) => {
        // Under the user's credits lock, so concurrent requests see each other's generations and holds.
        await deps.credits.lockForAdmission(trx, userId);
        await assertConcurrency(trx, userId, apiKeyId, count);
        const rows: GenerationRow[] = [];
        for (let i = 0; i < count; i++) {
          const row = await repository.insert(trx, {
            id: newId(),
            user_id: userId,
            status: 'queued',
            model_id: model.id,
            engine: route.engine,
            engine_model: route.engine_model,
            prompt: input.prompt,
            width: resolved.width,
            height: resolved.height,
            aspect_ratio: resolved.aspectRatio,
            seed: baseSeed === null ? null : (baseSeed + i) % (MAX_SEED + 1),
            output_format: resolved.outputFormat,
            // Only the first row carries the key; the others are found through batch_id on a replay.
            idempotency_key: i === 0 ? idempotencyKey : null,
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
            cost_credits: quote.per_image,
            parent_id: inputs.parentId,
            workflow,
            batch_id: batchId,
          });
          if (!row) return undefined;
          await deps.references.insert(trx, row.id, inputs.references);
          // Seam for a later issue, inside this same transaction: safety screening of the prompt.
          await jobs.enqueue(runGenerationJob, { generationId: row.id }, { trx });
          await publishGenerationChanged(trx, { generationId: row.id, userId });
          rows.push(row);
        }
        // The price, held until the generation ends (captured on success, released otherwise); too few credits rolls it all back.
        const expiresAt = new Date(Date.now() + deps.holdTtlSeconds(model) * 1000);
        await deps.credits.reserve(trx, { userId, apiKeyId, expiresAt, holds: rows.map((r) => ({ generationId: r.id, amount: quote.per_image })) });
        return rows;
      });
      if (!inserted) {
        // A concurrent request with the same key committed first.
        const existing = await repository.getByIdempotencyKey(userId, idempotencyKey!);
        if (!existing) throw new AppError('internal', 'Idempotent insert lost its row');
        return replayOf(existing);
      }
      return { generation: { row: inserted[0]!, images: [], references: inputs.references, collectionIds: [] }, batch: inserted.map((r) => r.id), replayed: false };
    },

    /** What a request would cost, from the catalogue; checks the request like create does, creates nothing. */
    async quote(userId: string, input: CreateGenerationInput): Promise<Quote> {
      const model = catalogue.get(input.model);
      if (!model) throw new AppError('validation_failed', `Unknown model "${input.model}"`, { fields: [{ path: 'model', message: `unknown or unavailable model "${input.model}"` }] });
      const resolved = await resolveSize(userId, input, model);
      const inputs = await resolveInputs(userId, input, model);
      return quoteCredits(model, { width: resolved.width, height: resolved.height, references: inputs.references.length, count: input.count ?? 1 });
    },

    async get(userId: string, id: string): Promise<GenerationWithImages> {
      const row = await repository.getForUser(userId, id);
      if (!row) throw notFound('Generation');
      return (await withImages([row]))[0]!;
    },

    /** The history: newest first, narrowed by search words and filters, keyset-paged. */
    async list(userId: string, query: ListGenerationsQuery): Promise<{ items: GenerationWithImages[]; nextCursor: string | null }> {
      const beforeId = query.cursor ? decodeCursor(query.cursor) : null;
      if (query.collection && !(await deps.collections.owns(userId, query.collection))) throw notFound('Collection');
      const tsQuery = query.q ? await repository.toPrefixTsQuery(query.q) : null;
      const rows = await repository.search(userId, {
        beforeId,
        limit: query.limit + 1,
        tsQuery,
        model: query.model,
        workflow: query.workflow,
        status: query.status,
        from: query.from ? boundStart(query.from) : undefined,
        to: query.to ? boundEnd(query.to) : undefined,
        favorite: query.favorite,
        collectionId: query.collection,
      });
      const page = rows.slice(0, query.limit);
      const nextCursor = rows.length > query.limit ? encodeCursor(page.at(-1)!.id) : null;
      return { items: await withImages(page), nextCursor };
    },

    async update(userId: string, id: string, patch: { favorite?: boolean | undefined }): Promise<GenerationWithImages> {
      if (patch.favorite !== undefined) {
        const favorite = patch.favorite;
        await db.transaction().execute(async (trx) => {
          const changed = await repository.setFavorite(trx, userId, [id], favorite);
          for (const gid of changed) await publishGenerationChanged(trx, { generationId: gid, userId });
        });
      }
      return this.get(userId, id);
    },

    /**
     * One action over many generations, all or nothing, in one transaction. Ids that are not the
     * user's are ignored (never revealed); `affected` counts what actually changed.
     */
    async bulk(userId: string, input: BulkGenerationsInput): Promise<{ affected: number }> {
      const ids = [...new Set(input.ids)];
      if (input.action === 'add_to_collection' || input.action === 'remove_from_collection' || input.action === 'move_to_collection') {
        if (!(await deps.collections.owns(userId, input.collection_id))) throw new AppError('not_found', 'Collection not found', { fields: [{ path: 'collection_id', message: 'not one of your collections' }] });
        if (input.action === 'move_to_collection' && !(await deps.collections.owns(userId, input.from_collection_id))) {
          throw new AppError('not_found', 'Collection not found', { fields: [{ path: 'from_collection_id', message: 'not one of your collections' }] });
        }
      }
      const affected = await db.transaction().execute(async (trx) => {
        let changed: string[];
        switch (input.action) {
          case 'delete': {
            changed = [];
            for (const id of await repository.ownedIds(trx, userId, ids)) {
              await media.schedulePurgeForGeneration(trx, userId, id);
              if (await repository.delete(trx, userId, id)) {
                await deps.credits.release(trx, id, 'deleted');
                changed.push(id);
              }
            }
            break;
          }
          case 'favorite':
          case 'unfavorite':
            changed = await repository.setFavorite(trx, userId, ids, input.action === 'favorite');
            break;
          case 'add_to_collection':
            changed = await deps.collections.addItems(trx, userId, input.collection_id, ids);
            break;
          case 'remove_from_collection':
            changed = await deps.collections.removeItems(trx, input.collection_id, ids);
            break;
          case 'move_to_collection': {
            const removed = await deps.collections.removeItems(trx, input.from_collection_id, ids);
            await deps.collections.addItems(trx, userId, input.collection_id, removed);
            changed = removed;
            break;
          }
        }
        for (const gid of changed) await publishGenerationChanged(trx, { generationId: gid, userId });
        return changed.length;
      });
      return { affected };
    },

    async cancel(userId: string, id: string): Promise<GenerationWithImages> {
      const canceled = await db.transaction().execute(async (trx) => {
        const row = await repository.cancel(trx, userId, id);
        if (row) {
          await deps.credits.release(trx, id, 'canceled');
          await publishGenerationChanged(trx, { generationId: id, userId });
        }
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

    /** The version graph around a generation: every generation linked to it by refinement, with its parent. */
    async versions(userId: string, id: string): Promise<{ items: GenerationWithImages[]; edges: { parent: string; child: string }[] }> {
      const graph = await deps.references.versionGraph(userId, id);
      if (graph.length === 0) throw notFound('Generation');
      const rows = (await Promise.all(graph.map((g) => repository.getForUser(userId, g.id)))).filter((r): r is GenerationRow => r !== undefined);
      return { items: await withImages(rows), edges: graph.filter((g) => g.parent_id !== null).map((g) => ({ parent: g.parent_id!, child: g.id })) };
    },

    /** Deletes the record now and its stored objects right after (a job, so a crash cannot leave them behind). */
    async delete(userId: string, id: string): Promise<void> {
      const deleted = await db.transaction().execute(async (trx) => {
        await media.schedulePurgeForGeneration(trx, userId, id);
        const row = await repository.delete(trx, userId, id);
        if (row) {
          await deps.credits.release(trx, id, 'deleted'); // a no-op once charged: only unfinished work is given back
          await publishGenerationChanged(trx, { generationId: id, userId });
        }
        return row;
      });
      if (!deleted) throw notFound('Generation');
    },
  };
}

