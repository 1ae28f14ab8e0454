import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParamSchema, listUploadsQuerySchema, UPLOAD_FILE_FIELD, UPLOAD_LIMITS, uploadPageSchema, uploadSchema, uploadUsageSchema } from '@atelier/contracts';
import { requireActor } from '#src/http/context.ts';
import type { ApiSurface } from '#src/http/surfaces.ts';
import { AppError } from '#src/lib/errors.ts';
import { MULTIPART_OVERHEAD_BYTES, readSingleFile } from './uploads.multipart.ts';
import { presentUpload } from './uploads.presenter.ts';
import { formatMegabytes, tooManyBytes, type UploadService, type UploadVariant } from './uploads.service.ts';

/**
 * Reference uploads. Multipart parsing is registered inside this plugin's own scope, so every other
 * route keeps accepting JSON only. Stored bytes go to their owner only (anyone else: 404), with the
 * same headers as generated images: the true Content-Type, nosniff, private caching, a sandboxing CSP.
 */
export async function registerUploadRoutes(app: FastifyInstance, deps: { uploads: UploadService; surface: ApiSurface; maxBytes?: number }): Promise<void> {
  const { prefix, auth, tags } = deps.surface;
  const maxBytes = deps.maxBytes ?? UPLOAD_LIMITS.maxBytes;

  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxBytes, files: 1 }, throwFileSizeLimit: false });
    const r = scope.withTypeProvider<ZodTypeProvider>();

    r.post(
      `${prefix}/uploads`,
      {
        config: { auth, scope: 'generate' },
        onRequest: async (request, reply) =>
          closingOnError(reply, async () => {
            refuseBeforeReading(request, maxBytes);
            await admit(deps.uploads, request, reply);
          }),
        schema: {
          tags,
          summary: 'Upload a reference image',
          description:
            `multipart/form-data with one file in the field "${UPLOAD_FILE_FIELD}". PNG, JPEG or WebP (recognised by content), at most ${formatMegabytes(maxBytes)}, ` +
            `${UPLOAD_LIMITS.maxPixels / 1_000_000} MP and ${UPLOAD_LIMITS.maxSide} px per side. The image is re-encoded in its own format without any metadata (EXIF, GPS, ICC). ` +
            'Each account has an upload quota (bytes and number of uploads; 413 when full: delete uploads to free space) and a per-minute limit (429 with Retry-After); GET /uploads/usage shows both.',
          consumes: ['multipart/form-data'],
          // Documents the form for the OpenAPI document; the multipart parser leaves the body itself unset.
          body: z.object({ [UPLOAD_FILE_FIELD]: z.string().meta({ format: 'binary' }) }).nullish(),
          response: { 201: uploadSchema },
        },
      },
      async (request, reply) => {
        const actor = requireActor(request.actor);
        const bytes = await closingOnError(reply, () => readSingleFile(request, { field: UPLOAD_FILE_FIELD, maxBytes }));
        return reply.status(201).send(presentUpload(await deps.uploads.create(actor.userId, bytes), prefix));
      },
    );

    r.get(
      `${prefix}/uploads`,
      { config: { auth, scope: 'read' }, schema: { tags, summary: 'List your uploads, newest first', querystring: listUploadsQuerySchema, response: { 200: uploadPageSchema } } },
      async (request) => {
        const page = await deps.uploads.list(requireActor(request.actor).userId, request.query);
        return { data: page.items.map((row) => presentUpload(row, prefix)), next_cursor: page.nextCursor };
      },
    );

    r.get(
      `${prefix}/uploads/usage`,
      { config: { auth, scope: 'read' }, schema: { tags, summary: 'What your uploads take against your quota', response: { 200: uploadUsageSchema } } },
      async (request) => {
        const usage = await deps.uploads.usage(requireActor(request.actor).userId);
        return { used_bytes: usage.bytes, used_count: usage.count, quota_bytes: usage.quota.maxBytes, quota_count: usage.quota.maxCount, rate_limit_per_minute: usage.ratePerMinute };
      },
    );

    for (const variant of ['original', 'thumbnail'] as const satisfies UploadVariant[]) {
      r.get(
        `${prefix}/uploads/:id${variant === 'original' ? '' : '/thumbnail'}`,
        { config: { auth, scope: 'read' }, schema: { tags, summary: variant === 'original' ? 'Download an upload (as re-encoded)' : "An upload's 256 px thumbnail (WebP)", params: idParamSchema } },
        async (request, reply) => send(reply, await deps.uploads.read(requireActor(request.actor).userId, request.params.id, variant)),
      );
    }

    r.delete(
      `${prefix}/uploads/:id`,
      { config: { auth, scope: 'manage' }, schema: { tags, summary: 'Delete an upload and its files', params: idParamSchema, response: { 204: z.null() } } },
      async (request, reply) => {
        await deps.uploads.delete(requireActor(request.actor).userId, request.params.id);
        return reply.status(204).send(null);
      },
    );
  });
}

/**
 * A refusal while the body is still arriving leaves the rest of it unread on the connection: close the
 * connection after the answer rather than keep it alive and have to read (or misparse) what follows.
 */
async function closingOnError<T>(reply: FastifyReply, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    reply.header('connection', 'close');
    throw error;
  }
}

/** Refusals that need no byte of the body: the wrong kind of body, or one that announces it is too large. */
function refuseBeforeReading(request: FastifyRequest, maxBytes: number): void {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'multipart/form-data') {
    throw new AppError('unsupported_media_type', `Send the image as multipart/form-data with one file in the field "${UPLOAD_FILE_FIELD}" (got ${type ? type : 'no Content-Type'}).`);
  }
  const length = Number(request.headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes + MULTIPART_OVERHEAD_BYTES) throw tooManyBytes(maxBytes);
}

/** The per-minute limit and a full quota, before the body is read; a rate refusal says when to retry. */
async function admit(uploads: UploadService, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    await uploads.admit(requireActor(request.actor).userId);
  } catch (error) {
    const retryAfter = error instanceof AppError ? error.details?.retry_after_seconds : undefined;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    throw error;
  }
}

const send = (reply: FastifyReply, file: { bytes: Buffer; contentType: string; filename: string }) =>
  reply
    .header('content-type', file.contentType)
    .header('cache-control', 'private, max-age=3600')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('content-disposition', `inline; filename="${file.filename}"`)
    .send(file.bytes);
