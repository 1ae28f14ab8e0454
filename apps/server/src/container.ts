import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { acquireEmbeddedLock } from './db/lock.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createImaging } from './adapters/imaging/imaging.ts';
import { createMailer } from './adapters/mail/mailer.ts';
import { createProfileService } from './modules/accounts/profile.service.ts';
import { createLocalKms, loadMasterKey } from './adapters/kms/local-kms.ts';
import { closeEngines, createEngines } from './adapters/providers/registry.ts';
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
import { createCatalogueRepository } from './modules/catalogue/catalogue.repository.ts';
import { createCatalogueService, loadCatalogueFile } from './modules/catalogue/catalogue.service.ts';
import { createRouteBreakers } from './modules/generations/route-breakers.ts';
import { createStaffService } from './modules/accounts/staff.ts';
import { createSessionGuard } from './modules/accounts/session-policy.ts';
import { createSignInThrottle } from './modules/accounts/sign-in-throttle.ts';
import { createSignInCaptcha } from './modules/accounts/sign-in-captcha.ts';
import { createSecurityService } from './modules/accounts/security.service.ts';
import { createAccountSummaries } from './modules/accounts/account-summary.ts';
import { createAuditRepository } from './modules/audit/audit.repository.ts';
import { createAuditLog } from './modules/audit/audit.service.ts';
import { createGenerationRunner, type RunnerOptions } from './modules/generations/generation.runner.ts';
import { runGenerationJob, sweepGenerationsJob } from './modules/generations/generations.jobs.ts';
import { createGenerationsRepository } from './modules/generations/generations.repository.ts';
import { createReferencesRepository } from './modules/generations/references.repository.ts';
import { createReferenceLoader } from './modules/generations/references.loader.ts';
import { createUploadRepository } from './modules/media/uploads.repository.ts';
import { createUploadService } from './modules/media/uploads.service.ts';
import { createKitRepository } from './modules/media/kits.repository.ts';
import { createKitService } from './modules/media/kits.service.ts';
import { createGenerationService } from './modules/generations/generations.service.ts';
import { createCollectionsRepository } from './modules/collections/collections.repository.ts';
import { createCollectionsService } from './modules/collections/collections.service.ts';
import { createZipExport } from './modules/collections/zip-export.ts';
import { createMediaRepository } from './modules/media/media.repository.ts';
import { createMediaService, purgeObjectsJob } from './modules/media/media.service.ts';
import { createCreditsRepository } from './modules/credits/credits.repository.ts';
import { createCreditsService } from './modules/credits/credits.service.ts';
import { createCreditAdjustments } from './modules/credits/credits.admin.ts';
import { reconcileLedger } from './modules/credits/credits.reconcile.ts';
import { registerLedgerMetrics } from './modules/credits/credits.metrics.ts';
import { reconcileLedgerJob, sweepCreditsJob } from './modules/credits/credits.jobs.ts';
import { createBillingRepository } from './modules/billing/billing.repository.ts';
import { createBillingService } from './modules/billing/billing.service.ts';
import { loadBillingFile } from './modules/billing/billing.catalogue.ts';
import { processStripeEventJob, reconcileBillingJob } from './modules/billing/billing.jobs.ts';
import { createStripeGateway } from './adapters/stripe/stripe-gateway.ts';
import { publishCreditsChanged } from './events/event-hub.ts';

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

  const engines = createEngines(config.engines, { logger });
  const catalogueService = createCatalogueService({
    repository: createCatalogueRepository(db),
    database,
    configuredEngines: new Set(engines.keys()),
    file: config.catalogueFile ? loadCatalogueFile(config.catalogueFile) : null,
    logger,
  });
  const catalogue = catalogueService.catalogue;
  const breakers = createRouteBreakers();

  const jobs = createJobRunner(database, JOB_DEFINITIONS, logger);
  const events = createEventHub(database, logger);
  const metrics = createMetrics();

  const mailer = createMailer({ ...config.identity.mail, outboxDir: path.join(config.dataDir, 'outbox'), logger });
  // Sign-in throttle and session timeouts (SEC-3, SEC-6); `audit` and `staff` are wired just below, before any request.
  const signInThrottle = createSignInThrottle({ db, clock, logger, audit: { record: (entry) => audit.record(entry) } });
  const sessionGuard = createSessionGuard({ db, clock, isStaff: async (userId) => (await staff.access(userId)).roles.length > 0 });
  const authSecret = loadAuthSecret(config.authSecret, config.secretsDir);
  // After 5 failures a password sign-in also needs a solved proof-of-work challenge (SEC-3); its HMAC keys derive from the auth secret.
  const signInCaptcha = createSignInCaptcha({ db, clock, authSecret, maxNumber: config.captcha.maxNumber });
  const auth = createAuth({ db, baseURL: config.publicUrl, secret: authSecret, isHttps: config.isHttps, logger, identity: config.identity, mailer, guard: sessionGuard, unlockSignIn: (email) => signInThrottle.unlock(email), audit: { record: (entry) => audit.record(entry) }, geoCountryHeader: config.geoCountryHeader,
    // Sign-up credits, once per account (`credits` is wired below, before any request).
    onUserCreated: async (userId) => {
      if (config.credits.signupCredits > 0) await credits.grant({ userId, amount: config.credits.signupCredits, kind: 'signup_grant', key: `signup:${userId}` });
    },
  });
  const profiles = createProfileService({ db, storage, imaging });
  const apiKeys = createApiKeyService({ repository: createApiKeysRepository(db), clock });
  const audit = createAuditLog({ repository: createAuditRepository(db), db });
  const staff = createStaffService({ db, audit });
  const security = createSecurityService({ db, clock, throttle: signInThrottle, secretKey: async () => (await auth.$context).secretConfig });
  const accountSummaries = createAccountSummaries(db);
  const media = createMediaService({ repository: createMediaRepository(db), storage, imaging, jobs });
  const generationsRepository = createGenerationsRepository(db);
  const uploads = createUploadService({ db, repository: createUploadRepository(db), storage, imaging, quota: config.uploads.quota, ratePerMinute: config.uploads.ratePerMinute, clock });
  const kits = createKitService({ db, repository: createKitRepository(db), clock });
  const references = createReferencesRepository(db);
  const loadReferences = createReferenceLoader({
    references,
    readUpload: (userId, id) => uploads.readUpload(userId, id),
    readImage: (userId, id) => media.readForReference(userId, id),
    fitWithin: (image, maxSide) => imaging.fitWithin(image, maxSide),
  });
  const collectionsRepository = createCollectionsRepository(db);
  const collections = createCollectionsService({ db, repository: collectionsRepository });
  const zipExport = createZipExport({ db, media, logger });
  // Credits and billing. The ledger asks billing for the monthly allowance (free tier vs plan); billing grants through the ledger.
  const creditsRepository = createCreditsRepository(db);
  const credits = createCreditsService({
    db,
    repository: creditsRepository,
    clock,
    logger,
    monthlyAllowance: (trx, userId) => billing.monthlyAllowance(trx, userId),
    publishChanged: publishCreditsChanged,
  });
  const billing = createBillingService({
    db,
    repository: createBillingRepository(db),
    catalogue: loadBillingFile(config.billing.file),
    free: config.credits.free,
    stripe: config.billing.stripe ? createStripeGateway(config.billing.stripe) : null,
    credits,
    jobs,
    audit,
    clock,
    logger,
    publicUrl: config.publicUrl,
    mailer,
    profileOf: (userId) => accountSummaries.profile(userId),
  });
  const creditAdjustments = createCreditAdjustments({ db, credits, audit, users: accountSummaries });
  registerLedgerMetrics(metrics.registry, creditsRepository);
  const profileOf = (userId: string) => accountSummaries.profile(userId);
  const holdGraceSeconds = 600; // LED-7: a hold lives for the generation's deadline plus 10 minutes
  const generations = createGenerationService({
    db,
    repository: generationsRepository,
    catalogue,
    media,
    references,
    collections: collectionsRepository,
    jobs,
    credits,
    limitsFor: (ex, userId) => billing.limitsFor(ex, userId),
    apiKeyMaxConcurrent: config.credits.apiKeyMaxConcurrent,
    holdTtlSeconds: (model) => (model.deadline_seconds ?? config.jobs.generationDeadlineSeconds) + holdGraceSeconds,
  });
  const runner = createGenerationRunner({
    db,
    repository: generationsRepository,
    catalogue,
    engines,
    breakers,
    media,
    credits,
    jobs,
    events,
    loadReferences,
    clock,
    logger,
    options: {
      deadlineSeconds: config.jobs.generationDeadlineSeconds,
      maxAttempts: config.jobs.engineMaxAttempts,
      leaseSeconds: config.jobs.leaseSeconds,
      webhookBaseUrl: config.webhookBaseUrl,
      ...opts.runner,
    },
  });

  jobs.register(runGenerationJob, ({ generationId }) => runner.run(generationId));
  jobs.register(sweepGenerationsJob, async () => void (await runner.sweep()));
  jobs.register(purgeObjectsJob, ({ keys }) => media.purgeObjects(keys));
  jobs.register(sweepCreditsJob, async () => {
    await credits.expireAll();
    await credits.sweepHolds((ids) => generationsRepository.systemStatuses(ids));
  });
  jobs.register(reconcileLedgerJob, async () => void (await reconcileLedger({ repository: creditsRepository, logger })));
  jobs.register(processStripeEventJob, ({ eventId }) => billing.processEvent(eventId));
  jobs.register(reconcileBillingJob, async () => void (await billing.reconcile()));

  return {
    config,
    logger,
    database,
    catalogue,
    catalogueService,
    engines,
    breakers,
    auth,
    mailer,
    profiles,
    apiKeys,
    audit,
    staff,
    signInThrottle,
    signInCaptcha,
    sessionGuard,
    security,
    accountSummaries,
    uploads,
    kits,
    generationsRepository,
    media,
    generations,
    credits,
    creditAdjustments,
    billing,
    profileOf,
    collections,
    collectionsRepository,
    zipExport,
    runner,
    jobs,
    events,
    metrics,
    /** Starts the queue (and workers when `work`) and the live-update listener. */
    async start({ work }: { work: boolean }) {
      await catalogueService.start();
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
      await catalogueService.stop().catch(() => undefined);
      closeEngines(engines);
      await database.close();
      releaseLock();
    },
  };
}
export type Container = Awaited<ReturnType<typeof createContainer>>;
