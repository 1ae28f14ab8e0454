import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ErrorResponse } from '@atelier/contracts';
import type { Container } from './container.ts';
import { registerAuth } from './http/auth-hook.ts';
import { registerStaffAudit } from './http/staff-audit.ts';
import { registerApiKeyRateLimit } from './http/api-key-rate-limit.ts';
import { registerErrorHandler } from './http/error-handler.ts';
import { registerHealthRoutes } from './http/health.routes.ts';
import { registerHttpMetrics } from './http/metrics.ts';
import { registerSecurity } from './http/security.ts';
import { PUBLIC_V1, STUDIO } from './http/surfaces.ts';
import { AppError } from './lib/errors.ts';
import { registerAccountRoutes } from './modules/accounts/accounts.routes.ts';
import { registerSecurityRoutes } from './modules/accounts/security.routes.ts';
import { registerIdentityRoutes } from './modules/accounts/identity.routes.ts';
import { registerCatalogueRoutes } from './modules/catalogue/catalogue.routes.ts';
import { registerEventRoutes } from './modules/generations/events.routes.ts';
import { generationVelocityLimits, registerGenerationRoutes } from './modules/generations/generations.routes.ts';
import { registerMediaRoutes } from './modules/media/media.routes.ts';
import { registerCollectionRoutes } from './modules/collections/collections.routes.ts';
import { registerUploadRoutes } from './modules/media/uploads.routes.ts';
import { registerKitRoutes } from './modules/media/kits.routes.ts';
import { registerAdminRoutes } from './modules/admin/admin.routes.ts';
import { registerStaffConsoleRoutes } from './modules/admin/staff-console.routes.ts';
import { registerWebhookRoutes } from './modules/generations/webhooks.routes.ts';
import { registerCreditAdminRoutes, registerCreditRoutes } from './modules/credits/credits.routes.ts';
import { registerBillingRoutes } from './modules/billing/billing.routes.ts';
import { velocityLimits } from './http/velocity.ts';

const API_PREFIXES = ['/api/', '/v1/', '/docs', '/healthz', '/readyz', '/metrics'];

/** Builds the HTTP application on a wired container. Never listens: main.ts does, tests use inject(). */
export async function buildApp(c: Container): Promise<FastifyInstance> {
  const { config } = c;
  const app = Fastify({
    loggerInstance: c.logger as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body must not slip past CORS-free "simple request" rules.
  app.removeContentTypeParser('text/plain');
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.actor && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  registerErrorHandler(app);
  await registerSecurity(app, { publicUrl: config.publicUrl, isHttps: config.isHttps });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, ctx) => new AppError('rate_limited', `Too many requests. Try again in ${ctx.after}.`),
  });
  registerAuth(app, { auth: c.auth, apiKeys: c.apiKeys, staff: c.staff, sessions: { guard: c.sessionGuard, security: c.security }, audit: c.audit, geoCountryHeader: config.geoCountryHeader });
  registerApiKeyRateLimit(app, { perMinute: config.apiKeyRatePerMinute });
  registerStaffAudit(app, { audit: c.audit });
  registerHttpMetrics(app, c.metrics);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Atelier API', version: '1.0.0', description: 'Generate images with FLUX-class models. Authenticate with `Authorization: Bearer atl_…` (create keys in the studio settings or with `atelier api-key create`).' },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An Atelier API key (atl_…)' } } },
      security: [{ apiKey: [] }],
    },
    hideUntagged: true,
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/v1/openapi.json', { config: { auth: 'public' } }, async () => app.swagger());

  registerHealthRoutes(app, { db: c.database.db, metrics: c.metrics.registry });
  registerAccountRoutes(app, { auth: c.auth, apiKeys: c.apiKeys, publicUrl: config.publicUrl, authRateLimit: config.rateLimits.authPerMinute, throttle: c.signInThrottle, captcha: c.signInCaptcha });
  registerSecurityRoutes(app, { security: c.security });
  await registerIdentityRoutes(app, { identity: config.identity, profiles: c.profiles });
  registerEventRoutes(app, { hub: c.events, generations: c.generations, catalogue: c.catalogue, balanceOf: (userId) => c.credits.peekBalance(userId) });
  await registerBillingRoutes(app, { billing: c.billing, profileOf: c.profileOf, checkoutsPerHour: config.rateLimits.checkoutsPerHour });
  registerCreditAdminRoutes(app, { credits: c.credits, adjustments: c.creditAdjustments });
  // Sign-ups per network address (issue 6 abuse limits); the auth routes' per-minute limit covers bursts.
  const signUpLimit = velocityLimits(app, [{ what: 'sign-ups', max: config.rateLimits.signUpsPerHour, windowSeconds: 3600, per: 'ip', howToRaise: '' }]);
  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'POST' && request.url.split('?')[0] === '/api/auth/sign-up/email') await signUpLimit(request, reply);
  });
  registerWebhookRoutes(app, { db: c.database.db, repository: c.generationsRepository, engines: c.engines, jobs: c.jobs });
  registerAdminRoutes(app, { engines: c.engines, breakers: c.breakers, catalogue: c.catalogueService, generations: c.generationsRepository });
  registerStaffConsoleRoutes(app, { staff: c.staff, audit: c.audit, accounts: c.accountSummaries, generations: c.generationsRepository, media: c.media });
  const createLimits = generationVelocityLimits(app, { perAccountPerMinute: config.rateLimits.generationsPerMinute, perIpPerMinute: config.rateLimits.generationsPerMinutePerIp });
  for (const surface of [STUDIO, PUBLIC_V1]) {
    registerCatalogueRoutes(app, { catalogue: c.catalogue, surface });
    registerGenerationRoutes(app, { generations: c.generations, catalogue: c.catalogue, surface, createLimits });
    registerCreditRoutes(app, { credits: c.credits, billing: c.billing, profileOf: c.profileOf, surface });
    registerMediaRoutes(app, { media: c.media, surface });
    registerCollectionRoutes(app, { collections: c.collections, repository: c.collectionsRepository, zip: c.zipExport, surface });
    await registerUploadRoutes(app, { uploads: c.uploads, surface });
    registerKitRoutes(app, { kits: c.kits, surface });
  }

  await registerStudio(app, config.webDistDir, c.logger);

  app.setNotFoundHandler((request, reply) => reply.status(404).send(notFoundBody(request.method, request.url, request.id)));
  return app;
}

const notFoundBody = (method: string, url: string, requestId: string): ErrorResponse => ({
  error: { code: 'not_found', message: `No route for ${method} ${url.split('?')[0]}` },
  requestId,
});

/**
 * The built studio: files from apps/web/dist as they are on disk at request time (a rebuild needs no
 * restart), hashed assets cached for a year, and index.html for every other path so the client-side
 * router can take it. Unknown API paths still answer JSON 404s.
 */
async function registerStudio(app: FastifyInstance, root: string, logger: Container['logger']): Promise<void> {
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    logger.warn({ dir: root }, 'studio build not found: run `npm run build` (npm install does it) to serve the web studio');
  }
  await app.register(fastifyStatic, { root, serve: false });
  app.get('/*', { config: { auth: 'public' } }, async (request, reply) => {
    if (API_PREFIXES.some((p) => request.url.startsWith(p))) return reply.status(404).send(notFoundBody(request.method, request.url, request.id));
    const relative = decodeURIComponent(request.url.split('?')[0]!).replace(/^\/+/, '');
    const file = path.resolve(root, relative);
    const isFile = relative !== '' && file.startsWith(root + path.sep) && fs.statSync(file, { throwIfNoEntry: false })?.isFile();
    if (isFile) {
      const isHashedAsset = relative.startsWith('assets/');
      return reply.sendFile(relative, { maxAge: isHashedAsset ? '365d' : '1h', immutable: isHashedAsset });
    }
    if (!fs.existsSync(path.join(root, 'index.html'))) return reply.status(404).send(notFoundBody(request.method, request.url, request.id));
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { maxAge: 0 });
  });
}
