import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderSample, CONTENT_TYPES } from './fake-bfl-image.ts';
import { BodyTooLargeError, listenOnLoopback, parseJson, readBody, sendBytes, sendJson, sleep } from './fake-bfl-http.ts';
import type { RecordedRequest } from './fake-bfl-http.ts';
import { FLUX2_MODELS, priceFlux2, validateFlux2Body } from './fake-bfl-spec.ts';
import { isActive, isCharged, sampleExpiresAt, viewTask } from './fake-bfl-tasks.ts';
import type { FakeBflTask, TaskOutcome } from './fake-bfl-tasks.ts';

export type { FakeBflTask, TaskOutcome } from './fake-bfl-tasks.ts';
export type { RecordedRequest } from './fake-bfl-http.ts';
export { FLUX2_MODELS, priceFlux2 } from './fake-bfl-spec.ts';

/**
 * A contract-faithful BFL API on loopback (see ../shared/research/providers.md §1 and §7), with three
 * listeners standing in for BFL's three kinds of host:
 * - `api`      (`url`):         api.bfl.ai — submit, get_result, credits.
 * - `cluster`  (`clusterUrl`):  api.eu2.bfl.ai — where `polling_url` points; proves clients poll that URL.
 * - `delivery` (`deliveryUrl`): delivery-eu1.bfl.ai — signed, expiring `result.sample` URLs.
 */

export type BflListener = 'api' | 'cluster' | 'delivery';
export type BflRoute = 'submit' | 'poll' | 'credits' | 'delivery';

/**
 * A scripted answer for one request: an error, a 200 with a hand-made body, a delay, or a dropped
 * connection. With no `status` the request is handled normally after `delayMs`.
 */
export interface ScriptedResponse {
  status?: number;
  /**
   * JSON unless it is a string or Buffer (sent as-is with the `content-type` header, default text/plain).
   * Defaults to `{"detail": <status text>}`, BFL's FastAPI error shape.
   */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  destroySocket?: boolean;
}

export interface FakeBflBehaviour {
  /** Time a task stays Pending before its outcome shows. */
  processingMs: number;
  /** Lifetime of a `result.sample` URL after the task became Ready (BFL: 10 minutes). */
  sampleTtlMs: number;
  /** Status for expired or unknown sample URLs. */
  expiredSampleStatus: 403 | 404;
  /** Status for a request without `x-key`; 401 vs 403 is unverified [U]. */
  missingKeyStatus: 401 | 403;
  rejectNonMultipleOf16: boolean;
  rejectExtraInputImages: boolean;
  /** Case-insensitive substrings of the prompt that end a task in `Request Moderated`. */
  requestModerationTriggers: string[];
  /** ... and in `Content Moderated`. */
  contentModerationTriggers: string[];
  /** Account balance; a submit costing more answers 402. Charged at submit, not for moderated tasks. */
  credits: number;
  /** BFL's default concurrency limit; submitting beyond it answers 429. */
  maxActiveTasks: number;
  /** Megapixels the fake bills per input image (it cannot know their real size). */
  inputImageMp: number;
}

export interface FakeBflOptions extends Partial<FakeBflBehaviour> {
  apiKey?: string;
  /** Clock for task progress and URL expiry. */
  now?: () => number;
}

export interface FakeBfl {
  /** The api host, to use as the client's base URL (no trailing slash, no /v1). */
  url: string;
  clusterUrl: string;
  deliveryUrl: string;
  apiKey: string;
  requests: RecordedRequest<BflListener>[];
  tasks: ReadonlyMap<string, FakeBflTask>;
  readonly behaviour: Readonly<FakeBflBehaviour>;
  setScenario(patch: Partial<FakeBflBehaviour>): void;
  /** Answer the next `times` requests to `route` this way. Scripted responses are used in order. */
  scriptNext(route: BflRoute, response: ScriptedResponse, times?: number): void;
  /** The next `times` accepted submits end this way (before trigger words are considered). */
  nextTaskOutcome(outcome: TaskOutcome, times?: number): void;
  requestsTo(route: BflRoute): RecordedRequest<BflListener>[];
  /** Forget recorded requests and scripted responses/outcomes; tasks stay. */
  reset(): void;
  close(): Promise<void>;
}

/** Ready-made faults matching BFL's documented error responses (§1.6). */
export const bflFaults = {
  rateLimited: (retryAfter: string | number = 1): ScriptedResponse => ({
    status: 429,
    headers: { 'retry-after': String(retryAfter) },
    body: { detail: 'Rate limit exceeded: too many active tasks. Wait for a task to finish.' },
  }),
  insufficientCredits: (): ScriptedResponse => ({ status: 402, body: { detail: 'Insufficient credits' } }),
  serverError: (status: 500 | 502 | 503 | 504 = 500): ScriptedResponse => ({ status, body: { detail: status === 503 ? 'Service Unavailable' : 'Internal Server Error' } }),
  validation: (detail: { loc: (string | number)[]; msg: string; type: string }[]): ScriptedResponse => ({ status: 422, body: { detail } }),
  connectionReset: (): ScriptedResponse => ({ destroySocket: true }),
  slow: (delayMs: number): ScriptedResponse => ({ delayMs }),
};

const DEFAULTS: FakeBflBehaviour = {
  processingMs: 300,
  sampleTtlMs: 600_000,
  expiredSampleStatus: 403,
  missingKeyStatus: 403,
  rejectNonMultipleOf16: true,
  rejectExtraInputImages: true,
  requestModerationTriggers: ['moderate-request'],
  contentModerationTriggers: ['moderate-content'],
  credits: 100_000,
  maxActiveTasks: 24,
  inputImageMp: 1,
};

function sendScripted(res: ServerResponse, status: number, script: ScriptedResponse): void {
  const { body = { detail: STATUS_TEXT[status] ?? 'Error' }, headers = {} } = script;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return sendJson(res, status, body, headers);
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const MAX_BODY_BYTES = 30 * 1024 * 1024;
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Not authenticated', 402: 'Insufficient credits', 403: 'Forbidden', 404: 'Not Found', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

export async function startFakeBfl(opts: FakeBflOptions = {}): Promise<FakeBfl> {
  const { apiKey = `bfl_fake_${randomBytes(12).toString('hex')}`, now = Date.now, ...patch } = opts;
  const behaviour: FakeBflBehaviour = { ...DEFAULTS, ...patch };
  const requests: RecordedRequest<BflListener>[] = [];
  const tasks = new Map<string, FakeBflTask>();
  const scripts: Record<BflRoute, ScriptedResponse[]> = { submit: [], poll: [], credits: [], delivery: [] };
  const outcomes: TaskOutcome[] = [];
  const urls = { cluster: '', delivery: '' };

  const isAuthorised = (req: IncomingMessage, res: ServerResponse): boolean => {
    const key = req.headers['x-key'];
    if (key === undefined || key === '') sendJson(res, behaviour.missingKeyStatus, { detail: 'Not authenticated' });
    else if (key !== apiKey) sendJson(res, 403, { detail: 'Invalid API key' });
    else return true;
    return false;
  };

  const handleSubmit = (model: string, rec: RecordedRequest<BflListener>, req: IncomingMessage, res: ServerResponse): void => {
    const spec = FLUX2_MODELS[model];
    if (!spec) return sendJson(res, 404, { detail: 'Not Found' });
    if (!isAuthorised(req, res)) return;
    if (rec.rawBody === '') return sendJson(res, 422, { detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] });
    const json = parseJson(rec.rawBody);
    if (!json.ok) return sendJson(res, 422, { detail: [{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' }] });
    const checked = validateFlux2Body(spec, json.value, behaviour);
    if (!checked.ok) return sendJson(res, 422, { detail: checked.detail });
    const input = checked.value;
    const price = priceFlux2(spec, input.width, input.height, input.inputImages.length * behaviour.inputImageMp);
    if (price.cost > behaviour.credits) return sendJson(res, 402, { detail: 'Insufficient credits' });
    const t = now();
    const active = [...tasks.values()].filter((task) => isActive(task, t)).length;
    if (active >= behaviour.maxActiveTasks) return sendJson(res, 429, { detail: `You have reached the limit of ${behaviour.maxActiveTasks} active tasks` });

    const prompt = input.prompt.toLowerCase();
    const outcome: TaskOutcome = outcomes.shift() ??
      (behaviour.requestModerationTriggers.some((w) => prompt.includes(w.toLowerCase())) ? { kind: 'request_moderated' }
        : behaviour.contentModerationTriggers.some((w) => prompt.includes(w.toLowerCase())) ? { kind: 'content_moderated' }
          : { kind: 'ready' });
    if (isCharged(outcome)) behaviour.credits = Math.round((behaviour.credits - price.cost) * 100) / 100;
    const id = randomUUID();
    tasks.set(id, {
      id, model, body: json.value, input, seed: input.seed ?? randomInt(0, 2 ** 32), ...price,
      createdAt: t, processingMs: behaviour.processingMs, sampleTtlMs: behaviour.sampleTtlMs, outcome,
      sampleSig: randomBytes(16).toString('hex'), image: null, downloads: 0,
    });
    sendJson(res, 200, { id, polling_url: `${urls.cluster}/v1/get_result?id=${id}`, cost: price.cost, input_mp: price.inputMp, output_mp: price.outputMp });
  };

  const handlePoll = (rec: RecordedRequest<BflListener>, res: ServerResponse): void => {
    // get_result declares no security scheme in the OpenAPI, so the fake does not demand x-key here.
    const id = rec.query.id;
    if (id === undefined) return sendJson(res, 422, { detail: [{ loc: ['query', 'id'], msg: 'Field required', type: 'missing' }] });
    const task = tasks.get(id);
    if (!task) return sendJson(res, 200, { id, status: 'Task not found', result: null, progress: null, details: null, preview: null });
    sendJson(res, 200, viewTask(task, now(), urls.delivery));
  };

  const handleDelivery = async (rec: RecordedRequest<BflListener>, res: ServerResponse): Promise<void> => {
    const match = /^\/results\/([0-9a-f-]+)\/sample\.(jpeg|png|webp)$/.exec(rec.path);
    const task = match?.[1] ? tasks.get(match[1]) : undefined;
    const denied = (message: string) =>
      sendBytes(res, behaviour.expiredSampleStatus, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>${message}</Message></Error>`, 'application/xml');
    if (!task || rec.query.sig !== task.sampleSig || viewTask(task, now(), urls.delivery).status !== 'Ready') return denied('Signature did not match');
    if (now() >= sampleExpiresAt(task)) return denied('Signed expiry time has passed');
    task.downloads += 1;
    task.image ??= renderSample(task.input.width, task.input.height, task.input.outputFormat, task.seed);
    sendBytes(res, 200, await task.image, CONTENT_TYPES[task.input.outputFormat]);
  };

  const route = (listener: BflListener, method: string, path: string): BflRoute | 'not_found' | 'method_not_allowed' => {
    if (listener === 'delivery') return method === 'GET' && path.startsWith('/results/') ? 'delivery' : 'not_found';
    const known: [string, BflRoute, string][] = [['/v1/get_result', 'poll', 'GET'], ['/v1/credits', 'credits', 'GET']];
    for (const [p, r, m] of known) if (path === p) return method === m ? r : 'method_not_allowed';
    if (/^\/v1\/[\w.-]+$/.test(path)) return method === 'POST' ? 'submit' : 'method_not_allowed';
    return 'not_found';
  };

  const handler = (listener: BflListener) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const parsed = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const rawBody = await readBody(req, MAX_BODY_BYTES);
      const json = rawBody === '' ? undefined : parseJson(rawBody);
      const rec: RecordedRequest<BflListener> = {
        listener, method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), headers: req.headers,
        rawBody, body: json?.ok ? json.value : undefined, at: now(),
      };
      requests.push(rec);
      const r = route(listener, method, rec.path);
      if (r === 'not_found') return sendJson(res, 404, { detail: 'Not Found' });
      if (r === 'method_not_allowed') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      const script = scripts[r].shift();
      if (script) {
        if (script.delayMs) await sleep(script.delayMs);
        if (script.destroySocket) return void req.socket.destroy();
        if (script.status !== undefined) return sendScripted(res, script.status, script);
      }
      if (r === 'submit') return handleSubmit(rec.path.slice('/v1/'.length), rec, req, res);
      if (r === 'poll') return handlePoll(rec, res);
      if (r === 'delivery') return await handleDelivery(rec, res);
      if (isAuthorised(req, res)) sendJson(res, 200, { credits: behaviour.credits });
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLargeError) return sendJson(res, 413, { detail: 'Request Entity Too Large' });
      sendJson(res, 500, { detail: 'Internal Server Error' });
    }
  };

  const api = await listenOnLoopback(handler('api'));
  const cluster = await listenOnLoopback(handler('cluster'));
  const delivery = await listenOnLoopback(handler('delivery'));
  urls.cluster = cluster.url;
  urls.delivery = delivery.url;
  const listenerOf: Record<BflRoute, BflListener[]> = { submit: ['api', 'cluster'], poll: ['api', 'cluster'], credits: ['api', 'cluster'], delivery: ['delivery'] };

  return {
    url: api.url,
    clusterUrl: cluster.url,
    deliveryUrl: delivery.url,
    apiKey,
    requests,
    tasks,
    behaviour,
    setScenario: (p) => void Object.assign(behaviour, p),
    scriptNext: (r, response, times = 1) => { for (let i = 0; i < times; i++) scripts[r].push(response); },
    nextTaskOutcome: (outcome, times = 1) => { for (let i = 0; i < times; i++) outcomes.push(outcome); },
    requestsTo: (r) => requests.filter((q) => listenerOf[r].includes(q.listener) && route(q.listener, q.method, q.path) === r),
    reset: () => {
      requests.length = 0;
      outcomes.length = 0;
      for (const q of Object.values(scripts)) q.length = 0;
    },
    close: async () => {
      await Promise.all([api.close(), cluster.close(), delivery.close()]);
    },
  };
}
