import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_TYPES } from './fake-bfl-image.ts';
import { BodyTooLargeError, listenOnLoopback, parseJson, readBody, sendBytes, sendJson, sleep } from './fake-bfl-http.ts';
import type { RecordedRequest } from './fake-bfl-http.ts';
import { cdnExpiresAt, phaseOf, queueUrls, resultView, statusView, webhookPayload } from './fake-fal-requests.ts';
import type { FakeFalRequest, FalOutcome } from './fake-fal-requests.ts';
import { FAL_FLUX2_ENDPOINTS, appOf, validateFalInput } from './fake-fal-spec.ts';
import { createWebhookSigner } from './fake-fal-webhooks.ts';
import type { FakeWebhookDelivery, WebhookVariant } from './fake-fal-webhooks.ts';

export type { FakeFalRequest, FalOutcome } from './fake-fal-requests.ts';
export type { FakeWebhookDelivery, WebhookVariant } from './fake-fal-webhooks.ts';
export type { RecordedRequest } from './fake-bfl-http.ts';

/**
 * A contract-faithful fal.ai queue on loopback (providers.md §2 and §7), with three listeners for
 * fal's three kinds of host:
 * - `queue` (`url`):     queue.fal.run — submit, status, result, cancel (path rule: owner/app only).
 * - `cdn`   (`cdnUrl`):  v3.fal.media — the output files, public, with a lifetime.
 * - `rest`  (`restUrl`): rest.alpha.fal.ai — the webhook JWKS at `jwksUrl`.
 */

export type FalListener = 'queue' | 'cdn' | 'rest';
export type FalRoute = 'submit' | 'status' | 'result' | 'cancel' | 'cdn' | 'jwks';

/** A scripted answer for one request; with no `status` the request is handled normally after `delayMs`. */
export interface ScriptedResponse {
  status?: number;
  /** JSON unless a string or Buffer (sent with the `content-type` header, default text/plain). Defaults to `{"detail": <status text>}`. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  destroySocket?: boolean;
}

export interface FakeFalBehaviour {
  /** Time a request stays IN_QUEUE, then IN_PROGRESS, before it is COMPLETED. */
  queueMs: number;
  processingMs: number;
  /** Lifetime of CDN output files after completion. */
  cdnTtlMs: number;
  expiredCdnStatus: 403 | 404;
  /** Case-insensitive prompt substrings that end a request in `request_moderated` / `content_moderated`. */
  requestModerationTriggers: string[];
  contentModerationTriggers: string[];
  /** Account balance in USD, and the flat price the fake charges per submit. */
  balanceUsd: number;
  priceUsd: number;
  /** fal answers an exhausted balance with 403 "User is locked. Reason: Exhausted balance." [C]; 402 is allowed for. */
  exhaustedBalanceStatus: 402 | 403;
  maxProReferences: number;
  /** Sent automatically when a request with `?fal_webhook=` completes or is canceled; null sends nothing. */
  autoWebhook: WebhookVariant | null;
}

export interface FakeFalOptions extends Partial<FakeFalBehaviour> {
  /** "key-id:key-secret", like a real FAL_KEY. */
  apiKey?: string;
  /** The fal account id webhooks are signed for. */
  userId?: string;
  /** Whether the JWKS pads `x` with "=" as the live one does [C]; default true. */
  padJwksX?: boolean;
  /** Clock for request phases, URL expiry and webhook timestamps. */
  now?: () => number;
}

export interface FakeFal {
  url: string;
  cdnUrl: string;
  restUrl: string;
  jwksUrl: string;
  apiKey: string;
  userId: string;
  requests: RecordedRequest<FalListener>[];
  queue: ReadonlyMap<string, FakeFalRequest>;
  webhookDeliveries: FakeWebhookDelivery[];
  readonly behaviour: Readonly<FakeFalBehaviour>;
  setScenario(patch: Partial<FakeFalBehaviour>): void;
  /** Answer the next `times` requests to `route` this way, in order. */
  scriptNext(route: FalRoute, response: ScriptedResponse, times?: number): void;
  /** The next `times` accepted submits end this way (trigger words and validation still apply first). */
  nextOutcome(outcome: FalOutcome, times?: number): void;
  requestsTo(route: FalRoute): RecordedRequest<FalListener>[];
  /** POST the request's webhook now (to its `fal_webhook`, or to `url`). */
  deliverWebhook(requestId: string, variant?: WebhookVariant, url?: string): Promise<FakeWebhookDelivery[]>;
  rotateWebhookKey(keepOld?: boolean): void;
  /** Resolves once every automatic webhook delivery scheduled so far has been attempted. */
  webhooksSettled(): Promise<void>;
  /** Forget recorded requests, deliveries, scripts and outcomes; queued requests stay. */
  reset(): void;
  close(): Promise<void>;
}

/** Ready-made faults shaped like fal's documented errors (§2.1). */
export const falFaults = {
  rateLimited: (retryAfter: string | number = 1): ScriptedResponse => ({ status: 429, headers: { 'retry-after': String(retryAfter) }, body: { detail: 'Too many concurrent requests' } }),
  exhaustedBalance: (status: 402 | 403 = 403): ScriptedResponse => ({ status, body: { detail: 'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.' } }),
  unauthorized: (): ScriptedResponse => ({ status: 401, body: { detail: 'No user found for Key ID and Secret' } }),
  requestError: (status = 503, errorType = 'runner_scheduling_failure'): ScriptedResponse => ({ status, headers: { 'x-fal-error-type': errorType }, body: { detail: 'No runner could be allocated to handle the request', error_type: errorType } }),
  serverError: (status: 500 | 502 | 503 | 504 = 500): ScriptedResponse => ({ status, body: { detail: 'Internal Server Error' } }),
  validation: (detail: { loc: (string | number)[]; msg: string; type: string }[], retryable = false): ScriptedResponse => ({ status: 422, headers: { 'x-fal-retryable': String(retryable) }, body: { detail } }),
  connectionReset: (): ScriptedResponse => ({ destroySocket: true }),
  slow: (delayMs: number): ScriptedResponse => ({ delayMs }),
};

const DEFAULTS: FakeFalBehaviour = {
  queueMs: 100,
  processingMs: 300,
  cdnTtlMs: 7 * 24 * 3600_000,
  expiredCdnStatus: 404,
  requestModerationTriggers: ['moderate-request'],
  contentModerationTriggers: ['moderate-content'],
  balanceUsd: 100,
  priceUsd: 0.03,
  exhaustedBalanceStatus: 403,
  maxProReferences: 9,
  autoWebhook: 'valid',
};
const MAX_BODY_BYTES = 60 * 1024 * 1024;
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

function sendScripted(res: ServerResponse, status: number, script: ScriptedResponse): void {
  const { body = { detail: STATUS_TEXT[status] ?? 'Error' }, headers = {} } = script;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return sendJson(res, status, body, headers);
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

interface Matched {
  route: FalRoute | 'not_found' | 'method_not_allowed';
  app?: string;
  id?: string;
  endpointId?: string;
}

function match(listener: FalListener, method: string, path: string): Matched {
  if (listener === 'cdn') return method === 'GET' && path.startsWith('/files/') ? { route: 'cdn' } : { route: 'not_found' };
  if (listener === 'rest') return path === '/.well-known/jwks.json' ? (method === 'GET' ? { route: 'jwks' } : { route: 'method_not_allowed' }) : { route: 'not_found' };
  const s = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (s.length >= 4 && s[2] === 'requests') {
    const target = { app: `${s[0]}/${s[1]}`, id: s[3] };
    if (s.length === 4) return method === 'GET' ? { route: 'result', ...target } : { route: 'method_not_allowed' };
    if (s.length === 5 && s[4] === 'status') return method === 'GET' ? { route: 'status', ...target } : { route: 'method_not_allowed' };
    if (s.length === 5 && s[4] === 'cancel') return method === 'PUT' ? { route: 'cancel', ...target } : { route: 'method_not_allowed' };
    return { route: 'not_found' };
  }
  if (s.length >= 2) return method === 'POST' ? { route: 'submit', endpointId: s.join('/') } : { route: 'method_not_allowed' };
  return { route: 'not_found' };
}

export async function startFakeFal(opts: FakeFalOptions = {}): Promise<FakeFal> {
  const { apiKey = `${randomUUID()}:${randomBytes(16).toString('hex')}`, userId = `fake-user-${randomBytes(4).toString('hex')}`, padJwksX = true, now = Date.now, ...patch } = opts;
  const behaviour: FakeFalBehaviour = { ...DEFAULTS, ...patch };
  const requests: RecordedRequest<FalListener>[] = [];
  const queue = new Map<string, FakeFalRequest>();
  const scripts: Record<FalRoute, ScriptedResponse[]> = { submit: [], status: [], result: [], cancel: [], cdn: [], jwks: [] };
  const outcomes: FalOutcome[] = [];
  const webhookDeliveries: FakeWebhookDelivery[] = [];
  /** Pending automatic webhook per request id. */
  const timers = new Map<string, NodeJS.Timeout>();
  const pendingDeliveries = new Set<Promise<unknown>>();
  const signer = createWebhookSigner({ userId, now, padJwksX });
  const urls = { queue: '', cdn: '' };

  const deliver = async (req: FakeFalRequest, variant: WebhookVariant, url = req.webhookUrl): Promise<FakeWebhookDelivery[]> => {
    if (!url) throw new Error(`request ${req.id} has no webhook URL`);
    const sent = await signer.deliver(url, req.id, await webhookPayload(req, urls.cdn), variant);
    webhookDeliveries.push(...sent);
    return sent;
  };
  const scheduleWebhook = (req: FakeFalRequest, delayMs: number) => {
    const variant = behaviour.autoWebhook;
    if (!req.webhookUrl || variant === null) return;
    clearTimeout(timers.get(req.id));
    const timer = setTimeout(() => {
      timers.delete(req.id);
      const p = deliver(req, variant).catch(() => undefined).finally(() => pendingDeliveries.delete(p));
      pendingDeliveries.add(p);
    }, Math.max(0, delayMs));
    timers.set(req.id, timer);
  };

  const isAuthorised = (req: IncomingMessage, res: ServerResponse): boolean => {
    const auth = req.headers.authorization;
    if (!auth) sendJson(res, 401, { detail: 'Missing authorization header' });
    else if (auth !== `Key ${apiKey}`) sendJson(res, 401, { detail: 'No user found for Key ID and Secret' });
    else return true;
    return false;
  };

  const handleSubmit = async (endpointId: string, rec: RecordedRequest<FalListener>, res: ServerResponse): Promise<void> => {
    const spec = FAL_FLUX2_ENDPOINTS[endpointId];
    if (!spec) return sendJson(res, 404, { detail: `Application '${endpointId}' not found` });
    const json = parseJson(rec.rawBody);
    if (!json.ok) return sendJson(res, 422, { detail: [{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' }] });
    const webhookUrl = rec.query.fal_webhook ?? null;
    if (webhookUrl !== null && !/^https?:\/\/[^\s]+$/.test(webhookUrl)) return sendJson(res, 400, { detail: 'Invalid webhook URL' });
    if (behaviour.balanceUsd < behaviour.priceUsd) return sendJson(res, behaviour.exhaustedBalanceStatus, { detail: 'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.' });
    behaviour.balanceUsd = Math.round((behaviour.balanceUsd - behaviour.priceUsd) * 1e6) / 1e6;

    const checked = await validateFalInput(spec, json.value, behaviour);
    const prompt = checked.ok ? checked.value.prompt.toLowerCase() : '';
    const trigger = (words: string[]) => words.some((w) => prompt.includes(w.toLowerCase()));
    const outcome: FalOutcome = !checked.ok ? { kind: 'rejected', detail: checked.detail }
      : trigger(behaviour.requestModerationTriggers) ? { kind: 'request_moderated' }
        : trigger(behaviour.contentModerationTriggers) ? { kind: 'content_moderated' }
          : (outcomes.shift() ?? { kind: 'ok' });
    const input = checked.ok ? checked.value : null;
    const req: FakeFalRequest = {
      id: randomUUID(), endpointId, app: appOf(endpointId), spec, body: json.value, webhookUrl, input, createdAt: now(),
      queueMs: behaviour.queueMs, processingMs: behaviour.processingMs, outcome, canceledAt: null,
      seed: input?.seed ?? randomInt(0, 2 ** 32), cdnKey: randomBytes(16).toString('hex'), cdnTtlMs: behaviour.cdnTtlMs, image: null, downloads: 0,
    };
    queue.set(req.id, req);
    if (outcome.kind !== 'pending_forever') scheduleWebhook(req, req.queueMs + req.processingMs);
    const position = [...queue.values()].filter((r) => r.app === req.app && r !== req && phaseOf(r, now()) === 'IN_QUEUE').length;
    sendJson(res, 200, { status: 'IN_QUEUE', ...queueUrls(req, urls.queue), queue_position: position });
  };

  const handleRequestOp = async (route: 'status' | 'result' | 'cancel', app: string, id: string, rec: RecordedRequest<FalListener>, res: ServerResponse): Promise<void> => {
    const req = queue.get(id);
    // The path rule: only the owner/app the request was submitted under finds it.
    if (!req || req.app !== app) return sendJson(res, 404, route === 'cancel' ? { status: 'NOT_FOUND' } : { detail: 'Request not found' });
    const t = now();
    const phase = phaseOf(req, t);
    if (route === 'status') {
      const position = [...queue.values()].filter((r) => r.app === app && r.createdAt < req.createdAt && phaseOf(r, t) === 'IN_QUEUE').length;
      const view = statusView(req, t, urls.queue, rec.query.logs === '1', position);
      return sendJson(res, view.status, view.body);
    }
    if (route === 'cancel') {
      if (phase === 'COMPLETED') return sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
      req.canceledAt = t;
      scheduleWebhook(req, 0);
      return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' });
    }
    if (phase !== 'COMPLETED') return sendJson(res, 400, { detail: 'Request is still in progress' });
    const view = await resultView(req, urls.cdn);
    sendJson(res, view.status, view.body, view.headers);
  };

  const handleCdn = async (rec: RecordedRequest<FalListener>, res: ServerResponse): Promise<void> => {
    const key = /^\/files\/([0-9a-f]+)\/[\w.-]+$/.exec(rec.path)?.[1];
    const req = [...queue.values()].find((r) => r.cdnKey === key);
    if (!req?.image || !req.input || now() >= cdnExpiresAt(req)) return sendJson(res, req ? behaviour.expiredCdnStatus : 404, { detail: 'File not found' });
    req.downloads += 1;
    sendBytes(res, 200, await req.image, CONTENT_TYPES[req.input.outputFormat]);
  };

  const handler = (listener: FalListener) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const parsed = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const rawBody = await readBody(req, MAX_BODY_BYTES);
      const json = rawBody === '' ? undefined : parseJson(rawBody);
      const rec: RecordedRequest<FalListener> = {
        listener, method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), headers: req.headers,
        rawBody, body: json?.ok ? json.value : undefined, at: now(),
      };
      requests.push(rec);
      const m = match(listener, method, rec.path);
      if (m.route === 'not_found') return sendJson(res, 404, { detail: 'Not Found' });
      if (m.route === 'method_not_allowed') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      const script = scripts[m.route].shift();
      if (script) {
        if (script.delayMs) await sleep(script.delayMs);
        if (script.destroySocket) return void req.socket.destroy();
        if (script.status !== undefined) return sendScripted(res, script.status, script);
      }
      if (m.route === 'cdn') return await handleCdn(rec, res);
      if (m.route === 'jwks') return sendJson(res, 200, signer.jwks(), { 'cache-control': 'max-age=86400' });
      if (!isAuthorised(req, res)) return;
      if (m.route === 'submit') return await handleSubmit(m.endpointId ?? '', rec, res);
      if (m.route === 'status' || m.route === 'result' || m.route === 'cancel') await handleRequestOp(m.route, m.app ?? '', m.id ?? '', rec, res);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLargeError) return sendJson(res, 413, { detail: 'Request Entity Too Large' });
      sendJson(res, 500, { detail: 'Internal Server Error' });
    }
  };

  const queueListener = await listenOnLoopback(handler('queue'));
  const cdn = await listenOnLoopback(handler('cdn'));
  const rest = await listenOnLoopback(handler('rest'));
  urls.queue = queueListener.url;
  urls.cdn = cdn.url;

  return {
    url: queueListener.url,
    cdnUrl: cdn.url,
    restUrl: rest.url,
    jwksUrl: `${rest.url}/.well-known/jwks.json`,
    apiKey,
    userId,
    requests,
    queue,
    webhookDeliveries,
    behaviour,
    setScenario: (p) => void Object.assign(behaviour, p),
    scriptNext: (r, response, times = 1) => { for (let i = 0; i < times; i++) scripts[r].push(response); },
    nextOutcome: (outcome, times = 1) => { for (let i = 0; i < times; i++) outcomes.push(outcome); },
    requestsTo: (r) => requests.filter((q) => match(q.listener, q.method, q.path).route === r),
    deliverWebhook: async (id, variant = 'valid', url) => {
      const req = queue.get(id);
      if (!req) throw new Error(`unknown request ${id}`);
      return deliver(req, variant, url ?? req.webhookUrl);
    },
    rotateWebhookKey: (keepOld) => signer.rotate(keepOld),
    webhooksSettled: async () => {
      while (timers.size > 0 || pendingDeliveries.size > 0) await sleep(10);
    },
    reset: () => {
      requests.length = 0;
      webhookDeliveries.length = 0;
      outcomes.length = 0;
      for (const q of Object.values(scripts)) q.length = 0;
    },
    close: async () => {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.all([queueListener.close(), cdn.close(), rest.close()]);
    },
  };
}
