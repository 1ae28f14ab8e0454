import { z } from 'zod';
import { defineJob } from '#src/jobs/queue.ts';

export const runGenerationJob = defineJob({
  name: 'generation.run',
  payload: z.object({ generationId: z.uuid() }),
  // Engine errors are retried by the handler itself (it honours Retry-After); these retries cover crashes.
  queue: { retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: 3600, heartbeatSeconds: 30 },
  concurrency: 'config',
  // Engine retries are delayed jobs: a due retry starts within this many seconds.
  duePollSeconds: 2,
});

export const sweepGenerationsJob = defineJob({
  name: 'generation.sweep',
  payload: z.object({}).passthrough(),
  queue: { retryLimit: 0, retryDelay: 0, retryBackoff: false, expireInSeconds: 120 },
  cron: '* * * * *',
  concurrency: 1,
  duePollSeconds: 30,
});
