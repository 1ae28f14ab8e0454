import type { ServerResponse } from 'node:http';
import { sendJson } from './fake-bfl-http.ts';
import { validationProblem } from './fake-replicate-spec.ts';
import type { InvalidField } from './fake-replicate-spec.ts';

/**
 * A scripted answer for one request to the fake Replicate: an error, a 2xx with a hand-made body, a
 * delay, or a dropped connection. With no `status` the request is handled normally after `delayMs`.
 */
export interface ScriptedResponse {
  status?: number;
  /** JSON unless it is a string or Buffer (sent as-is, content-type from `headers`, default text/plain). Defaults to a problem body. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  destroySocket?: boolean;
}

/** Replicate's error envelope: an RFC 7807-style problem `{title, detail, status}` [C]. */
export function problem(status: number, title: string, detail: string): Record<string, unknown> {
  return { title, detail, status };
}

/** Ready-made faults with the bodies Replicate sends (providers.md §3.1; bodies [C] from captured responses). */
export const replicateFaults = {
  rateLimited: (retryAfter: string | number = 30): ScriptedResponse => ({
    status: 429,
    headers: { 'retry-after': String(retryAfter) },
    body: { detail: `Request was throttled. Your rate limit resets in ~${typeof retryAfter === 'number' ? retryAfter : 30}s.`, status: 429 },
  }),
  /** A 429 with only the body's hint, as some proxies strip Retry-After. */
  rateLimitedWithoutHeader: (seconds = 12): ScriptedResponse => ({ status: 429, body: { detail: `Request was throttled. Your rate limit resets in ~${seconds}s.`, status: 429 } }),
  insufficientCredit: (): ScriptedResponse => ({
    status: 402,
    body: problem(402, 'Insufficient credit', 'You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.'),
  }),
  unauthenticated: (): ScriptedResponse => ({ status: 401, body: problem(401, 'Unauthenticated', 'You did not pass a valid authentication token') }),
  forbidden: (): ScriptedResponse => ({ status: 403, body: problem(403, 'Forbidden', 'You do not have permission to run this model') }),
  serverError: (status: 500 | 502 | 503 | 504 = 500): ScriptedResponse => ({ status, body: problem(status, status === 503 ? 'Service Unavailable' : 'Internal Server Error', 'Something went wrong on our end. Please try again.') }),
  validation: (issues: InvalidField[]): ScriptedResponse => ({ status: 422, body: validationProblem(issues) }),
  connectionReset: (): ScriptedResponse => ({ destroySocket: true }),
  slow: (delayMs: number): ScriptedResponse => ({ delayMs }),
};

/** `Prefer: wait` (60 s) or `wait=N` (1–60); null without the header. */
export function parsePrefer(header: string | undefined): number | null | 'invalid' {
  if (header === undefined) return null;
  const match = /^\s*wait(?:\s*=\s*(\d+))?\s*$/i.exec(header);
  if (!match) return 'invalid';
  const seconds = match[1] === undefined ? 60 : Number(match[1]);
  return seconds >= 1 && seconds <= 60 ? seconds : 'invalid';
}

export function sendScripted(res: ServerResponse, status: number, script: ScriptedResponse): void {
  const { body = problem(status, 'Error', `Fake Replicate scripted HTTP ${status}`), headers = {} } = script;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return sendJson(res, status, body, headers);
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
