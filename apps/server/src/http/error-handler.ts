import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ERROR_STATUS, type ErrorCode, type ErrorResponse, type FieldError } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';

/** One place that turns errors into `{ error: { code, message, fields? }, requestId }`. Unknown errors are a bare 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = (code: ErrorCode, message: string, fields?: FieldError[], details?: Record<string, unknown>): ErrorResponse => ({
      error: { code, message, ...(fields ? { fields } : {}), ...(details ? { details } : {}) },
      requestId: request.id,
    });

    if (error instanceof AppError) {
      if (error.code === 'internal') request.log.error({ err: error }, 'internal error');
      return reply.status(ERROR_STATUS[error.code]).send(body(error.code, error.message, error.fields, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const fields = error.validation.map((v) => ({
        path: v.instancePath.replace(/^\//, '').replaceAll('/', '.') || (v.params as { issue?: { keys?: string[] } })?.issue?.keys?.join(', ') || where,
        message: v.message ?? 'is invalid',
      }));
      const summary = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
      return reply.status(400).send(body('validation_failed', `Invalid ${where === 'querystring' ? 'query' : where}: ${summary}`, fields));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      return reply.status(500).send(body('internal', 'Internal server error'));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send(body('unsupported_media_type', 'Send the request body as application/json.'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.status(400).send(body('invalid_json', 'The request body is empty; send a JSON object.'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.status(400).send(body('invalid_json', `The request body is not valid JSON: ${error.message}`));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send(body('payload_too_large', 'The request body is too large.'));
      case 'FST_ERR_RATE_LIMIT_EXCEEDED':
        return reply.status(429).send(body('rate_limited', error.message));
    }
    if (error.statusCode === 429) return reply.status(429).send(body('rate_limited', error.message));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      if (error.code === 'FST_ERR_BAD_URL' || error.statusCode === 404) return reply.status(404).send(body('not_found', 'Not found'));
      return reply.status(400).send(body('validation_failed', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(body('internal', 'Internal server error'));
  });
}
