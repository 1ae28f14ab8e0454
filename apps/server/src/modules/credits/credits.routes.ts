import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { accountSchema, creditBalanceSchema, creditTransactionListSchema, listCreditTransactionsQuerySchema, reconciliationSchema, staffCreditAdjustmentSchema, type ListCreditTransactionsQuery } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import type { CreditAdjustments } from './credits.admin.ts';
import { presentTransaction } from './credits.presenter.ts';
import type { CreditsService } from './credits.service.ts';
import type { BillingService } from '#src/modules/billing/billing.service.ts';
import { decodeCursor, encodeCursor } from '#src/lib/cursor.ts';


/** One page of a user's credit movements, newest first. */
async function pageOfTransactions(credits: CreditsService, userId: string, query: ListCreditTransactionsQuery) {
  const rows = await credits.listTransactions(userId, { beforeId: query.cursor ? decodeCursor(query.cursor) : null, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  return { data: page.map(presentTransaction), next_cursor: rows.length > query.limit ? encodeCursor(page.at(-1)!.id) : null };
}

/** The account with its credits and plan, and the history of every credit movement — for the studio (/api) and the API (/v1). */
export function registerCreditRoutes(app: FastifyInstance, deps: { credits: CreditsService; billing: Pick<BillingService, 'planSummary' | 'paymentsEnabled'>; profileOf: (userId: string) => Promise<{ id: string; email: string; name: string }>; surface: ApiSurface }) {
  const { prefix, auth, tags } = deps.surface;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    `${prefix}/account`,
    { config: { auth, scope: 'read' }, schema: { tags, summary: 'Your account, credits and plan', response: { 200: accountSchema } } },
    async (request) => {
      const { userId } = requireActor(request.actor);
      const [profile, credits, plan] = await Promise.all([deps.profileOf(userId), deps.credits.balance(userId), deps.billing.planSummary(userId)]);
      return { ...profile, credits, plan, payments_enabled: deps.billing.paymentsEnabled };
    },
  );

  r.get(
    `${prefix}/credits/transactions`,
    {
      config: { auth, scope: 'read' },
      schema: { tags, summary: 'Credit movements, newest first', description: 'Grants, purchases, holds, charges, refunds for failed work and expiries, each with the generation or payment it belongs to. Keyset-paged with `cursor`.', querystring: listCreditTransactionsQuerySchema, response: { 200: creditTransactionListSchema } },
    },
    async (request) => {
      return pageOfTransactions(deps.credits, requireActor(request.actor).userId, request.query);
    },
  );
}

/** Staff: a user's credits, grants and claw-backs with a reason (audited), and the ledger's reconciliation status. */
export function registerCreditAdminRoutes(app: FastifyInstance, deps: { credits: CreditsService; adjustments: CreditAdjustments }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const userParams = z.object({ id: z.string().min(1).max(64) });

  r.get(
    '/api/admin/users/:id/credits',
    { config: { auth: 'staff:billing.read', audit: { action: 'credits.viewed', targetType: 'user' } }, schema: { params: userParams, querystring: listCreditTransactionsQuerySchema, response: { 200: z.object({ balance: creditBalanceSchema, transactions: creditTransactionListSchema }) } } },
    async (request) => {
      const [balance, transactions] = await Promise.all([deps.credits.peekBalance(request.params.id), pageOfTransactions(deps.credits, request.params.id, request.query)]);
      return { balance, transactions };
    },
  );

  r.post(
    '/api/admin/users/:id/credits',
    { config: { auth: 'staff:credits.adjust', audit: 'service' }, schema: { params: userParams, headers: z.object({ 'idempotency-key': z.string().min(8).max(128).optional() }).passthrough(), body: staffCreditAdjustmentSchema, response: { 200: creditBalanceSchema } } },
    async (request) => {
      const actor = requireActor(request.actor);
      const key = `staff:${actor.userId}:${request.headers['idempotency-key'] ?? crypto.randomUUID()}`;
      return deps.adjustments.adjust({ userId: request.params.id, amount: request.body.amount, reason: request.body.reason, actorId: actor.userId, actorIp: request.ip, key, expiresInDays: request.body.expires_in_days ?? null });
    },
  );

  r.get('/api/admin/credits/reconciliation', { config: { auth: 'staff:billing.read', audit: { action: 'credits.reconciliation_viewed' } }, schema: { response: { 200: reconciliationSchema.nullable() } } }, async () => {
    const row = await deps.credits.latestReconciliation();
    return row ? { id: row.id, at: row.at.toISOString(), ok: row.ok, checked_accounts: row.checked_accounts, problems: reconciliationSchema.shape.problems.parse(row.problems) } : null;
  });
}
