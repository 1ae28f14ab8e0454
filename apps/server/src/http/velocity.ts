import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '#src/lib/errors.ts';

/**
 * Velocity limits (reliability.md ASVS 2.4.1, issue 6 "abuse limits"): how many times one account or
 * one address may do something in a window. Several limits can guard one route (per account AND per
 * IP), which a route's single `config.rateLimit` cannot express. Counting uses @fastify/rate-limit's
 * store (in-process; one API node's view). A refusal says which limit, when it resets and how to raise it.
 */
export interface VelocityLimit {
  /** What is limited, in words: "checkouts", "sign-ups", "new generations". */
  what: string;
  max: number;
  windowSeconds: number;
  /** 'account' keys by the signed-in user, 'ip' by the client address. */
  per: 'account' | 'ip';
  /** Advice for the message: how to get a higher limit. */
  howToRaise: string;
}

const windowText = (s: number) => (s % 3600 === 0 ? (s === 3600 ? 'hour' : `${s / 3600} hours`) : s % 60 === 0 ? (s === 60 ? 'minute' : `${s / 60} minutes`) : `${s} seconds`);

/** A hook enforcing the limits in order; use it as a route's `preHandler` (after authentication set the actor). */
export function velocityLimits(app: FastifyInstance, limits: VelocityLimit[]) {
  const limiters = limits.map((limit) => {
    return {
      limit,
      check: app.createRateLimit({
        max: limit.max,
        timeWindow: limit.windowSeconds * 1000,
        keyGenerator: (req: FastifyRequest) => `${limit.what}:${limit.per === 'account' ? (req.actor?.userId ?? `ip:${req.ip}`) : req.ip}`,
      }),
    };
  });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    for (const { limit, check } of limiters) {
      const result = await check(request);
      if (result.isAllowed || !result.isExceeded) continue;
      const seconds = Math.max(1, Math.ceil(result.ttlInSeconds));
      reply.header('retry-after', String(seconds));
      throw new AppError('rate_limited', `Too many ${limit.what}: at most ${limit.max} per ${windowText(limit.windowSeconds)} ${limit.per === 'account' ? 'for an account' : 'from one network address'}. Try again in ${seconds} s${limit.howToRaise ? `, or ${limit.howToRaise}` : ''}.`, {
        details: { limit: limit.what, per: limit.per, max: limit.max, window_seconds: limit.windowSeconds, retry_after_seconds: seconds, how_to_raise: limit.howToRaise },
      });
    }
  };
}
