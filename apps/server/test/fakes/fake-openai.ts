import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_TYPES, renderSample } from './fake-bfl-image.ts';
import { BodyTooLargeError, listenOnLoopback, sendBytes, sendJson, sleep } from './fake-bfl-http.ts';
import { envelope, openAiErrors } from './fake-openai-errors.ts';
import type { ScriptedResponse } from './fake-openai-errors.ts';
import { bearerToken, parseBody, readRawBody, sendScripted } from './fake-openai-http.ts';
import type { RecordedOpenAiRequest } from './fake-openai-http.ts';
import { validateImagesRequest } from './fake-openai-spec.ts';
import type { ImagesSubmission, OpenAiError, SpecRules } from './fake-openai-spec.ts';

export { openAiErrors, openAiFaults } from './fake-openai-errors.ts';
export type { ScriptedResponse } from './fake-openai-errors.ts';
export type { RecordedOpenAiRequest, RecordedForm } from './fake-openai-http.ts';
export type { ImagesSubmission } from './fake-openai-spec.ts';

/**
 * A contract-faithful OpenAI-compatible Images API on loopback (../shared/research/providers.md §5):
 * `POST /v1/images/generations` (JSON), `POST /v1/images/edits` (multipart, `image` repeated or
 * `image[]`), `GET /v1/models`, Bearer auth, OpenAI's error envelope, and `url` results served from the
 * fake's own origin under `/blob/…` with a signed expiry, like DALL·E's blob-storage URLs (60 min) or a
 * FLUX gateway passing BFL's 10-minute delivery URLs through. The API is synchronous: the answer comes
 * after `processingMs`. There are no webhooks and no task ids in this API.
 */

export type OpenAiRoute = 'generations' | 'edits' | 'models' | 'download';

/** How the next accepted request ends, instead of a normal result. */
export type FakeOpenAiOutcome =
  | { kind: 'moderated'; code?: 'content_policy_violation' | 'moderation_blocked' }
  /** A `url` result whose URL has already expired when anyone fetches it. */
  | { kind: 'url_expired' };

export interface FakeOpenAiBehaviour extends SpecRules {
  /** Time a generation takes before the synchronous answer. */
  processingMs: number;
  /** Lifetime of a `url` result (DALL·E: 60 min; gateways passing BFL URLs: 10 min). */
  urlTtlMs: number;
  /** What blob storage answers for an expired or forged URL. */
  expiredUrlStatus: 403 | 404;
  /** Models listed by /v1/models and accepted; others answer 404 model_not_found. */
  models: string[];
  /** Case-insensitive prompt substrings refused by the safety system (400 content_policy_violation / moderation_blocked). */
  moderationTriggers: string[];
  /** Images the account can still pay for; below `n`, answers 429 insufficient_quota. null = unlimited. */
  quotaImages: number | null;
  /** Images-per-minute limit (429 rate_limit_exceeded with Retry-After); null = none. */
  imagesPerMinute: number | null;
}

export interface FakeOpenAiOptions extends Partial<FakeOpenAiBehaviour> {
  apiKey?: string;
  /** Clock for URL expiry and rate windows. */
  now?: () => number;
}

export interface FakeUrlResult {
  id: string;
  submission: ImagesSubmission;
  seed: number;
  expiresAt: number;
  sig: string;
  image: Promise<Buffer>;
  downloads: number;
}

export interface FakeOpenAi {
  /** The base URL clients use, including /v1 (OpenAI's convention). */
  url: string;
  origin: string;
  apiKey: string;
  requests: RecordedOpenAiRequest[];
  /** Every accepted submission, in order. */
  submissions: ImagesSubmission[];
  urlResults: ReadonlyMap<string, FakeUrlResult>;
  readonly behaviour: Readonly<FakeOpenAiBehaviour>;
  setScenario(patch: Partial<FakeOpenAiBehaviour>): void;
  /** Answer the next `times` requests to `route` this way, in order. */
  scriptNext(route: OpenAiRoute, response: ScriptedResponse, times?: number): void;
  nextOutcome(outcome: FakeOpenAiOutcome, times?: number): void;
  requestsTo(route: OpenAiRoute): RecordedOpenAiRequest[];
  /** Forget recorded requests, scripts and outcomes. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: FakeOpenAiBehaviour = {
  processingMs: 20,
  urlTtlMs: 60 * 60_000,
  expiredUrlStatus: 403,
  models: ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'dall-e-2', 'dall-e-3', 'flux-2-pro', 'flux-2-klein-4b', 'stablediffusion'],
  moderationTriggers: ['moderate-request'],
  quotaImages: null,
  imagesPerMinute: null,
  rejectResponseFormatForGptImage: true,
  gatewayMaxImages: 8,
};

const MAX_BODY_BYTES = 200 * 1024 * 1024;
const sendError = (res: ServerResponse, e: OpenAiError, headers: Record<string, string> = {}) => sendJson(res, e.status, { error: e.error }, headers);

/** gpt-image's token accounting, roughly: output tokens grow with quality and pixels. */
function usageOf(s: ImagesSubmission) {
  const perMp = { low: 272, medium: 1056, high: 4160, auto: 4160 }[s.quality] ?? 4160;
  const textTokens = Math.ceil(s.prompt.length / 4);
  const imageTokens = s.images.length * 323;
  const outputTokens = Math.round((perMp * s.width * s.height * s.n) / (1024 * 1024));
  return { input_tokens: textTokens + imageTokens, input_tokens_details: { image_tokens: imageTokens, text_tokens: textTokens }, output_tokens: outputTokens, total_tokens: textTokens + imageTokens + outputTokens };
}

export async function startFakeOpenAi(opts: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const { apiKey = `sk-fake-${randomBytes(18).toString('hex')}`, now = Date.now, ...patch } = opts;
  const behaviour: FakeOpenAiBehaviour = { ...DEFAULTS, ...patch };
  const requests: RecordedOpenAiRequest[] = [];
  const submissions: ImagesSubmission[] = [];
  const urlResults = new Map<string, FakeUrlResult>();
  const scripts: Record<OpenAiRoute, ScriptedResponse[]> = { generations: [], edits: [], models: [], download: [] };
  const outcomes: FakeOpenAiOutcome[] = [];
  const accepted: number[] = []; // timestamps of generated images, for imagesPerMinute
  let origin = '';

  const authError = (rec: RecordedOpenAiRequest): OpenAiError | null => {
    const token = bearerToken(rec.headers);
    if (token === null) return openAiErrors.missingKey();
    return token === apiKey ? null : openAiErrors.wrongKey(token);
  };

  const handleImages = async (route: 'generations' | 'edits', rec: RecordedOpenAiRequest, res: ServerResponse): Promise<void> => {
    let fields: Record<string, unknown>;
    const files = rec.form?.files ?? [];
    if (route === 'generations') {
      if (rec.json === undefined || typeof rec.json !== 'object' || rec.json === null || Array.isArray(rec.json)) return sendError(res, openAiErrors.invalidJson());
      fields = rec.json as Record<string, unknown>;
    } else {
      if (!rec.form) return sendError(res, envelope(400, "Invalid Content-Type header (application/json), expected multipart/form-data. (HINT: If you're using curl, you can pass -F 'key=value' to send multipart/form-data.)", 'invalid_request_error', null));
      fields = Object.fromEntries(Object.entries(rec.form.fields).map(([k, v]) => [k, v.at(-1)]));
      for (const f of files) fields[f.field] ??= '[file]';
    }
    const images = files.filter((f) => f.field === 'image' || f.field === 'image[]');
    const mask = files.find((f) => f.field === 'mask') ?? null;
    const model = typeof fields.model === 'string' ? fields.model : null;
    if (model !== null && !behaviour.models.includes(model)) return sendError(res, openAiErrors.modelNotFound(model));
    const checked = validateImagesRequest(route, fields, images, mask, behaviour);
    if (!checked.ok) return sendError(res, checked.error);
    const s = checked.value;

    const t = now();
    while (accepted.length > 0 && (accepted[0] ?? 0) <= t - 60_000) accepted.shift();
    if (behaviour.imagesPerMinute !== null && accepted.length + s.n > behaviour.imagesPerMinute) {
      const wait = Math.max(1, Math.ceil(((accepted[0] ?? t) + 60_000 - t) / 1000));
      return sendError(res, openAiErrors.rateLimited(s.model, wait), { 'retry-after': String(wait), 'x-ratelimit-remaining-requests': '0' });
    }
    if (behaviour.quotaImages !== null && behaviour.quotaImages < s.n) return sendError(res, openAiErrors.insufficientQuota());

    await sleep(behaviour.processingMs);
    const outcome = outcomes.shift();
    const prompt = s.prompt.toLowerCase();
    if (outcome?.kind === 'moderated' || behaviour.moderationTriggers.some((w) => prompt.includes(w.toLowerCase()))) {
      const code = outcome?.kind === 'moderated' && outcome.code ? outcome.code : s.family === 'gpt-image' ? 'moderation_blocked' : 'content_policy_violation';
      return sendError(res, code === 'moderation_blocked' ? openAiErrors.moderationBlocked() : openAiErrors.contentPolicy());
    }
    submissions.push(s);
    for (let i = 0; i < s.n; i++) accepted.push(t);
    if (behaviour.quotaImages !== null) behaviour.quotaImages -= s.n;

    const data = await Promise.all(
      Array.from({ length: s.n }, async (_, i) => {
        const seed = s.seed ?? Math.floor(Math.random() * 2 ** 31) + i;
        const revised = s.family === 'dall-e-3' ? { revised_prompt: `A detailed rendering of ${s.prompt}` } : {};
        if (s.responseFormat === 'b64_json') {
          return { b64_json: (await renderSample(s.width, s.height, s.outputFormat, seed)).toString('base64'), ...revised };
        }
        const id = randomUUID();
        const expiresAt = outcome?.kind === 'url_expired' ? now() : now() + behaviour.urlTtlMs;
        const sig = randomBytes(16).toString('base64url');
        urlResults.set(id, { id, submission: s, seed, expiresAt, sig, image: renderSample(s.width, s.height, s.outputFormat, seed), downloads: 0 });
        const se = encodeURIComponent(new Date(expiresAt).toISOString());
        return { url: `${origin}/blob/img-${id}.${s.outputFormat === 'jpeg' ? 'jpg' : s.outputFormat}?se=${se}&sp=r&sig=${sig}`, ...revised };
      }),
    );
    const created = Math.floor(t / 1000);
    if (s.family === 'gpt-image') {
      return sendJson(res, 200, { created, background: s.background === 'transparent' ? 'transparent' : 'opaque', data, output_format: s.outputFormat, quality: s.quality === 'auto' ? 'high' : s.quality, size: s.size === 'auto' ? '1024x1024' : s.size, usage: usageOf(s) });
    }
    sendJson(res, 200, { created, data });
  };

  const handleDownload = async (rec: RecordedOpenAiRequest, res: ServerResponse): Promise<void> => {
    const m = /^\/blob\/img-([0-9a-f-]+)\.(png|jpg|webp)$/.exec(rec.path);
    const result = m?.[1] ? urlResults.get(m[1]) : undefined;
    const denied = (message: string) =>
      sendBytes(res, behaviour.expiredUrlStatus, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>${message}</Message></Error>`, 'application/xml');
    if (!result || rec.query.sig !== result.sig) return denied('Signature did not match');
    if (now() >= result.expiresAt) return denied('Signed expiry time has passed');
    result.downloads += 1;
    sendBytes(res, 200, await result.image, CONTENT_TYPES[result.submission.outputFormat]);
  };

  const routeOf = (method: string, path: string): OpenAiRoute | 'not_found' => {
    if (method === 'POST' && path === '/v1/images/generations') return 'generations';
    if (method === 'POST' && path === '/v1/images/edits') return 'edits';
    if (method === 'GET' && path === '/v1/models') return 'models';
    if (method === 'GET' && path.startsWith('/blob/')) return 'download';
    return 'not_found';
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const parsed = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const rawBody = await readRawBody(req, MAX_BODY_BYTES);
      const body = await parseBody(req.headers['content-type'] ?? '', rawBody);
      const rec: RecordedOpenAiRequest = { method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), headers: req.headers, rawBody, ...body, at: now() };
      requests.push(rec);
      const route = routeOf(method, rec.path);
      if (route === 'not_found') return sendError(res, openAiErrors.notFound(method, rec.path));
      const script = scripts[route].shift();
      if (script) {
        if (script.delayMs) await sleep(script.delayMs);
        if (script.destroySocket) return void req.socket.destroy();
        if (script.status !== undefined) return sendScripted(res, script.status, script);
      }
      if (route === 'download') return await handleDownload(rec, res);
      const denied = authError(rec);
      if (denied) return sendError(res, denied);
      if (route === 'models') {
        return sendJson(res, 200, { object: 'list', data: behaviour.models.map((id) => ({ id, object: 'model', created: 1_698_785_189, owned_by: 'system' })) });
      }
      await handleImages(route, rec, res);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLargeError) return sendError(res, envelope(413, 'Request entity too large', 'invalid_request_error', null));
      sendError(res, openAiErrors.server(500));
    }
  };

  const listening = await listenOnLoopback((req, res) => void handler(req, res));
  origin = listening.url;

  return {
    url: `${origin}/v1`,
    origin,
    apiKey,
    requests,
    submissions,
    urlResults,
    behaviour,
    setScenario: (p) => void Object.assign(behaviour, p),
    scriptNext: (r, response, times = 1) => { for (let i = 0; i < times; i++) scripts[r].push(response); },
    nextOutcome: (outcome, times = 1) => { for (let i = 0; i < times; i++) outcomes.push(outcome); },
    requestsTo: (r) => requests.filter((q) => routeOf(q.method, q.path) === r),
    reset: () => {
      requests.length = 0;
      outcomes.length = 0;
      for (const q of Object.values(scripts)) q.length = 0;
    },
    close: () => listening.close(),
  };
}
