import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { acquireEmbeddedLock } from './db/lock.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createImaging } from './adapters/imaging/imaging.ts';
import { createLocalKms, loadMasterKey } from './adapters/kms/local-kms.ts';
import type { ImageEngine } from './adapters/providers/engine.ts';
import { createBflEngine } from './adapters/providers/bfl/bfl-engine.ts';
import { createOfflineEngine } from './adapters/providers/offline/offline-engine.ts';
import { createEncryptedStorage } from './adapters/storage/encrypted-storage.ts';
import { createLocalStorage } from './adapters/storage/local-storage.ts';
import { createEventHub } from './events/event-hub.ts';
import { createMetrics } from './http/metrics.ts';
import { createJobRunner } from './jobs/queue.ts';
import { JOB_DEFINITIONS } from './jobs/registry.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createApiKeysRepository } from './modules/accounts/api-keys.repository.ts';
import { createApiKeyService } from './modules/accounts/api-keys.service.ts';
import { createAuth, loadAuthSecret } from './modules/accounts/auth.ts';
import { createCatalogue, DEFAULT_CATALOGUE } from './modules/catalogue/catalogue.ts';
import { createGenerationRunner, type RunnerOptions } from './modules/generations/generation.runner.ts';
import { runGenerationJob, sweepGenerationsJob } from './modules/generations/generations.jobs.ts';
import { createGenerationsRepository } from './modules/generations/generations.repository.ts';
import { createGenerationService } from './modules/generations/generations.service.ts';
import { createMediaRepository } from './modules/media/media.repository.ts';
import { createMediaService, purgeObjectsJob } from './modules/media/media.service.ts';

export interface ContainerOptions {
  logger: Logger;
  clock?: Clock;
  /** Runner pacing overrides (tests, benchmarks). */
  runner?: Partial<RunnerOptions>;
}

/** The composition root: config → database → adapters → services, wired once, by hand. */
export async function createContainer(config: Config, opts: ContainerOptions) {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const releaseLock = config.database.kind === 'pglite' ? acquireEmbeddedLock(config.dataDir) : () => undefined;

  let database: Database;
  try {
    database = await openDatabase(config.database);
    const applied = await migrateToLatest(database.db);
    if (applied.length) logger.info({ applied }, 'database migrated');
  } catch (error) {
    releaseLock();
    throw error;
  }
  const { db } = database;

  const kms = createLocalKms(loadMasterKey(config.masterKey, config.secretsDir));
  const storage = createEncryptedStorage(createLocalStorage(config.filesDir), kms);
  const imaging = createImaging();

  const engines = new Map<string, ImageEngine>([['offline', createOfflineEngine()]]);
  if (config.engines.bfl) engines.set('bfl', createBflEngine(config.engines.bfl));
  const catalogue = createCatalogue(DEFAULT_CATALOGUE, new Set([...engines.keys()] as ('offline' | 'bfl')[]));

  const jobs = createJobRunner(database, JOB_DEFINITIONS, logger);
  const events = createEventHub(database, logger);
  const metrics = createMetrics();

  const auth = createAuth({ db, baseURL: config.publicUrl, secret: loadAuthSecret(config.authSecret, config.secretsDir), isHttps: config.isHttps, logger });
  const apiKeys = createApiKeyService({ repository: createApiKeysRepository(db) });
  const media = createMediaService({ repository: createMediaRepository(db), storage, imaging, jobs });
  const generationsRepository = createGenerationsRepository(db);
  const generations = createGenerationService({ db, repository: generationsRepository, catalogue, media, jobs });
  const runner = createGenerationRunner({
    db,
    repository: generationsRepository,
    engines,
    media,
    jobs,
    clock,
    logger,
    options: { deadlineSeconds: config.jobs.generationDeadlineSeconds, maxAttempts: config.jobs.engineMaxAttempts, leaseSeconds: config.jobs.leaseSeconds, ...opts.runner },
  });

  jobs.register(runGenerationJob, ({ generationId }) => runner.run(generationId));
  jobs.register(sweepGenerationsJob, async () => void (await runner.sweep()));
  jobs.register(purgeObjectsJob, ({ keys }) => media.purgeObjects(keys));

  return {
    config,
    logger,
    database,
    catalogue,
    engines,
    auth,
    apiKeys,
    media,
    generations,
    runner,
    jobs,
    events,
    metrics,
    /** Starts the queue (and workers when `work`) and the live-update listener. */
    async start({ work }: { work: boolean }) {
      await jobs.start({ work, concurrency: config.jobs.concurrency });
      await events.start();
      if (work) {
        // Take over what a dead worker left behind now rather than at the next scheduled sweep. One process
        // owns the embedded database, so there everything still marked running is orphaned.
        const isSoleOwner = database.kind === 'pglite';
        if (isSoleOwner) await generationsRepository.systemExpireLeases();
        const swept = await runner.sweep({ ignoreLeases: isSoleOwner });
        if (swept.requeued || swept.failed) logger.info({ ...swept }, 'resumed generations interrupted by the last shutdown');
      }
    },
    async stop() {
      await jobs.stop({ graceful: true, timeoutMs: 10_000 }).catch((error: unknown) => logger.error({ err: error }, 'job queue stop failed'));
      await events.stop().catch(() => undefined);
      await database.close();
      releaseLock();
    },
  };
}
export type Container = Awaited<ReturnType<typeof createContainer>>;
