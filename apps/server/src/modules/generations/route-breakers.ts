import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { RouteDefinition } from '@atelier/contracts';
import { EngineError } from '#src/adapters/providers/engine.ts';

/**
 * One circuit breaker per route (engine + engine model), per process: it opens when at least half of
 * the last 20 submissions failed with a retryable error (429, 5xx, network, timeout), stays open 30 s,
 * then lets one submission through to test the route. An open route is skipped by fail-over.
 */
export type RouteState = 'closed' | 'open' | 'half-open';
const STATES: Record<CircuitState, RouteState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

export const routeKey = (route: Pick<RouteDefinition, 'engine' | 'engine_model'>) => `${route.engine}:${route.engine_model}`;

export interface RouteBreakers {
  /** Runs a submission through the route's breaker; an open circuit throws a retryable EngineError. */
  execute<T>(route: Pick<RouteDefinition, 'engine' | 'engine_model'>, fn: () => Promise<T>): Promise<T>;
  state(route: Pick<RouteDefinition, 'engine' | 'engine_model'>): RouteState;
  /** Every route seen so far and its state, for the engine status page. */
  states(): Record<string, RouteState>;
}

export function createRouteBreakers(opts: { halfOpenAfterMs?: number; windowSize?: number; minimumCalls?: number } = {}): RouteBreakers {
  const policies = new Map<string, CircuitBreakerPolicy>();
  const policyFor = (key: string) => {
    let policy = policies.get(key);
    if (!policy) {
      policy = circuitBreaker(
        handleWhen((error) => error instanceof EngineError && error.retryable),
        { halfOpenAfter: opts.halfOpenAfterMs ?? 30_000, breaker: new CountBreaker({ threshold: 0.5, size: opts.windowSize ?? 20, minimumNumberOfCalls: opts.minimumCalls ?? 5 }) },
      );
      policies.set(key, policy);
    }
    return policy;
  };
  return {
    async execute(route, fn) {
      try {
        return await policyFor(routeKey(route)).execute(fn);
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          throw new EngineError('engine_unavailable', `circuit open for ${routeKey(route)}: too many recent failures`, { retryable: true });
        }
        throw error;
      }
    },
    state: (route) => STATES[policyFor(routeKey(route)).state],
    states: () => Object.fromEntries([...policies].map(([key, policy]) => [key, STATES[policy.state]])),
  };
}
