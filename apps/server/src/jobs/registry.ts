import { runGenerationJob, sweepGenerationsJob } from '#src/modules/generations/generations.jobs.ts';
import { purgeObjectsJob } from '#src/modules/media/media.service.ts';
import { reconcileLedgerJob, sweepCreditsJob } from '#src/modules/credits/credits.jobs.ts';
import { processStripeEventJob, reconcileBillingJob } from '#src/modules/billing/billing.jobs.ts';
import type { JobDefinition } from './queue.ts';

/** Every job Atelier runs. Start-up fails if one of them has no handler. */
export const JOB_DEFINITIONS: readonly JobDefinition<unknown>[] = [
  runGenerationJob,
  sweepGenerationsJob,
  purgeObjectsJob,
  sweepCreditsJob,
  reconcileLedgerJob,
  processStripeEventJob,
  reconcileBillingJob,
] as JobDefinition<unknown>[];
