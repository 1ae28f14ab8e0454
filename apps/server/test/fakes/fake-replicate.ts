import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderSample } from './fake-bfl-image.ts';
import { BodyTooLargeError, listenOnLoopback, parseJson, readBody, sendBytes, sendJson, sleep } from './fake-bfl-http.ts';
import type { RecordedRequest } from './fake-bfl-http.ts';
import { createWebhookDispatcher } from './fake-replicate-dispatch.ts';
import { OUTPUT_CONTENT_TYPES, TERMINAL_STATUSES, outputExpiresAt, terminalAt, viewPrediction } from './fake-replicate-predictions.ts';
import type { FakePrediction, PredictionOutcome, WebhookEvent } from './fake-replicate-predictions.ts';
import { REPLICATE_FLUX2_MODELS, validateInput, validationProblem } from './fake-replicate-spec.ts';
import { newWebhookSecret } from './fake-replicate-webhooks.ts';
import type { FakeWebhookDelivery, WebhookDeliveryMode } from './fake-replicate-webhooks.ts';
import { parsePrefer, problem, replicateFaults, sendScripted } from './fake-replicate-faults.ts';
import type { ScriptedResponse } from './fake-replicate-faults.ts';

export type { FakePrediction, PredictionOutcome, WebhookEvent } from './fake-replicate-predictions.ts';
export type { FakeWebhookDelivery, WebhookDeliveryMode, WebhookReceiver } from './fake-replicate-webhooks.ts';
export type { ScriptedResponse } from './fake-replicate-faults.ts';
export type { RecordedRequest } from './fake-bfl-http.ts';
export { startWebhookReceiver, signStandardWebhook } from './fake-replicate-webhooks.ts';
export { REPLICATE_FLUX2_MODELS } from './fake-replicate-spec.ts';
export { replicateFaults };

/**
 * A contract-faithful Replicate predictions API on loopback (providers.md §3 and §7), with two
 * listeners: `api` (`url`, api.replicate.com) and `delivery` (`deliveryUrl`, replicate.delivery, the
 * output host that needs no token and deletes outputs after an hour).
 */

export type ReplicateListener = 'api' | 'delivery';
export type ReplicateRoute = 'create' | 'get' | 'cancel' | 'list' | 'secret' | 'account' | 'delivery';

export interface FakeReplicateBehaviour {
  /** Fake time from create until the prediction's outcome shows. */
  processingMs: number;
  /** Fake time in `starting` before `processing`. */
  startingMs: number;
  /** How long outputs stay after completion (Replicate: 1 hour). */
  outputTtlMs: number;
  /** Real milliseconds the fake holds a `Prefer: wait=N` create per requested second (1000 = faithful). */
  syncWaitScale: number;
  /** Log tqdm-style progress lines while processing. */
  progressLogs: boolean;
  /** Account balance in USD; a create costing more answers 402. */
  credits: number;
  /** Create-prediction rate limit (Replicate: 600 per minute); beyond it 429 with Retry-After. */
  createsPerMinute: number;
  /** Case-insensitive substrings of the prompt that end a prediction with the E005 sensitive-content error. */
  moderationTriggers: string[];
  /** Replicate documents webhook URLs as HTTPS; tests on loopback use http. */
  requireHttpsWebhook: boolean;
  /** `output`/`logs` webhook events are sent at most once per this many ms (fake time). */
  webhookThrottleMs: number;
  webhookMaxAttempts: number;
  webhookRetryDelayMs: number;
  /** Status of the delivery host for a deleted or unknown output [U]. */
  expiredOutputStatus: 403 | 404;
}

export interface FakeReplicateOptions extends Partial<FakeReplicateBehaviour> {
  apiToken?: string;
  webhookSecret?: string;
  /** Clock for prediction progress, output expiry and rate limits. */
  now?: () => number;
}

export interface FakeReplicate {
  /** The api host, to use as the client's base URL (no trailing slash, no /v1). */
  url: string;
  deliveryUrl: string;
  apiToken: string;
  /** The account's current `whsec_…` secret, as GET /v1/webhooks/default/secret serves it. */
  readonly webhookSecret: string;
  requests: RecordedRequest<ReplicateListener>[];
  predictions: ReadonlyMap<string, FakePrediction>;
  webhookDeliveries: FakeWebhookDelivery[];
  readonly behaviour: Readonly<FakeReplicateBehaviour>;
  setScenario(patch: Partial<FakeReplicateBehaviour>): void;
  /** Answer the next `times` requests to `route` this way. Scripted responses are used in order. */
  scriptNext(route: ReplicateRoute, response: ScriptedResponse, times?: number): void;
  /** The next `times` accepted creates end this way (before trigger words are considered). */
  nextOutcome(outcome: PredictionOutcome, times?: number): void;
  /** The next `times` webhook deliveries are spoiled this way. */
  nextWebhookMode(mode: WebhookDeliveryMode, times?: number): void;
  /** A new account secret; deliveries from now on are signed with it. */
  rotateWebhookSecret(): string;
  requestsTo(route: ReplicateRoute): RecordedRequest<ReplicateListener>[];
  /** Sends due webhooks now and waits until every delivery (with retries) has finished. */
  settleWebhooks(): Promise<void>;
  /** Forget recorded requests, scripted responses, outcomes and webhook modes; predictions stay. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: FakeReplicateBehaviour = {
  processingMs: 300,
  startingMs: 50,
  outputTtlMs: 3_600_000,
  syncWaitScale: 1000,
  progressLogs: true,
  credits: 100,
  createsPerMinute: 600,
  moderationTriggers: ['moderate-content'],
  requireHttpsWebhook: false,
  webhookThrottleMs: 500,
  webhookMaxAttempts: 3,
  webhookRetryDelayMs: 100,
  expiredOutputStatus: 404,
};

const MAX_BODY_BYTES = 40 * 1024 * 1024;
const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['start', 'output', 'logs', 'completed'];
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const newId = () => Array.from({ length: 26 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');

export async function startFakeReplicate(opts: FakeReplicateOptions = {}): Promise<FakeReplicate> {
  const { apiToken = `r8_fake${randomBytes(16).toString('hex')}`, now = Date.now, ...patch } = opts;
  const behaviour: FakeReplicateBehaviour = { ...DEFAULTS, ...patch };
  let secret = opts.webhookSecret ?? newWebhookSecret();
  const requests: RecordedRequest<ReplicateListener>[] = [];
  const predictions = new Map<string, FakePrediction>();
  const scripts: Record<ReplicateRoute, ScriptedResponse[]> = { create: [], get: [], cancel: [], list: [], secret: [], account: [], delivery: [] };
  const outcomes: PredictionOutcome[] = [];
  const createTimes: number[] = [];
  const urls = { api: '', delivery: '' };
  const hooks = createWebhookDispatcher({ now, urls, predictions, secret: () => secret, behaviour });

  const isAuthorised = (req: IncomingMessage, res: ServerResponse): boolean => {
    const match = /^(?:Bearer|Token)\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match) sendJson(res, 401, problem(401, 'Unauthenticated', 'You did not pass an authentication token'));
    else if (match[1] !== apiToken) sendJson(res, 401, problem(401, 'Unauthenticated', 'You did not pass a valid authentication token'));
    else return true;
    return false;
  };

  const handleCreate = async (model: string, rec: RecordedRequest<ReplicateListener>, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isAuthorised(req, res)) return;
    const spec = REPLICATE_FLUX2_MODELS[model];
    if (!spec) return sendJson(res, 404, problem(404, 'Not found', 'The requested resource could not be found.'));
    const t = now();
    while (createTimes.length > 0 && createTimes[0]! <= t - 60_000) createTimes.shift();
    if (createTimes.length >= behaviour.createsPerMinute) {
      const resetS = Math.max(1, Math.ceil((createTimes[0]! + 60_000 - t) / 1000));
      return sendJson(res, 429, { detail: `Request was throttled. Your rate limit resets in ~${resetS}s.`, status: 429 }, { 'retry-after': String(resetS) });
    }
    const json = rec.rawBody === '' ? { ok: false as const, error: 'empty body' } : parseJson(rec.rawBody);
    if (!json.ok || typeof json.value !== 'object' || json.value === null) return sendJson(res, 400, problem(400, 'Invalid request', 'The request body must be a JSON object'));
    const body = json.value as Record<string, unknown>;
    const prefer = req.headers.prefer;
    const wait = parsePrefer(Array.isArray(prefer) ? prefer[0] : prefer);
    if (wait === 'invalid') return sendJson(res, 400, problem(400, 'Invalid Prefer header', 'Prefer: wait must be "wait" or "wait=N" with N from 1 to 60'));
    const issues = validateInput(spec, body.input);
    const webhook = body.webhook;
    const webhookIssues = [];
    if (webhook !== undefined && (typeof webhook !== 'string' || !URL.canParse(webhook) || !(behaviour.requireHttpsWebhook ? /^https:$/ : /^https?:$/).test(new URL(webhook).protocol))) {
      webhookIssues.push({ type: 'format', field: 'webhook', description: behaviour.requireHttpsWebhook ? 'Must be a valid HTTPS URL' : 'Does not match format \'uri\'' });
    }
    const filter = body.webhook_events_filter;
    if (filter !== undefined && (!Array.isArray(filter) || filter.some((e) => !WEBHOOK_EVENTS.includes(e as WebhookEvent)))) {
      webhookIssues.push({ type: 'enum', field: 'webhook_events_filter', description: 'webhook_events_filter must be a subset of "start", "output", "logs", "completed"' });
    }
    const allIssues = [...(issues.ok ? [] : issues.issues), ...webhookIssues];
    if (!issues.ok || allIssues.length > 0) return sendJson(res, 422, validationProblem(allIssues));
    if (behaviour.credits < spec.price) {
      return sendJson(res, 402, problem(402, 'Insufficient credit', 'You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.'));
    }
    behaviour.credits = Math.round((behaviour.credits - spec.price) * 1000) / 1000;
    createTimes.push(t);

    const prompt = issues.value.prompt.toLowerCase();
    const outcome: PredictionOutcome = outcomes.shift() ?? (behaviour.moderationTriggers.some((w) => prompt.includes(w.toLowerCase())) ? { kind: 'moderated' } : { kind: 'succeeded' });
    const p: FakePrediction = {
      id: newId(), model, input: body.input as Record<string, unknown>, validated: issues.value,
      seed: issues.value.seed ?? randomInt(0, 2 ** 31), createdAt: t, startingMs: behaviour.startingMs, processingMs: behaviour.processingMs,
      outputTtlMs: behaviour.outputTtlMs, outcome, canceledAt: null,
      webhook: typeof webhook === 'string' ? webhook : null,
      webhookEventsFilter: Array.isArray(filter) ? (filter as WebhookEvent[]) : null,
      outputToken: randomBytes(18).toString('base64url'), progressLogs: behaviour.progressLogs, image: null, downloads: 0,
    };
    predictions.set(p.id, p);
    hooks.register(p);
    if (wait !== null) {
      // Hold the request until the prediction finishes or the wait is over (Prefer: wait semantics).
      const holdUntil = Date.now() + wait * behaviour.syncWaitScale;
      while (!TERMINAL_STATUSES.includes(String(viewPrediction(p, now(), urls).status)) && Date.now() < holdUntil) {
        await sleep(Math.min(10, Math.max(1, holdUntil - Date.now())));
      }
    }
    sendJson(res, 201, viewPrediction(p, now(), urls));
  };

  const handlePrediction = (route: 'get' | 'cancel', id: string, req: IncomingMessage, res: ServerResponse): void => {
    if (!isAuthorised(req, res)) return;
    const p = predictions.get(id);
    if (!p) return sendJson(res, 404, problem(404, 'Not found', 'The requested resource could not be found.'));
    if (route === 'cancel') {
      const end = terminalAt(p);
      if (end === null || now() < end) p.canceledAt = now();
    }
    sendJson(res, 200, viewPrediction(p, now(), urls));
  };

  const handleDelivery = async (rec: RecordedRequest<ReplicateListener>, res: ServerResponse): Promise<void> => {
    const match = /^\/xezq\/([\w-]+)\/out-0\.(webp|jpg|png)$/.exec(rec.path);
    const p = match ? [...predictions.values()].find((x) => x.outputToken === match[1]) : undefined;
    const view = p ? viewPrediction(p, now(), urls) : undefined;
    const expires = p ? outputExpiresAt(p) : null;
    if (!p || !view || view.status !== 'succeeded' || expires === null || now() >= expires || match?.[2] !== p.validated.outputFormat) {
      return sendBytes(res, behaviour.expiredOutputStatus, 'Not Found', 'text/plain');
    }
    p.downloads += 1;
    const { width, height, outputFormat } = p.validated;
    p.image ??= renderSample(width, height, outputFormat === 'jpg' ? 'jpeg' : outputFormat, p.seed);
    sendBytes(res, 200, await p.image, OUTPUT_CONTENT_TYPES[outputFormat]);
  };

  const route = (listener: ReplicateListener, method: string, path: string): ReplicateRoute | 'not_found' | 'method_not_allowed' => {
    if (listener === 'delivery') return method === 'GET' ? 'delivery' : 'method_not_allowed';
    const table: [RegExp, ReplicateRoute, string][] = [
      [/^\/v1\/models\/[^/]+\/[^/]+\/predictions$/, 'create', 'POST'],
      [/^\/v1\/predictions\/[^/]+\/cancel$/, 'cancel', 'POST'],
      [/^\/v1\/predictions\/[^/]+$/, 'get', 'GET'],
      [/^\/v1\/predictions$/, method === 'POST' ? 'create' : 'list', method === 'POST' ? 'POST' : 'GET'],
      [/^\/v1\/webhooks\/default\/secret$/, 'secret', 'GET'],
      [/^\/v1\/account$/, 'account', 'GET'],
    ];
    for (const [pattern, r, m] of table) if (pattern.test(path)) return method === m ? r : 'method_not_allowed';
    return 'not_found';
  };

  const handler = (listener: ReplicateListener) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      hooks.tick();
      const parsed = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const rawBody = await readBody(req, MAX_BODY_BYTES);
      const json = rawBody === '' ? undefined : parseJson(rawBody);
      const rec: RecordedRequest<ReplicateListener> = {
        listener, method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), headers: req.headers,
        rawBody, body: json?.ok ? json.value : undefined, at: now(),
      };
      requests.push(rec);
      const r = route(listener, method, rec.path);
      if (r === 'not_found') return sendJson(res, 404, problem(404, 'Not found', 'The requested resource could not be found.'));
      if (r === 'method_not_allowed') return sendJson(res, 405, problem(405, 'Method not allowed', `${method} is not allowed here`));
      const script = scripts[r].shift();
      if (script) {
        if (script.delayMs) await sleep(script.delayMs);
        if (script.destroySocket) return void req.socket.destroy();
        if (script.status !== undefined) return sendScripted(res, script.status, script);
      }
      const segments = rec.path.split('/').map(decodeURIComponent);
      switch (r) {
        case 'create': return await handleCreate(segments.length === 3 ? versionModel(rec.body) : `${segments[3]}/${segments[4]}`, rec, req, res);
        case 'get':
        case 'cancel': return handlePrediction(r, segments[3] ?? '', req, res);
        case 'delivery': return await handleDelivery(rec, res);
        case 'list':
          if (!isAuthorised(req, res)) return;
          return sendJson(res, 200, { previous: null, next: null, results: [...predictions.values()].reverse().map((p) => viewPrediction(p, now(), urls)) });
        case 'secret':
          if (isAuthorised(req, res)) sendJson(res, 200, { key: secret });
          return;
        case 'account':
          if (isAuthorised(req, res)) sendJson(res, 200, { type: 'organization', username: 'atelier-fake', name: 'Atelier (fake)', github_url: null });
          return;
      }
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLargeError) return sendJson(res, 413, problem(413, 'Request Entity Too Large', 'The request body is too large'));
      sendJson(res, 500, problem(500, 'Internal Server Error', 'An unexpected error occurred'));
    }
  };

  const api = await listenOnLoopback(handler('api'));
  const delivery = await listenOnLoopback(handler('delivery'));
  urls.api = api.url;
  urls.delivery = delivery.url;

  return {
    url: api.url,
    deliveryUrl: delivery.url,
    apiToken,
    get webhookSecret() {
      return secret;
    },
    requests,
    predictions,
    webhookDeliveries: hooks.deliveries,
    behaviour,
    setScenario: (p) => void Object.assign(behaviour, p),
    scriptNext: (r, response, times = 1) => { for (let i = 0; i < times; i++) scripts[r].push(response); },
    nextOutcome: (outcome, times = 1) => { for (let i = 0; i < times; i++) outcomes.push(outcome); },
    nextWebhookMode: (mode, times = 1) => { for (let i = 0; i < times; i++) hooks.modes.push(mode); },
    rotateWebhookSecret: () => (secret = newWebhookSecret()),
    requestsTo: (r) => requests.filter((q) => route(q.listener, q.method, q.path) === r),
    settleWebhooks: () => hooks.settle(),
    reset: () => {
      requests.length = 0;
      outcomes.length = 0;
      hooks.modes.length = 0;
      for (const q of Object.values(scripts)) q.length = 0;
    },
    close: async () => {
      await hooks.close();
      await Promise.all([api.close(), delivery.close()]);
    },
  };
}

/**
 * POST /v1/predictions names the model in `version`: "owner/name", "owner/name:versionId" or a bare
 * 64-character id (since 2025-08-05). The fake knows models, not versions: any version id is accepted
 * and a bare id is an unknown model.
 */
function versionModel(body: unknown): string {
  const version = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).version : undefined;
  return typeof version === 'string' ? (version.split(':')[0] ?? '') : '';
}
