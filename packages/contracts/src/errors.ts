import { z } from 'zod';

/** Every error the API can answer with, and its HTTP status. Domain code throws these codes; one handler maps them. */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  insufficient_credits: 402,
  forbidden: 403,
  /** Signed in through a provider but has not yet confirmed the minimum age: only /api/me… works until then. */
  age_confirmation_required: 403,
  /** An API key without the scope a /v1 route requires; `details.required_scope` names it. */
  insufficient_scope: 403,
  /** A staff route called by a staff member who has not turned on two-factor authentication. */
  two_factor_required: 403,
  csrf_rejected: 403,
  /** The action needs the password or a two-factor code entered in the last 5 minutes: POST /api/me/reauthenticate, then retry. */
  reauth_required: 403,
  /**
   * Password sign-in for an email with 5 or more consecutive failures needs a solved proof-of-work challenge
   * (GET /api/auth/captcha-challenge, then the solution in the X-Atelier-Captcha header). A missing, wrong,
   * expired or already used solution gets this same answer. 403, not 428: the request is refused until it
   * carries different content, and 428 means "make the request conditional" (If-Match) to HTTP clients.
   */
  captcha_required: 403,
  /** The request is beyond what the user's plan allows (e.g. output size); `details` names the limit and the plan that allows more. */
  plan_limit: 403,
  not_found: 404,
  idempotency_conflict: 409,
  invalid_state: 409,
  email_taken: 409,
  /** A name or other unique value already in use (e.g. a collection or kit name). */
  conflict: 409,
  /** A per-user cap (collections, kits, …) is reached; the message says which and how to make room. */
  limit_reached: 409,
  /** Sign-in for this email is locked after 100 consecutive failures, until the password is reset. */
  account_locked: 423,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  /** Too many generations queued or running at once for the plan (or the API key); `details` says the limit and how to raise it. */
  concurrency_limit: 429,
  internal: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const errorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export const fieldErrorSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. "width"'),
  message: z.string(),
});
export type FieldError = z.infer<typeof fieldErrorSchema>;

export const errorResponseSchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    fields: z.array(fieldErrorSchema).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  requestId: z.string(),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
