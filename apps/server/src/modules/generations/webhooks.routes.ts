import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { engineSchema } from '@atelier/contracts';
import { WebhookRejectedError, type EngineId, type ImageEngine } from '#src/adapters/providers/engine.ts';
import type { Db } from '#src/db/client.ts';
import { publishEngineWake } from '#src/events/event-hub.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import { AppError } from '#src/lib/errors.ts';
import { hashWebhookToken } from './generation.runner.ts';
import { runGenerationJob } from './generations.jobs.ts';
import type { GenerationsRepository } from './generations.repository.ts';

/**
 * Engine webhooks. The URL carries the generation id and a per-submission secret token (only its hash
 * is stored); engines that sign their deliveries (fal, Replicate) are verified on top. A valid webhook
 * is only a trigger: it wakes the worker waiting on that generation, which re-reads the status from
 * the engine. So a late or duplicate delivery changes nothing (engines that sign may refuse a replayed
 * delivery id outright), and one with a bad token or signature is refused (401) and changes nothing.
 */
const params = z.object({ engine: engineSchema, generationId: z.uuid(), token: z.string().min(20).max(100) });

export function registerWebhookRoutes(app: FastifyInstance, deps: { db: Db; repository: GenerationsRepository; engines: ReadonlyMap<EngineId, ImageEngine>; jobs: JobQueue }) {
  void app.register(async (scope) => {
    // Signatures cover the exact bytes: keep the body raw here, whatever its content type. Replicate
    // repeats the whole input (reference images as data URIs) in its webhooks, hence the size limit.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 20 * 1024 * 1024 }, (_request, body, done) => done(null, body));

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/webhooks/engines/:engine/:generationId/:token',
      { config: { auth: 'public', rateLimit: { max: 600, timeWindow: '1 minute' } }, schema: { params, response: { 204: z.null() } } },
      async (request, reply) => {
        const { engine: engineId, generationId, token } = request.params;
        const reject = () => new AppError('unauthenticated', 'Unknown or invalid webhook.');
        const gen = await deps.repository.systemGetForWebhook(generationId);
        if (!gen || gen.engine !== engineId || !gen.webhook_token_hash || !sameHash(gen.webhook_token_hash, hashWebhookToken(token))) throw reject();
        const engine = deps.engines.get(engineId);
        if (!engine) throw reject();
        if (engine.verifyWebhook) {
          try {
            const { requestId } = await engine.verifyWebhook({ headers: flatHeaders(request.headers), rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0) });
            if (gen.engine_request_id !== null && requestId !== gen.engine_request_id) throw new WebhookRejectedError('the webhook is about another engine request');
          } catch (error) {
            if (error instanceof WebhookRejectedError) {
              request.log.warn({ generationId, engine: engineId, reason: error.message }, 'engine webhook rejected');
              throw reject();
            }
            throw error;
          }
        }
        if (gen.status === 'running' || gen.status === 'queued') {
          await publishEngineWake(deps.db, generationId);
          // If no worker is waiting (it crashed), this resumes the generation once its lease lapses.
          await deps.jobs.enqueue(runGenerationJob, { generationId }, { singletonKey: `webhook:${generationId}` });
        }
        return reply.status(204).send(null);
      },
    );
  });
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
}
