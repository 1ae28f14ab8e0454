import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ENGINES, ENGINE_LABELS, catalogueAdminSchema, engineStatusListSchema, generationRoutingSchema, idParamSchema, modelDefinitionSchema, type EngineStatus } from '@atelier/contracts';
import type { EngineId, ImageEngine } from '#src/adapters/providers/engine.ts';
import { requireActor } from '#src/http/context.ts';
import { notFound } from '#src/lib/errors.ts';
import type { CatalogueService } from '#src/modules/catalogue/catalogue.service.ts';
import type { GenerationsRepository } from '#src/modules/generations/generations.repository.ts';
import type { RouteBreakers } from '#src/modules/generations/route-breakers.ts';

const HEALTH_TIMEOUT_MS = 5000;

/**
 * The staff console's API: engine status, the catalogue, and how a generation was routed. It composes
 * other modules' services and owns no tables. Routing details carry no user content (no prompt, no images).
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  deps: { engines: ReadonlyMap<EngineId, ImageEngine>; breakers: RouteBreakers; catalogue: CatalogueService; generations: Pick<GenerationsRepository, 'systemGet'> },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/admin/engines', { config: { auth: 'staff:engines.read', audit: { action: 'engines.status_viewed' } }, schema: { response: { 200: engineStatusListSchema } } }, async () => {
    const models = deps.catalogue.catalogue.definitions();
    const data = await Promise.all(
      ENGINES.map(async (id): Promise<EngineStatus> => {
        const engine = deps.engines.get(id);
        const health = engine?.health ? await engine.health(AbortSignal.timeout(HEALTH_TIMEOUT_MS)).catch((error: unknown) => ({ reachable: false, detail: String(error), balance: null })) : null;
        const routes = models.flatMap((m) => m.routes.filter((route) => route.engine === id).map((route) => ({ model: m.id, engine_model: route.engine_model, circuit: deps.breakers.state(route) })));
        return { id, label: ENGINE_LABELS[id], configured: engine !== undefined, reachable: health?.reachable ?? null, detail: health?.detail ?? null, balance: health?.balance ?? null, routes };
      }),
    );
    return { data };
  });

  r.get('/api/admin/catalogue', { config: { auth: 'staff:catalogue.write', audit: { action: 'catalogue.viewed' } }, schema: { response: { 200: catalogueAdminSchema } } }, async () => ({ data: deps.catalogue.definitions() }));

  r.put(
    '/api/admin/catalogue/models/:id',
    { config: { auth: 'staff:catalogue.write', audit: { action: 'catalogue.model_updated', targetType: 'model' } }, schema: { params: z.object({ id: z.string().max(64) }), body: modelDefinitionSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.catalogue.put(requireActor(request.actor).userId, request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );

  r.delete(
    '/api/admin/catalogue/models/:id',
    { config: { auth: 'staff:catalogue.write', audit: { action: 'catalogue.model_reverted', targetType: 'model' } }, schema: { params: z.object({ id: z.string().max(64) }), response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.catalogue.revert(request.params.id);
      return reply.status(204).send(null);
    },
  );

  r.get('/api/admin/generations/:id/routing', { config: { auth: 'staff:engines.read', audit: { action: 'generation.routing_viewed', targetType: 'generation' } }, schema: { params: idParamSchema, response: { 200: generationRoutingSchema } } }, async (request) => {
    const g = await deps.generations.systemGet(request.params.id);
    if (!g) throw notFound('Generation');
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      id: g.id,
      model: g.model_id,
      status: g.status,
      route_index: g.route_index,
      engine: g.engine,
      engine_model: g.engine_model,
      engine_request_id: g.engine_request_id,
      engine_cost: g.engine_cost,
      attempt: g.attempt,
      route_history: g.route_history,
      error_code: g.error_code,
      error_detail: g.error_detail,
      timings: { created_at: g.created_at.toISOString(), started_at: iso(g.started_at), submitted_at: iso(g.submitted_at), engine_finished_at: iso(g.engine_finished_at), completed_at: iso(g.completed_at) },
    };
  });
}
