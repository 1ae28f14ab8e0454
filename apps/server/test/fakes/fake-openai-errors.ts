import type { OpenAiError } from './fake-openai-spec.ts';

/**
 * OpenAI's error answers, `{"error": {"message", "type", "param", "code"}}`, with the status codes and
 * headers the real API uses (providers.md §5.1; texts as OpenAI's error-codes guide words them [I]).
 */

/** A scripted answer for one request: an error, a hand-made 200, a delay, or a dropped connection. */
export interface ScriptedResponse {
  status?: number;
  /** JSON unless a string or Buffer (then sent as-is with the `content-type` header, default text/plain). */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  destroySocket?: boolean;
}

export const envelope = (status: number, message: string, type: string, code: string | null, param: string | null = null): OpenAiError => ({
  status,
  error: { message, type, param, code },
});

const asScript = (e: OpenAiError, headers: Record<string, string> = {}): ScriptedResponse => ({ status: e.status, body: { error: e.error }, headers });

/** "sk-abc…wxyz" the way OpenAI echoes a wrong key: masked but for its ends. */
export function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

export const openAiErrors = {
  missingKey: () =>
    envelope(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null),
  wrongKey: (key: string) =>
    envelope(401, `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key'),
  modelNotFound: (model: string) =>
    envelope(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
  /** 429 with code insufficient_quota: the account has no credit left. Retrying does not help. */
  insufficientQuota: () =>
    envelope(429, 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'insufficient_quota', 'insufficient_quota'),
  rateLimited: (model: string, seconds: number) =>
    envelope(429, `Rate limit reached for ${model} in organization org-fake on images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in ${seconds}s.`, 'requests', 'rate_limit_exceeded'),
  /** DALL·E's wording for a prompt its safety system refused. */
  contentPolicy: () =>
    envelope(400, 'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.', 'invalid_request_error', 'content_policy_violation'),
  /** gpt-image's wording; also used when the generated image itself is flagged. */
  moderationBlocked: () =>
    envelope(400, 'Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_0123456789abcdef.', 'image_generation_user_error', 'moderation_blocked'),
  server: (status: 500 | 502 | 503 | 504 = 500) =>
    envelope(status, status === 503 ? 'The engine is currently overloaded, please try again later' : 'The server had an error while processing your request. Sorry about that!', 'server_error', null),
  invalidJson: () =>
    envelope(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)", 'invalid_request_error', null),
  notFound: (method: string, path: string) =>
    envelope(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null),
};

/** Ready-made faults for `fake.scriptNext(route, …)`. */
export const openAiFaults = {
  rateLimited: (retryAfter: string | number = 1, model = 'gpt-image-1'): ScriptedResponse =>
    asScript(openAiErrors.rateLimited(model, typeof retryAfter === 'number' ? retryAfter : 1), {
      'retry-after': String(retryAfter),
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '0',
    }),
  insufficientQuota: (): ScriptedResponse => asScript(openAiErrors.insufficientQuota()),
  contentPolicy: (): ScriptedResponse => asScript(openAiErrors.contentPolicy()),
  moderationBlocked: (): ScriptedResponse => asScript(openAiErrors.moderationBlocked()),
  serverError: (status: 500 | 502 | 503 | 504 = 500): ScriptedResponse => asScript(openAiErrors.server(status)),
  validation: (param: string, message: string, code: string | null = 'invalid_value'): ScriptedResponse =>
    asScript(envelope(400, message, 'invalid_request_error', code, param)),
  connectionReset: (): ScriptedResponse => ({ destroySocket: true }),
  slow: (delayMs: number): ScriptedResponse => ({ delayMs }),
};
