import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createKitSchema, idParamSchema, kitListSchema, kitSchema, MAX_KIT_REFERENCES, MAX_KITS, updateKitSchema } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import { presentKit } from './kits.presenter.ts';
import type { KitService } from './kits.service.ts';

/** Named reference kits: a user's own, only (anyone else's kit answers 404). */
export function registerKitRoutes(app: FastifyInstance, deps: { kits: KitService; surface: ApiSurface }) {
  const { prefix, auth, tags } = deps.surface;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(`${prefix}/kits`, { config: { auth, scope: 'read' }, schema: { tags, summary: 'List your reference kits, by name', response: { 200: kitListSchema } } }, async (request) => {
    const kits = await deps.kits.list(requireActor(request.actor).userId);
    return { data: kits.map((k) => presentKit(k, prefix)) };
  });

  r.post(
    `${prefix}/kits`,
    {
      config: { auth, scope: 'generate' },
      schema: {
        tags,
        summary: 'Save references as a named kit',
        description: `1–${MAX_KIT_REFERENCES} of your uploads or generated images, in order, under a name unique among your kits (ignoring case). At most ${MAX_KITS} kits per account.`,
        body: createKitSchema,
        response: { 201: kitSchema },
      },
    },
    async (request, reply) => reply.status(201).send(presentKit(await deps.kits.create(requireActor(request.actor).userId, request.body), prefix)),
  );

  r.get(`${prefix}/kits/:id`, { config: { auth, scope: 'read' }, schema: { tags, summary: 'Get a reference kit', params: idParamSchema, response: { 200: kitSchema } } }, async (request) =>
    presentKit(await deps.kits.get(requireActor(request.actor).userId, request.params.id), prefix),
  );

  r.patch(
    `${prefix}/kits/:id`,
    {
      config: { auth, scope: 'generate' },
      schema: { tags, summary: 'Rename a kit, or replace its references (a new order, added or removed ones)', params: idParamSchema, body: updateKitSchema, response: { 200: kitSchema } },
    },
    async (request) => presentKit(await deps.kits.update(requireActor(request.actor).userId, request.params.id, request.body), prefix),
  );

  r.delete(
    `${prefix}/kits/:id`,
    { config: { auth, scope: 'manage' }, schema: { tags, summary: 'Delete a kit (its uploads and images stay)', params: idParamSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.kits.delete(requireActor(request.actor).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
