import type { ErrorCode, FieldError } from '@atelier/contracts';

/**
 * The one error type domain code throws. The HTTP error handler maps `code` to its status
 * (ERROR_STATUS in contracts) and renders `{ error: { code, message, fields? }, requestId }`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { fields?: FieldError[]; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.fields = opts.fields;
    this.details = opts.details;
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
