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
