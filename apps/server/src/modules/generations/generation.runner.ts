import type { Logger } from 'pino';
import type { FailureCode } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { GenerationRow } from '#src/db/schema.ts';
import { EngineError, type EngineHandle, type EngineRequest, type EngineStatus, type ImageEngine } from '#src/adapters/providers/engine.ts';
import { publishGenerationChanged } from '#src/events/event-hub.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import type { Clock } from '#src/lib/clock.ts';
import type { MediaService } from '#src/modules/media/media.service.ts';
import { runGenerationJob } from './generations.jobs.ts';
import type { GenerationsRepository } from './generations.repository.ts';
import { backoffMs } from './generation.rules.ts';

const POLL_START_MS = 500;
const POLL_MAX_MS = 5_000;

export interface RunnerOptions {
  deadlineSeconds: number;
  maxAttempts: number;
  /** How long a worker's claim lasts without a heartbeat; a dead worker's generation is taken over after it (plus half again). */
  leaseSeconds: number;
  /** Poll pacing; tests and benchmarks may tighten it. */
  pollStartMs?: number;
  pollMaxMs?: number;
  /** Base of the full-jitter back-off between engine attempts (default 2 s). */
  retryBaseMs?: number;
}

/**
 * The `generation.run` job: DESIGN.md steps 3–5. Takes a lease, submits once (the engine's request id
 * is persisted before waiting, so a restarted worker resumes polling instead of paying twice), polls
 * with capped back-off, downloads and stores the result, and completes in one transaction. Engine
 * errors that may pass (429, 5xx, network) are retried by re-enqueueing with back-off; moderation and
 * validation answers are final.
 */
export function createGenerationRunner(deps: {
  db: Db;
  repository: GenerationsRepository;
  engines: ReadonlyMap<string, ImageEngine>;
  media: Pick<MediaService, 'storeOutput' | 'record' | 'discard'>;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  options: RunnerOptions;
}) {
  const { db, repository, engines, media, jobs, clock, logger, options } = deps;
  const pollStart = options.pollStartMs ?? POLL_START_MS;
  const pollMax = options.pollMaxMs ?? POLL_MAX_MS;
  const leaseMs = options.leaseSeconds * 1000;
  const lease = () => new Date(clock.now().getTime() + leaseMs);

  const finish = async (gen: GenerationRow, status: 'failed' | 'blocked', code: FailureCode, detail: string | null) => {
    await db.transaction().execute(async (trx) => {
      // Credits seam: release the hold here (issue 6). The user is never charged for nothing.
      const row = await repository.systemFinish(trx, gen.id, status, code, detail);
      if (row) await publishGenerationChanged(trx, { generationId: gen.id, userId: gen.user_id });
    });
    logger.info({ generationId: gen.id, status, code }, 'generation ended');
  };

  const claim = async (id: string) =>
    db.transaction().execute(async (trx) => {
      const row = await repository.systemClaim(trx, id, lease());
      if (row) await publishGenerationChanged(trx, { generationId: id, userId: row.user_id });
      return row;
    });

  const toRequest = (gen: GenerationRow): EngineRequest => ({
    engineModel: gen.engine_model,
    prompt: gen.prompt,
    width: gen.width,
    height: gen.height,
    seed: gen.seed,
    outputFormat: gen.output_format,
    idempotencyKey: `generation:${gen.id}`,
    references: [],
    parameters: {},
    webhookUrl: null,
  });

  /** Waits for a terminal engine status; undefined when the user canceled meanwhile. */
  const waitForEngine = async (gen: GenerationRow, engine: ImageEngine, handle: EngineHandle, request: EngineRequest): Promise<EngineStatus | undefined> => {
    const deadline = gen.created_at.getTime() + options.deadlineSeconds * 1000;
    let delay = pollStart;
    let lastProgress: number | null = gen.progress;
    for (;;) {
      const status = await engine.poll(handle, request);
      if (status.state !== 'pending') return status;
      const progress = status.progress;
      const progressed = progress !== null && (lastProgress === null || progress - lastProgress >= 0.05);
      const current = await db.transaction().execute(async (trx) => {
        const s = await repository.systemHeartbeat(trx, gen.id, progressed ? progress : lastProgress, lease());
        if (s === 'running' && progressed) await publishGenerationChanged(trx, { generationId: gen.id, userId: gen.user_id });
        return s;
      });
      if (progressed) lastProgress = progress;
      if (current !== 'running') {
        await engine.cancel(handle).catch((error: unknown) => logger.warn({ err: error, generationId: gen.id }, 'engine cancel failed'));
        return undefined;
      }
      if (clock.now().getTime() > deadline) return { state: 'failed', code: 'timed_out', detail: `no result within ${options.deadlineSeconds}s`, retryable: false };
      await sleep(delay);
      delay = Math.min(pollMax, Math.round(delay * 1.5));
    }
  };

  const complete = async (gen: GenerationRow, engine: ImageEngine, status: Extract<EngineStatus, { state: 'ready' }>) => {
    const bytes = await engine.fetchResult(status.result);
    const image = await media.storeOutput({
      userId: gen.user_id,
      generationId: gen.id,
      bytes,
      format: gen.output_format,
      provenance: { engineLabel: engine.label, modelId: gen.model_id, isPreviewEngine: engine.id === 'offline' },
    });
    const done = await db.transaction().execute(async (trx) => {
      const row = await repository.systemSucceed(trx, gen.id, status.result.seed);
      if (!row) return false;
      await media.record(trx, image);
      // Credits seam: capture the hold here (issue 6).
      await publishGenerationChanged(trx, { generationId: gen.id, userId: gen.user_id });
      return true;
    });
    if (!done) await media.discard(image); // canceled or deleted while we were storing
    logger.info({ generationId: gen.id, kept: done }, 'generation output stored');
  };

  const retryLater = async (gen: GenerationRow, error: EngineError) => {
    if (gen.attempt >= options.maxAttempts) {
      return finish(gen, 'failed', error.code, `${error.message} (gave up after ${gen.attempt} attempts)`);
    }
    const delay = Math.max(error.retryAfterMs ?? 0, backoffMs(gen.attempt, Math.random, options.retryBaseMs));
    const retryAt = new Date(clock.now().getTime() + delay);
    if (await repository.systemScheduleRetry(gen.id, retryAt, error.message)) {
      // Just after the lease ends, so the claim sees it expired.
      await jobs.enqueue(runGenerationJob, { generationId: gen.id }, { startAfterMs: delay + 250 });
      logger.warn({ generationId: gen.id, attempt: gen.attempt, delayMs: delay, code: error.code }, 'engine error; retrying later');
    }
  };

  return {
    async run(generationId: string): Promise<void> {
      const gen = await claim(generationId);
      if (!gen) return; // finished, canceled, deleted, or another worker holds the lease
      const engine = engines.get(gen.engine);
      if (!engine) return finish(gen, 'failed', 'engine_unavailable', `engine "${gen.engine}" is not configured on this server`);
      const request = toRequest(gen);
      try {
        let handle: EngineHandle;
        if (gen.engine_request_id) {
          handle = { requestId: gen.engine_request_id, pollingUrl: gen.engine_polling_url };
        } else {
          const submitted = await engine.submit(request);
          if (!(await repository.systemSaveSubmission(gen.id, submitted))) {
            await engine.cancel(submitted).catch(() => undefined);
            return;
          }
          handle = submitted;
        }
        const status = await waitForEngine(gen, engine, handle, request);
        if (!status) return;
        switch (status.state) {
          case 'ready':
            return await complete(gen, engine, status);
          case 'moderated':
            return await finish(gen, 'blocked', status.stage === 'request' ? 'request_moderated' : 'content_moderated', status.detail);
          case 'failed':
            if (status.retryable) return await retryLater(gen, new EngineError(status.code, status.detail, { retryable: true }));
            return await finish(gen, 'failed', status.code, status.detail);
          default:
            return await finish(gen, 'failed', 'engine_error', 'unexpected engine status');
        }
      } catch (error) {
        if (error instanceof EngineError) {
          if (error.retryable) return await retryLater(gen, error);
          return await finish(gen, 'failed', error.code, error.message);
        }
        // Unknown errors (a bug, the database): hand the lease back and let the job layer retry.
        await repository.systemScheduleRetry(gen.id, clock.now(), 'unexpected error').catch(() => undefined);
        throw error;
      }
    },

    /**
     * Finds unfinished generations nobody is working on and puts them back on the queue, or fails
     * them once they are past their deadline or out of attempts. Runs every minute, and at start-up.
     */
    async sweep(opts: { ignoreLeases?: boolean } = {}): Promise<{ requeued: number; failed: number }> {
      const now = clock.now().getTime();
      const orphans = await repository.systemListOrphans({ queuedBefore: new Date(now - 60_000), leaseGraceMs: leaseMs / 2, limit: 500, ...opts });
      let requeued = 0;
      let failed = 0;
      for (const orphan of orphans) {
        const pastDeadline = now > orphan.created_at.getTime() + options.deadlineSeconds * 1000;
        if (pastDeadline || orphan.attempt >= options.maxAttempts) {
          const gen = await repository.systemGet(orphan.id);
          if (gen) await finish(gen, 'failed', pastDeadline ? 'timed_out' : 'interrupted', 'found unfinished by the sweeper');
          failed++;
        } else {
          await jobs.enqueue(runGenerationJob, { generationId: orphan.id });
          requeued++;
        }
      }
      if (requeued || failed) logger.info({ requeued, failed }, 'generation sweep');
      return { requeued, failed };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
