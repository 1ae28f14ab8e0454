import type { RouteAuth } from './context.ts';

/**
 * The same routes serve two surfaces: the studio under /api (cookie session) and the public API
 * under /v1 (API key, documented in the OpenAPI document). Only /v1 routes carry the `v1` tag.
 */
export interface ApiSurface {
  prefix: '/api' | '/v1';
  auth: Extract<RouteAuth, 'user' | 'apiKey'>;
  tags: string[] | undefined;
}
export const STUDIO: ApiSurface = { prefix: '/api', auth: 'user', tags: undefined };
export const PUBLIC_V1: ApiSurface = { prefix: '/v1', auth: 'apiKey', tags: ['v1'] };
