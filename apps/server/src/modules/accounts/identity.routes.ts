import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authProvidersSchema, confirmAgeSchema, profileSchema, updateProfileSchema, UPLOAD_FILE_FIELD, UPLOAD_LIMITS, type AuthProviders } from '@atelier/contracts';
import type { IdentityConfig } from '#src/config.ts';
import { requireActor } from '#src/http/context.ts';
import { AppError } from '#src/lib/errors.ts';
import { readSingleFile } from '#src/modules/media/uploads.multipart.ts';
import { OIDC_PROVIDER_ID } from './identity.ts';
import type { ProfileService } from './profile.service.ts';

/** What the sign-in page shows, the profile a user edits, and their avatar (served to its owner only). */
export async function registerIdentityRoutes(app: FastifyInstance, deps: { identity: IdentityConfig; profiles: ProfileService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { identity } = deps;
  const providers: AuthProviders = {
    social: [
      ...(identity.google ? [{ id: 'google', name: 'Google', kind: 'google' as const }] : []),
      ...(identity.github ? [{ id: 'github', name: 'GitHub', kind: 'github' as const }] : []),
      ...(identity.oidc ? [{ id: OIDC_PROVIDER_ID, name: identity.oidc.name, kind: 'oidc' as const }] : []),
    ],
    magic_link: identity.magicLink,
    min_age: identity.minAge,
    smtp: identity.mail.smtpUrl !== null,
  };

  r.get('/api/auth-providers', { config: { auth: 'public' }, schema: { response: { 200: authProvidersSchema } } }, async () => providers);

  r.get('/api/me/profile', { config: { auth: 'user' }, schema: { response: { 200: profileSchema } } }, async (request) => deps.profiles.get(requireActor(request.actor).userId));

  r.patch('/api/me', { config: { auth: 'user' }, schema: { body: updateProfileSchema, response: { 200: profileSchema } } }, async (request) =>
    deps.profiles.rename(requireActor(request.actor).userId, request.body.name),
  );

  r.post('/api/me/confirm-age', { config: { auth: 'user' }, schema: { body: confirmAgeSchema, response: { 200: profileSchema } } }, async (request) =>
    deps.profiles.confirmAge(requireActor(request.actor).userId),
  );

  r.get('/api/me/avatar', { config: { auth: 'user' } }, async (request, reply) => {
    const bytes = await deps.profiles.readAvatar(requireActor(request.actor).userId);
    if (!bytes) throw new AppError('not_found', 'No avatar');
    return reply
      .header('content-type', 'image/webp')
      .header('cache-control', 'private, no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(bytes);
  });

  r.delete('/api/me/avatar', { config: { auth: 'user' }, schema: { response: { 200: profileSchema } } }, async (request) => deps.profiles.removeAvatar(requireActor(request.actor).userId));

  // Multipart parsing only inside this scope: every other route keeps accepting JSON only.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: UPLOAD_LIMITS.maxBytes, files: 1 }, throwFileSizeLimit: false });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/me/avatar',
      { config: { auth: 'user' }, schema: { body: z.object({ [UPLOAD_FILE_FIELD]: z.string() }).nullish(), response: { 200: profileSchema } } },
      async (request) => {
        const actor = requireActor(request.actor);
        if (!request.isMultipart()) throw new AppError('unsupported_media_type', `Send the picture as multipart/form-data with one file in the field "${UPLOAD_FILE_FIELD}".`);
        const bytes = await readSingleFile(request, { field: UPLOAD_FILE_FIELD, maxBytes: UPLOAD_LIMITS.maxBytes });
        return deps.profiles.setAvatar(actor.userId, bytes);
      },
    );
  });
}
