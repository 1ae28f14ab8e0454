import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, sendJson } from './fake-bfl-http.ts';

/** HTTP helpers for the fake ComfyUI: binary bodies, multipart uploads, recorded requests, scripted faults. */

export type ComfyRoute =
  | 'queue_info' // GET /prompt
  | 'prompt' // POST /prompt
  | 'queue' // GET /queue
  | 'queue_edit' // POST /queue
  | 'interrupt'
  | 'history'
  | 'history_edit'
  | 'view'
  | 'upload'
  | 'system_stats'
  | 'ws';

export interface UploadedFile { field: string; filename: string; contentType: string; size: number; sha256: string }

export interface ComfyRecordedRequest {
  method: string;
  /** Path without the query string and without the optional `/api` prefix. */
  path: string;
  route: ComfyRoute | null;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body as text (JSON requests); empty for multipart uploads, which are in `form`. */
  rawBody: string;
  body: unknown;
  form?: { fields: Record<string, string>; files: UploadedFile[] };
  at: number;
}

/**
 * A scripted answer for one request: an error, a 200 with a hand-made body, a delay, or a dropped
 * connection. With no `status` the request is handled normally after `delayMs`.
 */
export interface ScriptedResponse {
  status?: number;
  /** JSON unless a string (sent as text/plain unless `headers` say otherwise). */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  destroySocket?: boolean;
}

export async function readBodyBuffer(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new BodyTooLargeError(`body larger than ${limitBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export interface ParsedForm {
  fields: Record<string, string>;
  files: (UploadedFile & { bytes: Buffer })[];
}

/** multipart/form-data through the WHATWG parser Node ships (undici), as aiohttp's `request.post()`. */
export async function parseMultipart(contentType: string, body: Buffer): Promise<ParsedForm | null> {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return null;
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    return null;
  }
  const parsed: ParsedForm = { fields: {}, files: [] };
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') parsed.fields[field] = value;
    else {
      const bytes = Buffer.from(await value.arrayBuffer());
      parsed.files.push({ field, filename: value.name, contentType: value.type, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), bytes });
    }
  }
  return parsed;
}

/** aiohttp's plain-text error pages. */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': 0 });
  res.end();
}

export function sendScripted(res: ServerResponse, script: ScriptedResponse & { status: number }): void {
  const { status, body = `${status}: ${STATUS_TEXT[status] ?? 'Error'}`, headers = {} } = script;
  if (typeof body !== 'string') return sendJson(res, status, body, headers);
  sendText(res, status, body, headers);
}

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Request Entity Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** Ready-made faults: what a proxy in front of ComfyUI, or ComfyUI itself, answers when things go wrong. */
export const comfyFaults = {
  rateLimited: (retryAfter: string | number = 1): ScriptedResponse => ({ status: 429, headers: { 'retry-after': String(retryAfter) }, body: { error: 'rate_limited', message: 'Too many requests' } }),
  serverError: (status: 500 | 502 | 503 | 504 = 500): ScriptedResponse => ({ status, body: `${status}: ${STATUS_TEXT[status]}` }),
  unauthorized: (): ScriptedResponse => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="comfyui"' }, body: '401 Authorization Required' }),
  insufficientBalance: (): ScriptedResponse => ({ status: 402, body: { detail: 'Insufficient balance on this GPU rental' } }),
  connectionReset: (): ScriptedResponse => ({ destroySocket: true }),
  slow: (delayMs: number): ScriptedResponse => ({ delayMs }),
};
