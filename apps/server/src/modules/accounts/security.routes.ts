import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { reauthenticatedSchema, reauthenticateSchema, securityStatusSchema, sessionListSchema } from '@atelier/contracts';
import { requireActor, type Actor } from '#src/http/context.ts';
import type { SecurityService } from './security.service.ts';

const sessionActor = (actor: Actor | null) => {
  const a = requireActor(actor);
  if (a.kind !== 'user') throw new Error('security routes are for cookie sessions');
  return a;
};

/** Two-factor status, re-authentication and the user's sessions (2FA itself is better-auth's /api/auth/two-factor/*). */
export function registerSecurityRoutes(app: FastifyInstance, deps: { security: SecurityService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/me/security', { config: { auth: 'user' }, schema: { response: { 200: securityStatusSchema } } }, async (request) => deps.security.status(sessionActor(request.actor).userId));

  r.post('/api/me/reauthenticate', { config: { auth: 'user' }, schema: { body: reauthenticateSchema, response: { 200: reauthenticatedSchema } } }, async (request) => {
    const actor = sessionActor(request.actor);
    const until = await deps.security.reauthenticate(actor.userId, actor.sessionId, request.body, request.ip);
    return { reauthenticated_until: until.toISOString() };
  });

  r.get('/api/me/sessions', { config: { auth: 'user' }, schema: { response: { 200: sessionListSchema } } }, async (request) => {
    const actor = sessionActor(request.actor);
    return { data: await deps.security.listSessions(actor.userId, actor.sessionId) };
  });

  r.post('/api/me/sessions/revoke-others', { config: { auth: 'user' }, schema: { response: { 200: z.object({ revoked: z.number().int() }) } } }, async (request) => {
    const actor = sessionActor(request.actor);
    return { revoked: await deps.security.revokeOtherSessions(actor.userId, actor.sessionId) };
  });

  r.delete('/api/me/sessions/:id', { config: { auth: 'user' }, schema: { params: z.object({ id: z.string().min(1).max(200) }), response: { 204: z.null() } } }, async (request, reply) => {
    await deps.security.revokeSession(sessionActor(request.actor).userId, request.params.id);
    return reply.status(204).send(null);
  });
}
