import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionListSchema, collectionSchema, createCollectionSchema, idParamSchema, updateCollectionSchema, zipQuerySchema, zipSelectionQuerySchema, type Collection } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import type { CollectionSummary, CollectionsRepository } from './collections.repository.ts';
import type { CollectionsService } from './collections.service.ts';
import { fixedPages, keysetPages, type createZipExport } from './zip-export.ts';

function present(c: CollectionSummary, basePath: string): Collection {
  return {
    id: c.id,
    name: c.name,
    count: c.count,
    cover_thumbnail_url: c.cover_image_id ? `${basePath}/images/${c.cover_image_id}/thumbnail` : null,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
  };
}

/** ASCII-safe file name plus the RFC 6266 UTF-8 form, for any collection name. */
function attachment(reply: FastifyReply, name: string) {
  const ascii = name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\/]/g, '').trim() || 'atelier';
  return reply
    .header('content-type', 'application/zip')
    .header('content-disposition', `attachment; filename="${ascii}.zip"; filename*=UTF-8''${encodeURIComponent(name)}.zip`)
    .header('cache-control', 'no-store');
}

export function registerCollectionRoutes(
  app: FastifyInstance,
  deps: { collections: CollectionsService; repository: Pick<CollectionsRepository, 'pageItems'>; zip: ReturnType<typeof createZipExport>; surface: ApiSurface },
) {
  const { prefix, auth, tags } = deps.surface;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(`${prefix}/collections`, { config: { auth, scope: 'read' }, schema: { tags, summary: 'List your collections', response: { 200: collectionListSchema } } }, async (request) => ({
    data: (await deps.collections.list(requireActor(request.actor).userId)).map((c) => present(c, prefix)),
  }));

  r.post(
    `${prefix}/collections`,
    { config: { auth, scope: 'generate' }, schema: { tags, summary: 'Create a collection', body: createCollectionSchema, response: { 201: collectionSchema } } },
    async (request, reply) => reply.status(201).send(present(await deps.collections.create(requireActor(request.actor).userId, request.body.name), prefix)),
  );

  r.get(`${prefix}/collections/:id`, { config: { auth, scope: 'read' }, schema: { tags, summary: 'Get a collection', params: idParamSchema, response: { 200: collectionSchema } } }, async (request) =>
    present(await deps.collections.get(requireActor(request.actor).userId, request.params.id), prefix),
  );

  r.patch(
    `${prefix}/collections/:id`,
    { config: { auth, scope: 'generate' }, schema: { tags, summary: 'Rename a collection', params: idParamSchema, body: updateCollectionSchema, response: { 200: collectionSchema } } },
    async (request) => present(await deps.collections.rename(requireActor(request.actor).userId, request.params.id, request.body.name), prefix),
  );

  r.delete(
    `${prefix}/collections/:id`,
    { config: { auth, scope: 'manage' }, schema: { tags, summary: 'Delete a collection (its generations are kept)', params: idParamSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.collections.delete(requireActor(request.actor).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    `${prefix}/collections/:id/download`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'Download a collection as a ZIP (images + manifest.json)', params: idParamSchema, querystring: zipQuerySchema } },
    async (request, reply) => {
      const userId = requireActor(request.actor).userId;
      const collection = await deps.collections.get(userId, request.params.id);
      const pages = keysetPages((before, limit) => deps.repository.pageItems(collection.id, before, limit));
      return attachment(reply, collection.name).send(deps.zip.stream({ userId, collection: { id: collection.id, name: collection.name }, pages, format: request.query.format }));
    },
  );

  r.get(
    `${prefix}/generations/download`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'Download chosen generations as a ZIP (images + manifest.json)', querystring: zipSelectionQuerySchema } },
    async (request, reply) => {
      const userId = requireActor(request.actor).userId;
      const ids = [...new Set(request.query.ids)].sort().reverse();
      return attachment(reply, `atelier-${ids.length}-generations`).send(deps.zip.stream({ userId, collection: null, pages: fixedPages(ids), format: request.query.format }));
    },
  );
}
