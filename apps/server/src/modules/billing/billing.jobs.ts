import { z } from 'zod';
import { defineJob } from '#src/jobs/queue.ts';

/** Applies one stored Stripe event (PAY-2): retried with back-off while Stripe or the database is unavailable. */
export const processStripeEventJob = defineJob({
  name: 'billing.stripe-event',
  payload: z.object({ eventId: z.string().min(1).max(255) }),
  queue: { retryLimit: 8, retryDelay: 10, retryBackoff: true, expireInSeconds: 300 },
  concurrency: 4,
  duePollSeconds: 10,
});

/** Daily: replay undelivered Stripe events of the last 30 days and requeue stuck ones (PAY-4). */
export const reconcileBillingJob = defineJob({
  name: 'billing.reconcile',
  payload: z.object({}).passthrough(),
  queue: { retryLimit: 2, retryDelay: 300, retryBackoff: true, expireInSeconds: 3600 },
  cron: '41 3 * * *',
  concurrency: 1,
  duePollSeconds: 60,
});
