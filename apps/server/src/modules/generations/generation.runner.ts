import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { FailureCode, RouteDefinition } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import { ImagingError } from '#src/adapters/imaging/imaging.ts';
import type { EngineHandleJson, GenerationRow } from '#src/db/schema.ts';
import { EngineError, type EngineHandle, type EngineId, type EngineRequest, type EngineStatus, type ImageEngine, type ReferenceImage } from '#src/adapters/providers/engine.ts';
import { publishGenerationChanged, type EventHub } from '#src/events/event-hub.ts';
import type { JobQueue } from '#src/jobs/queue.ts';
import type { Clock } from '#src/lib/clock.ts';
import type { Catalogue } from '#src/modules/catalogue/catalogue.ts';
import type { MediaService } from '#src/modules/media/media.service.ts';
import type { CreditsService } from '#src/modules/credits/credits.service.ts';
import { runGenerationJob } from './generations.jobs.ts';
import type { GenerationsRepository } from './generations.repository.ts';
import { backoffMs, takesOriginalReferences } from './generation.rules.ts';
import type { RouteBreakers } from './route-breakers.ts';

export interface RunnerOptions {
  deadlineSeconds: number;
  maxAttempts: number;
  /** How long a worker's claim lasts without a heartbeat; a dead worker's generation is taken over after it (plus half again). */
  leaseSeconds: number;
  /** Poll pacing (defaults 0.5 s → 5 s; with webhooks on, polling is only the backstop: 2 s → 15 s). */
  pollStartMs?: number;
  pollMaxMs?: number;
  /** Base of the full-jitter back-off between engine attempts (default 2 s). */
  retryBaseMs?: number;
  /** `${PUBLIC_URL}` when engines can reach us for webhooks; null to rely on polling alone. */
  webhookBaseUrl: string | null;
}

type Route = Pick<RouteDefinition, 'engine' | 'engine_model' | 'parameters'>;

/**
 * The `generation.run` job: DESIGN.md steps 3–5 over a model's routes. It takes a lease, submits once
 * on the current route (the engine's handle is persisted before waiting, so a restarted worker resumes
 * instead of paying twice), waits for a webhook or polls with capped back-off, downloads and stores the
 * result, and completes in one transaction. A retryable failure at submission (429, 5xx, network,
 * timeout, open circuit) fails over to the next route at once; after the last route it backs off and
 * starts again from the first. Moderation and validation answers are final: never failed over.
 */
export function createGenerationRunner(deps: {
  db: Db;
  repository: GenerationsRepository;
  catalogue: Catalogue;
  engines: ReadonlyMap<EngineId, ImageEngine>;
  breakers: RouteBreakers;
  media: Pick<MediaService, 'storeOutput' | 'record' | 'discard'>;
  /** The generation's held price: captured when it succeeds, released when it ends any other way. */
  credits: Pick<CreditsService, 'capture' | 'release'>;
  jobs: JobQueue;
  events: Pick<EventHub, 'sleepUnlessWoken' | 'wakeLocal'>;
  /** Loads a generation's reference images (decrypted, sized for engines unless `original`), in order. */
  loadReferences: (userId: string, generationId: string, opts?: { original?: boolean }) => Promise<ReferenceImage[]>;
  clock: Clock;
  logger: Logger;
  options: RunnerOptions;
}) {
  const { db, repository, catalogue, engines, breakers, media, jobs, events, clock, logger, options } = deps;
  /** Polling is only the backstop for engines that will call our webhook; the others are polled briskly. */
  const pacingFor = (engine: ImageEngine) => {
    const called = options.webhookBaseUrl !== null && engine.acceptsWebhooks;
    return { start: options.pollStartMs ?? (called ? 2000 : 500), max: options.pollMaxMs ?? (called ? 15_000 : 5000) };
  };
  const leaseMs = options.leaseSeconds * 1000;
  const lease = () => new Date(clock.now().getTime() + leaseMs);

  /**
   * The model's routes available here that take this many references (the same filter the service
   * applied at creation, so route_index means the same list); a generation whose model left the
   * catalogue keeps the route it had.
   */
  const routesOf = (gen: GenerationRow, referenceCount: number): Route[] => {
    const model = catalogue.get(gen.model_id);
    const routes = model?.availableRoutes.filter((r) => referenceCount <= (r.max_reference_images ?? model.max_reference_images));
    return routes?.length ? routes : [{ engine: gen.engine, engine_model: gen.engine_model, parameters: {} }];
  };
  const deadlineOf = (gen: GenerationRow) => gen.created_at.getTime() + (catalogue.get(gen.model_id)?.deadline_seconds ?? options.deadlineSeconds) * 1000;

  const finish = async (gen: GenerationRow, status: 'failed' | 'blocked', code: FailureCode, detail: string | null) => {
    await db.transaction().execute(async (trx) => {
      const row = await repository.systemFinish(trx, gen.id, status, code, detail);
      if (row) {
        // The user is never charged for nothing: the hold goes back in the same transaction.
        await deps.credits.release(trx, gen.id, status);
        await publishGenerationChanged(trx, { generationId: gen.id, userId: gen.user_id });
      }
    });
    logger.info({ generationId: gen.id, status, code, engine: gen.engine }, 'generation ended');
  };

  const claim = (id: string) =>
    db.transaction().execute(async (trx) => {
      const row = await repository.systemClaim(trx, id, lease());
      if (row) await publishGenerationChanged(trx, { generationId: id, userId: row.user_id });
      return row;
    });

  const toRequest = (gen: GenerationRow, route: Route, webhookUrl: string | null, references: readonly ReferenceImage[]): EngineRequest => ({
    engineModel: route.engine_model,
    prompt: gen.prompt,
    width: gen.width,
    height: gen.height,
    seed: gen.seed,
    outputFormat: gen.output_format,
    references,
    parameters: route.parameters,
    idempotencyKey: `generation:${gen.id}`,
    webhookUrl,
  });

  /** A fresh unguessable token per submission; only its hash is stored, and the webhook route checks it. */
  const newWebhookUrl = async (gen: GenerationRow, engine: ImageEngine): Promise<string | null> => {
    if (!options.webhookBaseUrl || !engine.acceptsWebhooks) return null;
    const token = crypto.randomBytes(32).toString('base64url');
    await repository.systemSetWebhookTokenHash(gen.id, hashWebhookToken(token));
    return `${options.webhookBaseUrl}/api/webhooks/engines/${engine.id}/${gen.id}/${token}`;
  };

  /** Waits for a terminal engine status; undefined when the user canceled meanwhile. */
  const waitForEngine = async (gen: GenerationRow, engine: ImageEngine, handle: EngineHandle, request: EngineRequest): Promise<EngineStatus | undefined> => {
    // Engines that push updates (ComfyUI's WebSocket) end the sleep themselves.
    const unwatch = engine.watch?.(handle, () => events.wakeLocal(gen.id));
    try {
      return await pollUntilSettled(gen, engine, handle, request);
    } finally {
      unwatch?.();
    }
  };

  const pollUntilSettled = async (gen: GenerationRow, engine: ImageEngine, handle: EngineHandle, request: EngineRequest): Promise<EngineStatus | undefined> => {
    const deadline = deadlineOf(gen);
    const pacing = pacingFor(engine);
    let delay = pacing.start;
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
        // Canceled or deleted: tell the engine, best effort.
        await engine.cancel(handle).catch((error: unknown) => logger.warn({ err: error, generationId: gen.id }, 'engine cancel failed'));
        return undefined;
      }
      if (clock.now().getTime() > deadline) {
        await engine.cancel(handle).catch(() => undefined);
        return { state: 'failed', code: 'timed_out', detail: 'no result before the deadline', retryable: false };
      }
      // A webhook for this generation (on any API node), a cancel, or an engine push ends the sleep early.
      await events.sleepUnlessWoken(gen.id, Math.min(delay, Math.max(0, deadline - clock.now().getTime())));
      delay = Math.min(pacing.max, Math.round(delay * 1.5));
    }
  };

  const complete = async (gen: GenerationRow, engine: ImageEngine, status: Extract<EngineStatus, { state: 'ready' }>) => {
    await repository.systemMarkEngineFinished(gen.id);
    const bytes = await engine.fetchResult(status.result);
    const image = await media
      .storeOutput({
      userId: gen.user_id,
      generationId: gen.id,
      bytes,
      format: gen.output_format,
      provenance: { engineLabel: engine.label, modelId: gen.model_id, isPreviewEngine: engine.id === 'offline' && gen.workflow !== 'upscale' },
      })
      .catch((error: unknown) => {
        // Bytes that are not a decodable PNG/JPEG/WebP are the engine's fault, and final.
        if (error instanceof ImagingError) throw new EngineError('invalid_output', `the engine's result is not a usable image: ${error.message}`, { retryable: false, cause: error });
        throw error;
      });
    const done = await db.transaction().execute(async (trx) => {
      const row = await repository.systemSucceed(trx, gen.id, status.result.seed);
      if (!row) return false;
      await media.record(trx, image);
      await deps.credits.capture(trx, gen.id);
      await publishGenerationChanged(trx, { generationId: gen.id, userId: gen.user_id });
      return true;
    });
    if (!done) await media.discard(image); // canceled or deleted while we were storing
    logger.info({ generationId: gen.id, kept: done, engine: engine.id }, 'generation output stored');
  };

  /** Hands the generation back with a delay (Retry-After or back-off), staying on `routeIndex`. */
  const retryLater = async (gen: GenerationRow, error: EngineError, routeIndex: number, routes: Route[]) => {
    if (gen.attempt >= options.maxAttempts) return finish(gen, 'failed', error.code, `${error.message} (gave up after ${gen.attempt} attempts)`);
    const delay = Math.max(error.retryAfterMs ?? 0, backoffMs(gen.attempt, Math.random, options.retryBaseMs));
    const retryAt = new Date(clock.now().getTime() + delay);
    const route = routes[routeIndex]!;
    const keepsHandle = routeIndex === gen.route_index && gen.engine_handle !== null;
    const ok = keepsHandle
      ? await repository.systemScheduleRetry(gen.id, retryAt, error.message)
      : await repository.systemSwitchRoute(gen.id, { index: routeIndex, engine: route.engine, engineModel: route.engine_model, leaseUntil: retryAt, attempt: attemptRecord(gen, 'retried', error.message) });
    if (!ok) return;
    // Just after the lease ends, so the claim sees it expired.
    await jobs.enqueue(runGenerationJob, { generationId: gen.id }, { startAfterMs: delay + 250 });
    logger.warn({ generationId: gen.id, attempt: gen.attempt, delayMs: delay, code: error.code, engine: route.engine }, 'engine error; retrying later');
  };

  /** After a failed submission: the next route whose circuit is not open, at once; after the last, back off to the first. */
  const failOver = async (gen: GenerationRow, routes: Route[], error: EngineError) => {
    if (gen.attempt >= options.maxAttempts) return finish(gen, 'failed', error.code, `${error.message} (gave up after ${gen.attempt} attempts)`);
    const next = routes.findIndex((route, i) => i > gen.route_index && breakers.state(route) !== 'open');
    if (next === -1) {
      const first = routes.findIndex((route) => breakers.state(route) !== 'open');
      return retryLater({ ...gen, engine_handle: null }, error, first === -1 ? 0 : first, routes);
    }
    const route = routes[next]!;
    const moved = await repository.systemSwitchRoute(gen.id, {
      index: next,
      engine: route.engine,
      engineModel: route.engine_model,
      leaseUntil: clock.now(),
      attempt: attemptRecord(gen, 'failed_over', error.message),
    });
    if (!moved) return;
    await jobs.enqueue(runGenerationJob, { generationId: gen.id });
    logger.warn({ generationId: gen.id, from: gen.engine, to: route.engine, reason: error.message }, 'failing over to the next route');
  };

  const submit = async (gen: GenerationRow, route: Route, engine: ImageEngine, references: readonly ReferenceImage[]): Promise<{ handle: EngineHandle; request: EngineRequest; immediate?: EngineStatus } | undefined> => {
    const request = toRequest(gen, route, await newWebhookUrl(gen, engine), references);
    // Synchronous engines (OpenAI-compatible, Replicate's Prefer: wait) can hold the call for minutes.
    const renewal = setInterval(() => void repository.systemRenewLease(gen.id, lease()).catch(() => undefined), leaseMs / 3);
    const submitted = await breakers.execute(route, () => engine.submit(request)).finally(() => clearInterval(renewal));
    const handle: EngineHandleJson = { requestId: submitted.requestId, pollingUrl: submitted.pollingUrl, ...(submitted.extra ? { extra: { ...submitted.extra } } : {}) };
    if (!(await repository.systemSaveSubmission(gen.id, { handle, cost: submitted.cost }))) {
      await engine.cancel(submitted).catch(() => undefined); // canceled or deleted while submitting
      return undefined;
    }
    return { handle, request, ...(submitted.status ? { immediate: submitted.status } : {}) };
  };

  return {
    async run(generationId: string): Promise<void> {
      const gen = await claim(generationId);
      if (!gen) return; // finished, canceled, deleted, or another worker holds the lease
      // References are reloaded on every attempt (stateless engines such as the offline one render from them).
      let references: ReferenceImage[];
      try {
        references = await deps.loadReferences(gen.user_id, gen.id, { original: takesOriginalReferences(catalogue.get(gen.model_id)) });
      } catch (error) {
        if (error instanceof EngineError && !error.retryable) return finish(gen, 'failed', error.code, error.message);
        throw error;
      }
      const routes = routesOf(gen, references.length);
      const route = routes[gen.route_index] ?? routes[0]!;
      const engine = engines.get(route.engine);
      if (!engine) return finish(gen, 'failed', 'engine_unavailable', `engine "${route.engine}" is not configured on this server`);
      if (clock.now().getTime() > deadlineOf(gen)) return finish(gen, 'failed', 'timed_out', 'past its deadline before it could run');

      let phase: 'submit' | 'wait' = 'submit';
      try {
        let handle: EngineHandle;
        let request: EngineRequest;
        let status: EngineStatus | undefined;
        if (gen.engine_handle) {
          handle = gen.engine_handle;
          request = toRequest(gen, route, null, references);
        } else {
          const submitted = await submit(gen, route, engine, references);
          if (!submitted) return;
          ({ handle, request } = submitted);
          status = submitted.immediate;
        }
        phase = 'wait';
        status ??= await waitForEngine(gen, engine, handle, request);
        if (!status) return;
        switch (status.state) {
          case 'ready':
            return await complete(gen, engine, status);
          case 'moderated':
            return await finish(gen, 'blocked', status.stage === 'request' ? 'request_moderated' : 'content_moderated', status.detail);
          case 'failed':
            // The engine gave up on this request but says another try may work: submit again, on the next route.
            if (status.retryable) return await failOver({ ...gen, engine_handle: null }, routes, new EngineError(status.code, status.detail, { retryable: true }));
            return await finish(gen, 'failed', status.code, status.detail);
          default:
            return await finish(gen, 'failed', 'engine_error', 'unexpected engine status');
        }
      } catch (error) {
        if (error instanceof EngineError) {
          if (!error.retryable) return await finish(gen, 'failed', error.code, error.message);
          // Before the engine accepted the request, another route can take it; after, keep waiting on this one.
          if (phase === 'submit') return await failOver(gen, routes, error);
          return await retryLater(gen, error, gen.route_index, routes);
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
        const gen = await repository.systemGet(orphan.id);
        if (!gen) continue;
        const pastDeadline = now > deadlineOf(gen);
        if (pastDeadline || gen.attempt >= options.maxAttempts) {
          await finish(gen, 'failed', pastDeadline ? 'timed_out' : 'interrupted', 'found unfinished by the sweeper');
          failed++;
        } else {
          await jobs.enqueue(runGenerationJob, { generationId: gen.id });
          requeued++;
        }
      }
      if (requeued || failed) logger.info({ requeued, failed }, 'generation sweep');
      return { requeued, failed };
    },
  };
}

export const hashWebhookToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

function attemptRecord(gen: GenerationRow, outcome: 'failed_over' | 'retried', reason: string) {
  return { route: gen.route_index, engine: gen.engine, engine_model: gen.engine_model, outcome, reason, at: new Date().toISOString() };
}
