import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bulkGenerationsSchema,
  bulkResultSchema,
  createGenerationResponseSchema,
  createGenerationSchema,
  generationPageSchema,
  generationSchema,
  generationVersionsSchema,
  idParamSchema,
  listGenerationsQuerySchema,
  quoteSchema,
  updateGenerationSchema,
} from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import { velocityLimits } from '#src/http/velocity.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import type { Catalogue } from '#src/modules/catalogue/catalogue.ts';
import { presentGeneration } from './generations.presenter.ts';
import type { GenerationService, GenerationWithImages } from './generations.service.ts';

const idempotencyHeaders = z.object({ 'idempotency-key': z.string().optional() }).passthrough();

/** New generations per account and per network address, one count shared by the studio and the API. */
export function generationVelocityLimits(app: FastifyInstance, limits: { perAccountPerMinute: number; perIpPerMinute: number }) {
  return velocityLimits(app, [
    { what: 'new generations', max: limits.perAccountPerMinute, windowSeconds: 60, per: 'account', howToRaise: 'ask the operator to raise RATE_LIMIT_GENERATIONS_PER_MINUTE' },
    { what: 'new generations', max: limits.perIpPerMinute, windowSeconds: 60, per: 'ip', howToRaise: '' },
  ]);
}

export function registerGenerationRoutes(app: FastifyInstance, deps: { generations: GenerationService; catalogue: Catalogue; surface: ApiSurface; createLimits: ReturnType<typeof generationVelocityLimits> }) {
  const { prefix, auth, tags } = deps.surface;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const present = (g: GenerationWithImages) => presentGeneration(g, { catalogue: deps.catalogue, basePath: prefix });

  r.post(
    `${prefix}/generations`,
    {
      config: { auth, scope: 'generate' },
      preHandler: deps.createLimits,
      schema: {
        tags,
        summary: 'Create a generation',
        description: 'Queues a generation. Send an Idempotency-Key header to make retries safe: the same key and body return the same generation; the same key with another body is a 409.',
        headers: idempotencyHeaders,
        body: createGenerationSchema,
        response: { 200: createGenerationResponseSchema, 202: createGenerationResponseSchema },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request.actor);
      const { generation, batch, replayed } = await deps.generations.create(actor.userId, request.body, request.headers['idempotency-key'], { apiKeyId: actor.kind === 'apiKey' ? actor.keyId : null });
      return reply.status(replayed ? 200 : 202).send({ ...present(generation), batch });
    },
  );

  r.post(
    `${prefix}/generations/quote`,
    {
      config: { auth, scope: 'read' },
      schema: {
        tags,
        summary: 'Price a generation before creating it',
        description: 'Takes the same body as POST /generations and answers what it would cost in credits (per model, output megapixels, references and count). Creates nothing.',
        body: createGenerationSchema,
        response: { 200: quoteSchema },
      },
    },
    async (request) => deps.generations.quote(requireActor(request.actor).userId, request.body),
  );

  r.post(
    `${prefix}/generations/bulk`,
    {
      config: { auth, scope: 'manage' },
      schema: {
        tags,
        summary: 'One action over many generations',
        description: 'delete, favorite, unfavorite, add_to_collection, remove_from_collection or move_to_collection, for up to 500 ids, in one transaction. Ids that are not yours are ignored; `affected` counts what changed.',
        body: bulkGenerationsSchema,
        response: { 200: bulkResultSchema },
      },
    },
    async (request) => deps.generations.bulk(requireActor(request.actor).userId, request.body),
  );

  r.get(
    `${prefix}/generations`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'List generations, newest first', querystring: listGenerationsQuerySchema, response: { 200: generationPageSchema } } },
    async (request) => {
      const page = await deps.generations.list(requireActor(request.actor).userId, request.query);
      return { data: page.items.map(present), next_cursor: page.nextCursor };
    },
  );

  r.get(
    `${prefix}/generations/:id`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'Get a generation', params: idParamSchema, response: { 200: generationSchema } } },
    async (request) => present(await deps.generations.get(requireActor(request.actor).userId, request.params.id)),
  );

  r.patch(
    `${prefix}/generations/:id`,
    { config: { auth, scope: 'generate' }, schema: { tags, summary: 'Change a generation (favourite)', params: idParamSchema, body: updateGenerationSchema, response: { 200: generationSchema } } },
    async (request) => present(await deps.generations.update(requireActor(request.actor).userId, request.params.id, request.body)),
  );

  r.get(
    `${prefix}/generations/:id/versions`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: "A generation's version history (refinements, as a graph)", params: idParamSchema, response: { 200: generationVersionsSchema } } },
    async (request) => {
      const { items, edges } = await deps.generations.versions(requireActor(request.actor).userId, request.params.id);
      return { data: items.map(present), edges };
    },
  );

  r.post(
    `${prefix}/generations/:id/cancel`,
    { config: { auth, scope: 'generate' }, schema: { tags, summary: 'Cancel a queued or running generation', params: idParamSchema, response: { 200: generationSchema } } },
    async (request) => present(await deps.generations.cancel(requireActor(request.actor).userId, request.params.id)),
  );

  r.delete(
    `${prefix}/generations/:id`,
    { config: { auth, scope: 'manage' }, schema: { tags, summary: 'Delete a generation and its images', params: idParamSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.generations.delete(requireActor(request.actor).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
