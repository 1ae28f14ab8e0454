import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { idParamSchema, imageFormatQuerySchema } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import type { ImageVariant, MediaService } from './media.service.ts';

/**
 * Image bytes, to their owner only (anyone else: 404). Private caching, the true Content-Type, and a
 * sandboxing CSP so an image URL opened directly can never run anything.
 */
export function registerMediaRoutes(app: FastifyInstance, deps: { media: MediaService; surface: ApiSurface }) {
  const { prefix, auth, tags } = deps.surface;
  const r = app.withTypeProvider<ZodTypeProvider>();

  const send = (reply: FastifyReply, file: { bytes: Buffer; contentType: string; filename: string }, download: boolean) =>
    reply
      .header('content-type', file.contentType)
      .header('cache-control', 'private, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('content-disposition', `${download ? 'attachment' : 'inline'}; filename="${file.filename}"`)
      .send(file.bytes);

  r.get(
    `${prefix}/images/:id`,
    {
      config: { auth, scope: 'read' },
      schema: { tags, summary: 'Download an image (original, or converted with ?format=png|jpeg|webp and/or downsized with ?width=)', params: idParamSchema, querystring: imageFormatQuerySchema },
    },
    async (request, reply) => {
      const file = await deps.media.read(requireActor(request.actor).userId, request.params.id, 'original', request.query.format, { width: request.query.width });
      return send(reply, file, request.query.download !== undefined);
    },
  );

  for (const variant of ['thumbnail', 'preview'] as const satisfies ImageVariant[]) {
    r.get(
      `${prefix}/images/:id/${variant}`,
      { config: { auth, scope: 'read' }, schema: { tags, summary: `The image's ${variant} (WebP)`, params: idParamSchema } },
      async (request, reply) => send(reply, await deps.media.read(requireActor(request.actor).userId, request.params.id, variant), false),
    );
  }
}
