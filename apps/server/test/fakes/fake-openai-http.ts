import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { FakeFile } from './fake-openai-spec.ts';
import { BodyTooLargeError, parseJson, sendJson } from './fake-bfl-http.ts';
import type { ScriptedResponse } from './fake-openai-errors.ts';

/** Request plumbing for the fake OpenAI-compatible server: binary-safe bodies and multipart parsing. */

export interface RecordedForm {
  /** Text fields, each name with every value it was sent with (in order). */
  fields: Record<string, string[]>;
  files: FakeFile[];
}

export interface RecordedOpenAiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The JSON-parsed body, when it was JSON. */
  json: unknown;
  /** The parsed multipart body, when it was multipart/form-data. */
  form: RecordedForm | undefined;
  at: number;
}

export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
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

/** Parses multipart/form-data with the platform's own parser (undici), as a real server framework would. */
export async function parseMultipart(contentType: string, raw: Buffer): Promise<RecordedForm | null> {
  let form: FormData;
  try {
    form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
  } catch {
    return null;
  }
  const fields: Record<string, string[]> = {};
  const files: FakeFile[] = [];
  for (const [field, value] of form) {
    if (typeof value === 'string') (fields[field] ??= []).push(value);
    else files.push({ field, filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
  }
  return { fields, files };
}

export function parseBody(contentType: string, raw: Buffer): Promise<Pick<RecordedOpenAiRequest, 'json' | 'form'>> | Pick<RecordedOpenAiRequest, 'json' | 'form'> {
  if (contentType.toLowerCase().startsWith('multipart/form-data')) return parseMultipart(contentType, raw).then((form) => ({ json: undefined, form: form ?? undefined }));
  if (raw.length === 0) return { json: undefined, form: undefined };
  const parsed = parseJson(raw.toString('utf8'));
  return { json: parsed.ok ? parsed.value : undefined, form: undefined };
}

export function sendScripted(res: ServerResponse, status: number, script: ScriptedResponse): void {
  const { body = { error: { message: 'Scripted error', type: 'server_error', param: null, code: null } }, headers = {} } = script;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return sendJson(res, status, body, headers);
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The Bearer token, or null when the header is missing or not Bearer. */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return m?.[1]?.trim() || null;
}
