import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { billingOverviewSchema, checkoutRequestSchema, paymentListSchema, redirectResponseSchema } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import { velocityLimits } from '#src/http/velocity.ts';
import type { BillingService } from './billing.service.ts';

/** Buying credits and plans (Stripe Checkout), managing them (Customer Portal), receipts, and Stripe's webhook. */
export async function registerBillingRoutes(
  app: FastifyInstance,
  deps: { billing: BillingService; profileOf: (userId: string) => Promise<{ id: string; email: string; name: string }>; checkoutsPerHour: number },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/billing', { config: { auth: 'user' }, schema: { response: { 200: billingOverviewSchema } } }, async (request) => deps.billing.overview(requireActor(request.actor).userId));

  const checkoutLimits = velocityLimits(app, [
    { what: 'checkouts', max: deps.checkoutsPerHour, windowSeconds: 3600, per: 'account', howToRaise: 'finish or cancel the checkout you already opened' },
    { what: 'checkouts', max: deps.checkoutsPerHour * 3, windowSeconds: 3600, per: 'ip', howToRaise: '' },
  ]);
  r.post(
    '/api/billing/checkout',
    {
      config: { auth: 'user' },
      preHandler: checkoutLimits,
      schema: { headers: z.object({ 'idempotency-key': z.string().optional() }).passthrough(), body: checkoutRequestSchema, response: { 200: redirectResponseSchema } },
    },
    async (request) => {
      const { userId } = requireActor(request.actor);
      return deps.billing.checkout(await deps.profileOf(userId), request.body, request.headers['idempotency-key']);
    },
  );

  r.post('/api/billing/portal', { config: { auth: 'user' }, schema: { response: { 200: redirectResponseSchema } } }, async (request) => deps.billing.portal(requireActor(request.actor).userId));

  r.get('/api/billing/payments', { config: { auth: 'user' }, schema: { response: { 200: paymentListSchema } } }, async (request) => ({ data: await deps.billing.payments(requireActor(request.actor).userId) }));

  // Stripe's webhook: the signature covers the exact bytes, so this route keeps the raw body (PAY-1).
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/billing/stripe/webhook',
      { config: { auth: 'public' }, schema: { response: { 200: z.object({ received: z.literal(true), duplicate: z.boolean() }) } } },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = request.headers['stripe-signature'];
        const { duplicate } = await deps.billing.receiveWebhook(body, typeof signature === 'string' ? signature : undefined);
        return { received: true as const, duplicate };
      },
    );
  });
}
