import { z } from 'zod';
import { defineJob } from '#src/jobs/queue.ts';

/** Every minute: expire lapsed credits and settle holds left open past their generation's deadline (LED-7, LED-8). */
export const sweepCreditsJob = defineJob({
  name: 'credits.sweep',
  payload: z.object({}).passthrough(),
  queue: { retryLimit: 0, retryDelay: 0, retryBackoff: false, expireInSeconds: 300 },
  cron: '* * * * *',
  concurrency: 1,
  duePollSeconds: 30,
});

/** Nightly: check the books (LED-9). */
export const reconcileLedgerJob = defineJob({
  name: 'credits.reconcile',
  payload: z.object({}).passthrough(),
  queue: { retryLimit: 2, retryDelay: 60, retryBackoff: true, expireInSeconds: 3600 },
  cron: '17 3 * * *',
  concurrency: 1,
  duePollSeconds: 60,
});
