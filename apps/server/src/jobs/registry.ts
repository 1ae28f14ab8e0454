import { runGenerationJob, sweepGenerationsJob } from '#src/modules/generations/generations.jobs.ts';
import { purgeObjectsJob } from '#src/modules/media/media.service.ts';
import type { JobDefinition } from './queue.ts';

/** Every job Atelier runs. Start-up fails if one of them has no handler. */
export const JOB_DEFINITIONS: readonly JobDefinition<unknown>[] = [runGenerationJob, sweepGenerationsJob, purgeObjectsJob] as JobDefinition<unknown>[];
