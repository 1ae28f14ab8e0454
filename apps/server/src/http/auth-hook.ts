import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '#src/lib/errors.ts';
import type { Auth } from '#src/modules/accounts/auth.ts';
import type { ApiKeyService } from '#src/modules/accounts/api-keys.service.ts';
import type { StaffService, StaffPermission } from '#src/modules/accounts/staff.ts';
import type { Actor, RouteAuth } from './context.ts';

export interface DeclaredRoute {
  method: string;
  url: string;
  auth: RouteAuth;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its access rule, for the test that walks them all. */
    declaredRoutes: DeclaredRoute[];
  }
}

/**
 * Enforces each route's declared access. Registration fails for a route that declares none, so no
 * endpoint can be public by accident. Cookie sessions are for the studio (/api); API keys are sent
 * only as `Authorization: Bearer atl_…` and are for /v1, which never accepts cookies.
 */
export function registerAuth(app: FastifyInstance, deps: { auth: Auth; apiKeys: Pick<ApiKeyService, 'authenticate'>; staff: Pick<StaffService, 'hasPermission'> }): void {
  app.decorateRequest('actor', null);

  const routes: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', routes);
  app.addHook('onRoute', (route) => {
    // The public API reference (@fastify/swagger-ui's routes) is the one exemption.
    const auth = route.config?.auth ?? (route.url.startsWith('/docs') ? 'public' : undefined);
    if (!auth) throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule (config.auth)`);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, auth });
  });

  // onRequest, before the body is parsed or validated: an anonymous caller learns nothing about the route.
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (!auth || auth === 'public') return;
    request.actor = auth === 'apiKey' ? await apiKeyActor(request, deps.apiKeys) : await sessionActor(request, deps.auth);
    if (!request.actor) {
      throw new AppError('unauthenticated', auth === 'apiKey' ? 'Send a valid API key as "Authorization: Bearer atl_…".' : 'Sign in to continue.');
    }
    if (auth.startsWith('staff:') && !(await deps.staff.hasPermission(request.actor.userId, auth.slice('staff:'.length) as StaffPermission))) {
      // Staff pages do not exist for everyone else.
      throw new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`);
    }
  });
}

async function sessionActor(request: FastifyRequest, auth: Auth): Promise<Actor | null> {
  if (!request.headers.cookie) return null;
  const session = await auth.api.getSession({ headers: toHeaders(request.headers) });
  return session ? { kind: 'user', userId: session.user.id, sessionId: session.session.id } : null;
}

async function apiKeyActor(request: FastifyRequest, apiKeys: Pick<ApiKeyService, 'authenticate'>): Promise<Actor | null> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) return null;
  const key = await apiKeys.authenticate(match[1]!);
  return key ? { kind: 'apiKey', userId: key.userId, keyId: key.keyId } : null;
}

export function toHeaders(raw: FastifyRequest['headers']): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}
