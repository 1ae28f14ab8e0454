import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics: process defaults, HTTP latency by route, and generation outcomes. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'atelier_' });
  const httpDuration = new Histogram({
    name: 'atelier_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const generationsFinished = new Counter({
    name: 'atelier_generations_finished_total',
    help: 'Generations that reached a final status',
    labelNames: ['status', 'engine'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, generationsFinished };
}
export type Metrics = ReturnType<typeof createMetrics>;

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
