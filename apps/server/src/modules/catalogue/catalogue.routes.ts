import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { modelListSchema } from '@atelier/contracts';
import { presentModel, type Catalogue } from './catalogue.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';

export function registerCatalogueRoutes(app: FastifyInstance, deps: { catalogue: Catalogue; surface: ApiSurface }) {
  const { prefix, auth, tags } = deps.surface;
  app.withTypeProvider<ZodTypeProvider>().get(
    `${prefix}/models`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'List the models this server offers', response: { 200: modelListSchema } } },
    async () => ({ data: deps.catalogue.list().map(presentModel) }),
  );
}
