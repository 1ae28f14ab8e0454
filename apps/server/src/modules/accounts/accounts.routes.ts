import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { apiKeyCreatedSchema, apiKeyListSchema, CAPTCHA_CHALLENGE_PATH, CAPTCHA_HEADER, captchaChallengeSchema, createApiKeySchema, idParamSchema, meSchema, type ApiKey } from '@atelier/contracts';
import type { ApiKeyRow } from '#src/db/schema.ts';
import { requireActor } from '#src/http/context.ts';
import { toHeaders } from '#src/http/auth-hook.ts';
import { AppError } from '#src/lib/errors.ts';
import type { Auth } from './auth.ts';
import type { ApiKeyService } from './api-keys.service.ts';
import { captchaRequired, isCaptchaRequired, type SignInCaptcha } from './sign-in-captcha.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';

const presentKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  created_at: row.created_at.toISOString(),
  last_used_at: row.last_used_at?.toISOString() ?? null,
  scopes: row.scopes,
  expires_at: row.expires_at?.toISOString() ?? null,
});

export function registerAccountRoutes(
  app: FastifyInstance,
  deps: { auth: Auth; apiKeys: ApiKeyService; publicUrl: string; authRateLimit: number; throttle?: SignInThrottle; captcha?: SignInCaptcha },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  // better-auth's own endpoints (sign-up/in/out, sessions), bridged from Fastify to its fetch handler.
  r.route({
    method: ['GET', 'POST'],
    url: '/api/auth/*',
    config: { auth: 'public', rateLimit: { max: deps.authRateLimit, timeWindow: '1 minute' } },
    async handler(request, reply) {
      const url = new URL(request.url, deps.publicUrl);
      const hasBody = request.method !== 'GET' && request.body !== undefined;
      // Password sign-in is throttled per email and per IP (sign-in-throttle.ts); refusals carry Retry-After.
      // From the 5th consecutive failure on, an attempt also needs a solved CAPTCHA (sign-in-captcha.ts).
      const signInEmail = request.method === 'POST' && url.pathname === '/api/auth/sign-in/email' && deps.throttle ? String((request.body as { email?: unknown } | undefined)?.email ?? '') : null;
      if (signInEmail !== null) {
        const { failures } = await assertMayAttempt(deps.throttle!, signInEmail, request.ip, reply);
        if (deps.captcha && isCaptchaRequired(failures)) await assertCaptchaSolved(deps.captcha, deps.throttle!, { email: signInEmail, ip: request.ip, failures, header: request.headers[CAPTCHA_HEADER] });
      }
      const headers = toHeaders(request.headers);
      headers.set('x-atelier-client-ip', request.ip); // what better-auth records as the session's IP (never the client's own header)
      const response = await deps.auth.handler(new Request(url, { method: request.method, headers, ...(hasBody ? { body: JSON.stringify(request.body) } : {}) }));
      if (signInEmail !== null && response.status === 401) await deps.throttle!.recordFailure(signInEmail, request.ip, 'password');
      else if (signInEmail !== null && response.ok) await deps.throttle!.recordSuccess(signInEmail);
      reply.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie' && name !== 'content-length') reply.header(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) reply.header('set-cookie', cookies);
      reply.header('cache-control', 'no-store');
      if (!response.body) return reply.send(null);
      const body = Buffer.from(await response.arrayBuffer());
      // The session token lives in an httpOnly cookie; better-auth also echoes it in JSON, where page scripts could read it.
      if (response.headers.get('content-type')?.includes('application/json')) {
        const json = JSON.parse(body.toString('utf8')) as unknown;
        const session = json && typeof json === 'object' && 'session' in json ? (json as { session: unknown }).session : null;
        if (session && typeof session === 'object' && 'token' in session) {
          delete (session as { token?: unknown }).token;
          reply.removeHeader('content-length');
          return reply.send(json);
        }
        if (json && typeof json === 'object' && 'token' in json) {
          delete (json as { token?: unknown }).token;
          reply.removeHeader('content-length');
          return reply.send(json);
        }
      }
      return reply.send(body);
    },
  });

  // A proof-of-work challenge for the sign-in CAPTCHA. Public: whoever needs one is not signed in.
  if (deps.captcha) {
    const captcha = deps.captcha;
    r.get(
      CAPTCHA_CHALLENGE_PATH,
      { config: { auth: 'public', rateLimit: { max: deps.authRateLimit, timeWindow: '1 minute' } }, schema: { response: { 200: captchaChallengeSchema } } },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return captcha.createChallenge();
      },
    );
  }

  r.get('/api/me', { config: { auth: 'user' }, schema: { response: { 200: meSchema } } }, async (request) => {
    const actor = requireActor(request.actor);
    const session = await deps.auth.api.getSession({ headers: toHeaders(request.headers) });
    if (!session || session.user.id !== actor.userId) throw new AppError('unauthenticated', 'Sign in to continue.');
    return { id: session.user.id, email: session.user.email, name: session.user.name };
  });

  r.get('/api/api-keys', { config: { auth: 'user' }, schema: { response: { 200: apiKeyListSchema } } }, async (request) => {
    const rows = await deps.apiKeys.list(requireActor(request.actor).userId);
    return { data: rows.map(presentKey) };
  });

  r.post('/api/api-keys', { config: { auth: 'user', recentAuth: true }, schema: { body: createApiKeySchema, response: { 201: apiKeyCreatedSchema } } }, async (request, reply) => {
    const { row, key } = await deps.apiKeys.create(requireActor(request.actor).userId, { name: request.body.name, scopes: request.body.scopes, expiresInDays: request.body.expires_in_days });
    return reply.status(201).send({ ...presentKey(row), key });
  });

  r.delete('/api/api-keys/:id', { config: { auth: 'user' }, schema: { params: idParamSchema, response: { 204: z.null() } } }, async (request, reply) => {
    await deps.apiKeys.revoke(requireActor(request.actor).userId, request.params.id);
    return reply.status(204).send(null);
  });
}

async function assertMayAttempt(throttle: SignInThrottle, email: string, ip: string, reply: FastifyReply): Promise<{ failures: number }> {
  try {
    return await throttle.assertMayAttempt(email, ip);
  } catch (error) {
    const retry = error instanceof AppError ? error.details?.retry_after_seconds : undefined;
    if (typeof retry === 'number') reply.header('retry-after', String(retry));
    throw error;
  }
}

/** A refused solution is logged (and audited) with its reason; the client only learns that one is needed. */
async function assertCaptchaSolved(captcha: SignInCaptcha, throttle: SignInThrottle, attempt: { email: string; ip: string; failures: number; header: string | string[] | undefined }): Promise<void> {
  const refusal = await captcha.redeem(attempt.header);
  if (!refusal) return;
  await throttle.report('captcha', attempt.email.trim().toLowerCase(), attempt.ip, null, { reason: refusal, failures: attempt.failures });
  throw captchaRequired();
}
