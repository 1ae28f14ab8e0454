import type { FastifyInstance } from 'fastify';
import type { CreditBalance, GenerationEvent } from '@atelier/contracts';
import type { EventHub } from '#src/events/event-hub.ts';
import { requireActor } from '#src/http/context.ts';
import type { Catalogue } from '#src/modules/catalogue/catalogue.ts';
import { AppError } from '#src/lib/errors.ts';
import { presentGeneration } from './generations.presenter.ts';
import type { GenerationService } from './generations.service.ts';

const HEARTBEAT_MS = 25_000;

/**
 * Server-Sent Events for the studio: every change to one of the user's generations is pushed as
 * `event: generation.updated`. A deleted generation is pushed as `generation.deleted` with its id.
 */
export function registerEventRoutes(app: FastifyInstance, deps: { hub: EventHub; generations: GenerationService; catalogue: Catalogue; balanceOf: (userId: string) => Promise<CreditBalance> }) {
  // Open streams never finish on their own; end them at shutdown so closing the server does not wait on them.
  const open = new Set<{ end(): void }>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  app.get('/api/events', { config: { auth: 'user' } }, async (request, reply) => {
    const { userId } = requireActor(request.actor);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    // Events for one generation are sent in order: each waits for the previous one's read.
    let chain: Promise<void> = Promise.resolve();
    const unsubscribe = deps.hub.subscribe(userId, ({ generationId }) => {
      chain = chain.then(async () => {
        try {
          const g = await deps.generations.get(userId, generationId);
          const event: GenerationEvent = { type: 'generation.updated', generation: presentGeneration(g, { catalogue: deps.catalogue, basePath: '/api' }) };
          res.write(`event: generation.updated\ndata: ${JSON.stringify(event)}\n\n`);
        } catch (error) {
          if (error instanceof AppError && error.code === 'not_found') res.write(`event: generation.deleted\ndata: ${JSON.stringify({ id: generationId })}\n\n`);
          else request.log.warn({ err: error }, 'could not push a generation event');
        }
      });
    });
    // Balance changes (holds, charges, purchases landing from a webhook) as `credits.updated`; a burst sends the latest once.
    let creditsPending = false;
    const unsubscribeCredits = deps.hub.subscribeCredits(userId, () => {
      if (creditsPending) return;
      creditsPending = true;
      chain = chain.then(async () => {
        creditsPending = false;
        try {
          res.write(`event: credits.updated\ndata: ${JSON.stringify(await deps.balanceOf(userId))}\n\n`);
        } catch (error) {
          request.log.warn({ err: error }, 'could not push a credits event');
        }
      });
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    open.add(res);
    const close = () => {
      open.delete(res);
      clearInterval(heartbeat);
      unsubscribe();
      unsubscribeCredits();
    };
    request.raw.on('close', close);
    res.on('error', close);
  });
}
