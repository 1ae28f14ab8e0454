import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditPageSchema, grantStaffRoleSchema, idParamSchema, listAuditQuerySchema, staffGenerationSchema, staffListSchema, staffRoleSchema, staffUserSchema } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import { notFound } from '#src/lib/errors.ts';
import type { AccountSummaries } from '#src/modules/accounts/account-summary.ts';
import type { StaffService } from '#src/modules/accounts/staff.ts';
import type { AuditLog } from '#src/modules/audit/audit.service.ts';
import type { GenerationsRepository } from '#src/modules/generations/generations.repository.ts';
import type { MediaService } from '#src/modules/media/media.service.ts';

/**
 * Staff management, the audit log, account lookups and (with a stated reason) user content. Every route
 * is audited before it runs (http/staff-audit.ts); role changes are audited by the staff service inside
 * their transaction.
 */
export function registerStaffConsoleRoutes(
  app: FastifyInstance,
  deps: { staff: StaffService; audit: AuditLog; accounts: AccountSummaries; generations: Pick<GenerationsRepository, 'systemGet'>; media: Pick<MediaService, 'listForGenerations' | 'systemOwnerOf' | 'read'> },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/admin/staff', { config: { auth: 'staff:staff.read', audit: { action: 'staff.listed' } }, schema: { response: { 200: staffListSchema } } }, async () => ({ data: await deps.staff.list() }));

  r.post('/api/admin/staff', { config: { auth: 'staff:staff.manage', audit: 'service' }, schema: { body: grantStaffRoleSchema, response: { 204: z.null() } } }, async (request, reply) => {
    await deps.staff.grant({ email: request.body.email, role: request.body.role, by: requireActor(request.actor).userId, ip: request.ip });
    return reply.status(204).send(null);
  });

  r.delete(
    '/api/admin/staff/:id/roles/:role',
    { config: { auth: 'staff:staff.manage', audit: 'service' }, schema: { params: z.object({ id: z.string().max(64), role: staffRoleSchema }), response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.staff.revoke({ userId: request.params.id, role: request.params.role, by: requireActor(request.actor).userId, ip: request.ip });
      return reply.status(204).send(null);
    },
  );

  // Reading the audit log is itself audited (the hook writes that event first).
  r.get('/api/admin/audit', { config: { auth: 'staff:audit.read', audit: { action: 'audit.viewed' } }, schema: { querystring: listAuditQuerySchema, response: { 200: auditPageSchema } } }, async (request) =>
    deps.audit.list(request.query),
  );

  r.get('/api/admin/users/:id', { config: { auth: 'staff:users.read', audit: { action: 'user.viewed', targetType: 'user' } }, schema: { params: z.object({ id: z.string().max(64) }), response: { 200: staffUserSchema } } }, async (request) =>
    deps.accounts.systemSummary(request.params.id),
  );

  r.get(
    '/api/admin/generations/:id',
    { config: { auth: 'staff:content.read', audit: { action: 'content.generation_viewed', targetType: 'generation', requiresReason: true } }, schema: { params: idParamSchema, response: { 200: staffGenerationSchema } } },
    async (request) => {
      const g = await deps.generations.systemGet(request.params.id);
      if (!g) throw notFound('Generation');
      const images = await deps.media.listForGenerations([g.id]);
      return {
        id: g.id,
        user_id: g.user_id,
        model: g.model_id,
        status: g.status,
        prompt: g.prompt,
        created_at: g.created_at.toISOString(),
        images: images.map((i) => ({ id: i.id, width: i.width, height: i.height, format: i.format, bytes: i.bytes, url: `/api/admin/images/${i.id}` })),
      };
    },
  );

  r.get(
    '/api/admin/images/:id',
    { config: { auth: 'staff:content.read', audit: { action: 'content.image_viewed', targetType: 'image', requiresReason: true } }, schema: { params: idParamSchema } },
    async (request, reply) => {
      const owner = await deps.media.systemOwnerOf(request.params.id);
      if (!owner) throw notFound('Image');
      const file = await deps.media.read(owner, request.params.id, 'original');
      return reply
        .header('content-type', file.contentType)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('content-disposition', `inline; filename="${file.filename}"`)
        .send(file.bytes);
    },
  );
}
