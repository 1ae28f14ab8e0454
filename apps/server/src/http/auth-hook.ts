import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '#src/lib/errors.ts';
import type { Auth } from '#src/modules/accounts/auth.ts';
import type { ApiKeyService } from '#src/modules/accounts/api-keys.service.ts';
import type { StaffService, StaffPermission } from '#src/modules/accounts/staff.ts';
import type { SessionGuard } from '#src/modules/accounts/session-policy.ts';
import type { SecurityService } from '#src/modules/accounts/security.service.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import { countryFrom } from '#src/modules/accounts/session-location.ts';
import type { ApiKeyScope } from '@atelier/contracts';
import type { Actor, RouteAuth } from './context.ts';

export interface DeclaredRoute {
  method: string;
  url: string;
  auth: RouteAuth;
  /** The API-key scope a /v1 route requires. */
  scope?: ApiKeyScope | undefined;
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
export function registerAuth(app: FastifyInstance, deps: { auth: Auth; apiKeys: Pick<ApiKeyService, 'authenticate'>; staff: Pick<StaffService, 'access'>;
  /** Session timeouts and the 5-minute re-authentication rule (modules/accounts/session-policy.ts, security.service.ts). */
  sessions?: { guard: Pick<SessionGuard, 'check'>; security: Pick<SecurityService, 'assertRecentAuth'> };
  /** Where refused staff requests are recorded (`staff.permission_denied`). */
  audit?: Pick<AuditLog, 'record'>;
  /** The trusted proxy's country header (config.geoCountryHeader, set only with TRUST_PROXY), noted on the session with last seen. */
  geoCountryHeader?: string | null;
}): void {
  app.decorateRequest('actor', null);

  const routes: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', routes);
  app.addHook('onRoute', (route) => {
    // The public API reference (@fastify/swagger-ui's routes) is the one exemption.
    const auth = route.config?.auth ?? (route.url.startsWith('/docs') ? 'public' : undefined);
    if (!auth) throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule (config.auth)`);
    // Least privilege for keys: every API-key route names the one scope it needs.
    if (auth === 'apiKey' && !route.config?.scope) throw new Error(`Route ${String(route.method)} ${route.url} accepts API keys but declares no scope (config.scope)`);
    if (auth === 'apiKey' && route.schema) {
      const scope = route.config!.scope!;
      route.schema = { ...route.schema, description: [route.schema.description, `Requires an API key with the \`${scope}\` scope.`].filter(Boolean).join('\n\n') };
    }
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, auth, scope: route.config?.scope });
  });

  // onRequest, before the body is parsed or validated: an anonymous caller learns nothing about the route.
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (!auth || auth === 'public') return;
    request.actor = auth === 'apiKey' ? await apiKeyActor(request, deps.apiKeys) : await sessionActor(request, deps.auth, deps.sessions?.guard, deps.geoCountryHeader ?? null);
    if (!request.actor) {
      throw new AppError('unauthenticated', auth === 'apiKey' ? 'Send a valid API key as "Authorization: Bearer atl_…".' : 'Sign in to continue.');
    }
    if (auth.startsWith('staff:')) await checkStaff(request, deps.staff, auth.slice('staff:'.length) as StaffPermission, deps.audit);
    if (request.routeOptions.config.recentAuth && request.actor.kind === 'user') await deps.sessions?.security.assertRecentAuth(request.actor.userId, request.actor.sessionId);
  });
}

/**
 * A staff route: not staff at all → 404 (the console does not exist for them); staff without two-factor
 * authentication → 403 until they turn it on; staff whose roles lack the permission → 403. Each refusal
 * is an audit event `staff.permission_denied` (actor, IP, route, the permission it needs, why), written
 * before the answer; a failed write is logged and the answer stays the same.
 */
async function checkStaff(request: FastifyRequest, staff: Pick<StaffService, 'access'>, permission: StaffPermission, audit: Pick<AuditLog, 'record'> | undefined): Promise<void> {
  const access = await staff.access(request.actor!.userId);
  const refuse = async (reason: 'not_staff' | 'two_factor_required' | 'missing_permission', error: AppError): Promise<never> => {
    await audit
      ?.record({
        actorId: request.actor!.userId,
        actorIp: request.ip,
        action: 'staff.permission_denied',
        details: { route: `${request.method} ${request.routeOptions.url ?? ''}`, permission, reason, roles: access.roles },
      })
      .catch((err: unknown) => request.log.error({ err }, 'audit write failed'));
    throw error;
  };
  if (access.roles.length === 0) await refuse('not_staff', new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  if (access.hasTwoFactor === false) {
    await refuse('two_factor_required', new AppError('two_factor_required', 'Staff accounts must use two-factor authentication: turn on two-factor authentication in Settings → Security, then try again.'));
  }
  if (!access.permissions.includes(permission)) {
    await refuse('missing_permission', new AppError('forbidden', `Your staff roles (${access.roles.join(', ')}) do not include the "${permission}" permission.`, { details: { required_permission: permission } }));
  }
}

const ageOf = z.object({ ageConfirmed: z.boolean().nullish() });

async function sessionActor(request: FastifyRequest, auth: Auth, guard: Pick<SessionGuard, 'check'> | undefined, countryHeader: string | null): Promise<Actor | null> {
  if (!request.headers.cookie) return null;
  const session = await auth.api.getSession({ headers: toHeaders(request.headers) });
  if (!session) return null;
  const { id, userId, createdAt, updatedAt } = session.session;
  const country = countryHeader ? countryFrom(request.headers[countryHeader]) : null;
  if (guard && (await guard.check({ id, userId, createdAt, updatedAt, country }))) {
    throw new AppError('unauthenticated', 'Your session expired. Sign in again.', { details: { reason: 'session_expired' } });
  }
  // The age gate: an account made through a provider confirms the minimum age before anything but its
  // own account settings (/api/me…, where the confirmation is) works.
  const route = request.routeOptions.url ?? '';
  if (ageOf.parse(session.user).ageConfirmed !== true && route !== '/api/me' && !route.startsWith('/api/me/')) {
    throw new AppError('age_confirmation_required', 'Confirm that you meet the minimum age to use Atelier (you will be asked once).');
  }
  return { kind: 'user', userId: session.user.id, sessionId: session.session.id };
}

async function apiKeyActor(request: FastifyRequest, apiKeys: Pick<ApiKeyService, 'authenticate'>): Promise<Actor | null> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) return null;
  const key = await apiKeys.authenticate(match[1]!);
  if (!key) return null;
  if ('expiredAt' in key) throw new AppError('unauthenticated', `This API key expired on ${key.expiredAt.toISOString()}: create a new one in Settings → API keys.`);
  const scope = request.routeOptions.config.scope;
  if (scope && !key.scopes.includes(scope)) {
    throw new AppError('insufficient_scope', `This API key lacks the "${scope}" scope this request needs (it has: ${key.scopes.join(', ')}).`, { details: { required_scope: scope } });
  }
  return { kind: 'apiKey', userId: key.userId, keyId: key.keyId };
}

export function toHeaders(raw: FastifyRequest['headers']): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}
