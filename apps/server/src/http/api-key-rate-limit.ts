import type { FastifyInstance } from 'fastify';
import { AppError } from '#src/lib/errors.ts';

/**
 * Per-key request rate on the public API (SEC-15, ASVS 2.4.1): each API key may make `perMinute`
 * requests a minute on /v1, counted by key id (so one noisy key does not use up its owner's other keys,
 * and keys behind one NAT do not share a budget). Every answer carries `x-ratelimit-limit`,
 * `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until the window resets); over the limit the
 * answer is 429 `rate_limited` with `retry-after`. Counted in this process (@fastify/rate-limit's
 * in-memory store): N API processes allow up to N × the limit. Runs after the auth hook (registered
 * after it), so only authenticated keys are counted; routes with their own limit (creating a generation
 * per IP) apply it too, and their headers, set later, are the ones sent.
 */
export function registerApiKeyRateLimit(app: FastifyInstance, opts: { perMinute: number | null }): void {
  const { perMinute } = opts;
  if (!perMinute) return;
  const take = app.createRateLimit({ max: perMinute, timeWindow: 60_000, keyGenerator: (request) => `api-key:${request.actor?.kind === 'apiKey' ? request.actor.keyId : ''}` });

  app.addHook('onRequest', async (request, reply) => {
    if (request.actor?.kind !== 'apiKey') return;
    const state = await take(request);
    if (state.isAllowed) return;
    reply.header('x-ratelimit-limit', state.max);
    reply.header('x-ratelimit-remaining', state.remaining);
    reply.header('x-ratelimit-reset', state.ttlInSeconds);
    if (!state.isExceeded) return;
    reply.header('retry-after', state.ttlInSeconds);
    throw new AppError('rate_limited', `This API key is limited to ${state.max} requests a minute; the limit resets in ${state.ttlInSeconds} s.`, {
      details: { limit: state.max, retry_after_seconds: state.ttlInSeconds },
    });
  });
}
