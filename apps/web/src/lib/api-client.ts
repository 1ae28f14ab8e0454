import { z } from 'zod';
import { errorResponseSchema, type ErrorCode, type FieldError } from '@atelier/contracts';

/** Codes the client itself produces, on top of the server's `ErrorCode` union and better-auth's own codes. */
export type ClientErrorCode = 'network_error' | 'invalid_response';

/**
 * Every failed request ends up as one of these, whatever envelope the server used:
 * ours (`{error:{code,message,fields?},requestId}`), better-auth's (`{code,message}`), or none at all.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  readonly fields: FieldError[];
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(init: {
    status: number;
    code: ApiError['code'];
    message: string;
    fields?: FieldError[] | undefined;
    requestId?: string | undefined;
    details?: Record<string, unknown> | undefined;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.fields = init.fields ?? [];
    this.requestId = init.requestId;
    this.details = init.details;
  }

  /** The message for one field (`"width"`, `"prompt"`…), if the server pointed at it. */
  fieldMessage(path: string): string | undefined {
    return this.fields.find((f) => f.path === path)?.message;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** A short, human message for any error a query or mutation can throw. */
export function describeError(error: unknown): string {
  if (isApiError(error)) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

const betterAuthErrorSchema = z.object({ code: z.string().optional(), message: z.string() });

interface RequestOptions<S extends z.ZodType | undefined> {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Sent as JSON. Non-GET requests always carry a JSON body (`{}` when none is given): the server requires it. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Parses the successful response. Omit for endpoints answering 204. */
  schema?: S;
  signal?: AbortSignal | undefined;
  isRetryAfterReauth?: boolean;
}

/** Resolves true once the user has re-authenticated, false if they gave up. Set by the re-auth dialog host. */
let reauthHandler: (() => Promise<boolean>) | null = null;
export function setReauthHandler(handler: (() => Promise<boolean>) | null): void {
  reauthHandler = handler;
}

type Result<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** The one way the studio talks to the server: same-origin, cookie session, every response parsed by a contract schema. */
export async function request<S extends z.ZodType | undefined = undefined>(path: string, options: RequestOptions<S> = {}): Promise<Result<S>> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body ?? {});
  }

  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: options.signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, code: 'network_error', message: 'Could not reach the server. Check your connection and try again.' });
  }

  if (!response.ok) {
    const error = await toApiError(response);
    // A sensitive action asked for a fresh password or code: ask (features/security/components/reauth-host.tsx), then retry once.
    if (error.code === 'reauth_required' && reauthHandler && !options.isRetryAfterReauth && (await reauthHandler())) {
      return request(path, { ...options, isRetryAfterReauth: true });
    }
    throw error;
  }
  if (!options.schema || response.status === 204) return undefined as Result<S>;

  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    // Cancelled while the body was arriving (a superseded or unmounted query): an abort, not a bad response.
    if (options.signal?.aborted) throw error;
    json = undefined;
  }
  const parsed = options.schema.safeParse(json);
  if (!parsed.success) {
    console.error(`Unexpected response from ${method} ${path}`, z.prettifyError(parsed.error), json);
    throw new ApiError({ status: response.status, code: 'invalid_response', message: 'The server sent a response this version of the studio does not understand.' });
  }
  return parsed.data as Result<S>;
}

async function toApiError(response: Response): Promise<ApiError> {
  const json: unknown = await response.json().catch(() => undefined);
  return errorFromBody(response.status, json);
}

function errorFromBody(status: number, json: unknown): ApiError {
  const ours = errorResponseSchema.safeParse(json);
  if (ours.success) {
    const { code, message, fields, details } = ours.data.error;
    return new ApiError({ status, code, message, fields, details, requestId: ours.data.requestId });
  }
  const auth = betterAuthErrorSchema.safeParse(json);
  if (auth.success) {
    return new ApiError({ status, code: auth.data.code ?? `http_${status}`, message: auth.data.message });
  }
  return new ApiError({ status, code: `http_${status}`, message: fallbackMessage(status) });
}

interface UploadOptions<S extends z.ZodType> {
  schema: S;
  /** Called with the fraction of the request body sent so far (0–1). */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal | undefined;
}

/**
 * POSTs one file as multipart/form-data (field `file`). XMLHttpRequest rather than fetch, because only it
 * reports upload progress. No Content-Type is set: the browser writes the multipart boundary itself.
 * Same origin, so the browser sends Sec-Fetch-Site: same-origin and the CSRF check passes.
 */
export function uploadFile<S extends z.ZodType>(path: string, file: File, options: UploadOptions<S>): Promise<z.infer<S>> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(event.loaded / event.total);
    });
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const parse = (): unknown => {
      try {
        return JSON.parse(xhr.responseText) as unknown;
      } catch {
        return undefined;
      }
    };
    xhr.addEventListener('load', () => {
      options.signal?.removeEventListener('abort', onAbort);
      const json = parse();
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(errorFromBody(xhr.status, json));
        return;
      }
      const parsed = options.schema.safeParse(json);
      if (!parsed.success) {
        console.error(`Unexpected response from POST ${path}`, z.prettifyError(parsed.error), json);
        reject(new ApiError({ status: xhr.status, code: 'invalid_response', message: 'The server sent a response this version of the studio does not understand.' }));
        return;
      }
      resolve(parsed.data as z.infer<S>);
    });
    xhr.addEventListener('error', () => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new ApiError({ status: 0, code: 'network_error', message: 'Could not reach the server. Check your connection and try again.' }));
    });
    xhr.addEventListener('abort', () => reject(new DOMException('The upload was canceled.', 'AbortError')));
    xhr.send(form);
  });
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 404) return 'Not found.';
  // A reverse proxy may refuse a large upload with its own bare 413 page, before the server sees it.
  if (status === 413) return 'The file is too large for the server to accept.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return 'The server had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}
