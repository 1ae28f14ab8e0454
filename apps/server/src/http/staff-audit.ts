import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACCESS_REASON_MIN, accessReasonSchema } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';

/**
 * Every staff request is written to the audit log BEFORE its handler runs (so content is never served
 * unlogged, and a failed write refuses the request). A staff route must declare `config.audit`;
 * registration fails otherwise. Routes that read user content also require a stated reason.
 */
export function registerStaffAudit(app: FastifyInstance, deps: { audit: Pick<AuditLog, 'record'> }): void {
  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    if (typeof auth === 'string' && auth.startsWith('staff:') && !route.config?.audit) {
      throw new Error(`Staff route ${String(route.method)} ${route.url} declares no audit action (config.audit)`);
    }
  });

  // preHandler: after authentication (onRequest) and validation, so params and body are parsed.
  app.addHook('preHandler', async (request) => {
    const { auth, audit } = request.routeOptions.config;
    if (!auth?.startsWith('staff:') || !audit || audit === 'service' || !request.actor) return;
    const reason = audit.requiresReason ? requireReason(request) : null;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const body = request.method === 'GET' || request.body === undefined || request.body === null ? undefined : request.body;
    await deps.audit.record({
      actorId: request.actor.userId,
      actorIp: request.ip,
      action: audit.action,
      targetType: audit.targetType ?? null,
      targetId: typeof params.id === 'string' ? params.id : null,
      reason,
      details: { route: `${request.method} ${request.routeOptions.url ?? ''}`, ...queryWithoutReason(request), ...(body === undefined ? {} : { body }) },
    });
  });
}

/** The reason for reading a user's content: header `x-access-reason`, or query `reason` (for image URLs). */
function requireReason(request: FastifyRequest): string {
  const header = request.headers['x-access-reason'];
  const query = (request.query as Record<string, unknown> | undefined)?.reason;
  const raw = typeof header === 'string' ? header : typeof query === 'string' ? query : '';
  const parsed = accessReasonSchema.safeParse(raw);
  if (!parsed.success) {
    const message = `Viewing a user's content requires a stated reason of at least ${ACCESS_REASON_MIN} characters (header "x-access-reason" or query "reason"); it is written to the audit log.`;
    throw new AppError('validation_failed', message, { fields: [{ path: 'reason', message: parsed.error.issues[0]?.message ?? message }] });
  }
  return parsed.data;
}

function queryWithoutReason(request: FastifyRequest): { query?: Record<string, unknown> } {
  const query = { ...((request.query as Record<string, unknown> | undefined) ?? {}) };
  delete query.reason;
  return Object.keys(query).length ? { query } : {};
}
