import { z } from 'zod';
import { engineSchema, modelDefinitionSchema } from './models.ts';

/** Staff console contracts. */

export const routeStateSchema = z.enum(['closed', 'open', 'half-open']);

export const engineStatusSchema = z.object({
  id: engineSchema,
  label: z.string(),
  configured: z.boolean(),
  /** null when not configured or the engine has no health check. */
  reachable: z.boolean().nullable(),
  detail: z.string().nullable(),
  balance: z.number().nullable().describe("The operator's remaining balance with the engine, where it reports one (BFL credits)"),
  routes: z.array(z.object({ model: z.string(), engine_model: z.string(), circuit: routeStateSchema })),
});
export const engineStatusListSchema = z.object({ data: z.array(engineStatusSchema) });
export type EngineStatus = z.infer<typeof engineStatusSchema>;

export const catalogueAdminSchema = z.object({
  data: z.array(z.object({ definition: modelDefinitionSchema, available: z.boolean() })),
});

export const generationRoutingSchema = z.object({
  id: z.string(),
  model: z.string(),
  status: z.string(),
  route_index: z.number().int(),
  engine: engineSchema,
  engine_model: z.string(),
  engine_request_id: z.string().nullable(),
  engine_cost: z.number().nullable(),
  attempt: z.number().int(),
  route_history: z.array(z.object({ route: z.number(), engine: engineSchema, engine_model: z.string(), outcome: z.enum(['failed_over', 'retried']), reason: z.string(), at: z.string() })),
  error_code: z.string().nullable(),
  error_detail: z.string().nullable(),
  timings: z.object({
    created_at: z.string(),
    started_at: z.string().nullable(),
    submitted_at: z.string().nullable(),
    engine_finished_at: z.string().nullable(),
    completed_at: z.string().nullable(),
  }),
});
export type GenerationRouting = z.infer<typeof generationRoutingSchema>;

/** Staff roles; each grants a fixed set of permissions (apps/server/src/modules/accounts/staff.ts). */
export const STAFF_ROLES = ['owner', 'admin', 'support', 'moderator'] as const;
export const staffRoleSchema = z.enum(STAFF_ROLES);
export type StaffRole = z.infer<typeof staffRoleSchema>;

export const staffMemberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.object({ role: staffRoleSchema, granted_by: z.string().nullable(), granted_at: z.string() })),
  permissions: z.array(z.string()),
});
export const staffListSchema = z.object({ data: z.array(staffMemberSchema) });
export type StaffMember = z.infer<typeof staffMemberSchema>;
export const grantStaffRoleSchema = z.object({ email: z.string().trim().toLowerCase().email().max(320), role: staffRoleSchema }).strict();

/** A stated reason, required before staff see a user's content; it is written to the audit log. */
export const ACCESS_REASON_MIN = 10;
export const accessReasonSchema = z.string().trim().min(ACCESS_REASON_MIN, `state why you need this content (at least ${ACCESS_REASON_MIN} characters)`).max(500);

export const auditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor_id: z.string().nullable(),
  actor_ip: z.string().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;
export const auditPageSchema = z.object({ data: z.array(auditEventSchema), next_cursor: z.string().nullable() });
export const listAuditQuerySchema = z.object({
  actor: z.string().max(64).optional(),
  action: z.string().max(100).optional(),
  target: z.string().max(320).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** A generation as staff with `content.read` see it, after stating a reason. */
export const staffGenerationSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  model: z.string(),
  status: z.string(),
  prompt: z.string(),
  created_at: z.string(),
  images: z.array(z.object({ id: z.string(), width: z.number().int(), height: z.number().int(), format: z.string(), bytes: z.number().int(), url: z.string() })),
});
export type StaffGeneration = z.infer<typeof staffGenerationSchema>;

/** Account metadata for support (users.read): no prompts, no images. */
export const staffUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  email_verified: z.boolean(),
  created_at: z.string(),
  generations: z.number().int(),
  images: z.number().int(),
  api_keys: z.number().int(),
});
