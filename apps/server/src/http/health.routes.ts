import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { Db } from '#src/db/client.ts';

export function registerHealthRoutes(app: FastifyInstance, deps: { db: Db; metrics: Registry }) {
  app.get('/healthz', { config: { auth: 'public' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  app.get('/metrics', { config: { auth: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.contentType);
    return deps.metrics.metrics();
  });
}
