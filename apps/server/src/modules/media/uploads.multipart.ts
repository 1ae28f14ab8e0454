import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { AppError } from '#src/lib/errors.ts';
import { tooManyBytes } from './uploads.service.ts';

/** Boundaries and part headers around the one file: a body longer than the file limit plus this cannot be valid. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * The one file of a multipart/form-data upload, read into memory but never more than `maxBytes` of it:
 * reading the request stops as soon as the file passes the limit. Anything but exactly one file in `field` is a 400 that
 * says what was wrong.
 */
export async function readSingleFile(request: FastifyRequest, opts: { field: string; maxBytes: number }): Promise<Buffer> {
  const { field, maxBytes } = opts;
  let file: Buffer | undefined;
  try {
    // files: 1 makes busboy skip (not buffer) a second file and report it as a limit.
    const parts = request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 20 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        throw invalid(part.fieldname === field ? `The field "${field}" must be a file, not a text value.` : `Unexpected form field "${part.fieldname}": send only the image, as a file in the field "${field}".`);
      }
      if (part.fieldname !== field) {
        part.file.destroy();
        throw invalid(`The image must be sent as a file in the form field "${field}" (got a file in "${part.fieldname}").`);
      }
      file = await readBounded(part, maxBytes);
    }
  } catch (error) {
    throw toAppError(error);
  }
  if (!file) throw invalid(`No file in the request: send the image as a file in the form field "${field}".`);
  return file;
}

async function readBounded(part: MultipartFile, maxBytes: number): Promise<Buffer> {
  // Past the limit busboy stops handing over data but would go on reading the request to its end.
  // Destroying the stream at that moment detaches the parser, so nothing more is read.
  part.file.once('limit', () => part.file.destroy(tooManyBytes(maxBytes)));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooManyBytes(maxBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    throw part.file.truncated ? tooManyBytes(maxBytes) : error;
  }
  if (part.file.truncated) throw tooManyBytes(maxBytes);
  return Buffer.concat(chunks, total);
}

const invalid = (message: string) => new AppError('validation_failed', message);

/** @fastify/multipart's and busboy's errors, in the API's terms. */
function toAppError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'FST_FILES_LIMIT':
      return invalid('Send exactly one file per upload: this request has more than one.');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return invalid('The form has too many fields: send only the image, as one file.');
    case 'FST_PROTO_VIOLATION':
      return invalid('The form has a field with a reserved name.');
    case 'FST_MP_PREMATURE_CLOSE':
      return invalid('The upload ended before the whole file arrived.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('unsupported_media_type', 'Send the image as multipart/form-data.');
  }
  // Everything else the parser throws is about the body's framing (no boundary, a cut-off part, a bad header).
  if (error instanceof Error) return invalid(`The multipart/form-data body is malformed: ${error.message}.`);
  return error;
}
