import { createHash, randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineHandle, EngineHealth, EngineRequest, EngineResult, EngineStatus, ImageEngine, ReferenceImage, SubmitResult } from '#src/adapters/providers/engine.ts';
import { DEFAULT_MODELS, buildGraph, graphParameters, isTemplateName } from './comfyui-graphs.ts';
import type { ComfyTemplateName, TemplateModels } from './comfyui-graphs.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, authorizationFor, comfyFetch, comfyJson, errorFromResponse, normaliseServerUrl } from './comfyui-http.ts';
import { readCapped, resultTooLarge } from '../engine-http.ts';
import type { ComfyHttpConfig, ComfyUiAuth } from './comfyui-http.ts';
import { createServerSocket } from './comfyui-socket.ts';
import type { ServerSocket, WebSocketConstructor } from './comfyui-socket.ts';
import { historyEntryOf, queuePlace, queueRemaining, statusFromHistory } from './comfyui-status.ts';

/**
 * Self-hosted ComfyUI servers as an ImageEngine (providers.md §4): pick the server with the shortest
 * queue → upload references → `POST /prompt` with a FLUX.2 graph built in code → progress from the
 * WebSocket, the result from `/history/{id}` → download from `/view`. ComfyUI has no webhooks, no
 * moderation and no billing.
 */

export interface ComfyUiEngineOptions {
  /** Base URLs of one or more ComfyUI servers (a path prefix behind a proxy is fine). */
  urls: readonly string[];
  /** Model file names per template, overriding `DEFAULT_MODELS` (e.g. an fp16 UNet on a big GPU). */
  models?: Partial<Record<ComfyTemplateName, Partial<TemplateModels>>>;
  /** For servers behind an authenticating reverse proxy; ComfyUI itself has none. */
  auth?: ComfyUiAuth;
  fetch?: typeof fetch;
  /** Per HTTP request (probe, upload, submit, one poll, one download); default 30 s. */
  requestTimeoutMs?: number;
  /** The queue-length probe that picks a server; a server slower than this is skipped. Default 5 s. */
  probeTimeoutMs?: number;
  /** WebSocket implementation for progress (default: Node's global); null disables the socket. */
  WebSocket?: WebSocketConstructor | null;
  /** An idle progress socket (nothing in flight) is closed after this long; default 60 s. */
  socketIdleMs?: number;
  /** SaveImage filename_prefix; the part before a "/" is a subfolder of the server's output folder. */
  filenamePrefix?: string;
  /** Largest result accepted; default 50 MB. */
  maxResultBytes?: number;
}

export interface ComfyUiEngine extends ImageEngine {
  /** Closes the progress sockets (at shutdown; also in tests). */
  close(): void;
}

const DEFAULT_MAX_RESULT_BYTES = 50 * 1024 * 1024;
const submitResponseSchema = z.object({ prompt_id: z.string().min(1), number: z.number().optional() });
const uploadResponseSchema = z.object({ name: z.string().min(1), subfolder: z.string().catch('') });
const systemStatsSchema = z.object({
  system: z.object({ comfyui_version: z.string().optional() }).partial().catch({}),
  devices: z.array(z.object({ name: z.string().optional() }).partial()).catch([]),
});
const REFERENCE_TYPES = { png: ['png', 'image/png'], jpeg: ['jpg', 'image/jpeg'], webp: ['webp', 'image/webp'] } as const;

export function createComfyUiEngine(opts: ComfyUiEngineOptions): ComfyUiEngine {
  const servers = [...new Set(opts.urls.map(normaliseServerUrl))];
  if (servers.length === 0) throw new Error('ComfyUI engine needs at least one server URL');
  const cfg: ComfyHttpConfig = {
    fetch: opts.fetch ?? globalThis.fetch,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...authorizationFor(opts.auth),
  };
  const probeTimeoutMs = Math.min(opts.probeTimeoutMs ?? 5000, cfg.requestTimeoutMs);
  const maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const filenamePrefix = opts.filenamePrefix ?? 'atelier/flux2';
  // One opaque id per engine instance: ComfyUI routes a prompt's WebSocket events by it. It says
  // nothing about our users or generations.
  const clientId = randomUUID().replaceAll('-', '');
  const WebSocketImpl = opts.WebSocket === undefined ? globalThis.WebSocket : opts.WebSocket;
  const sockets = new Map<string, ServerSocket>();
  let rotation = 0;

  const socketFor = (server: string): ServerSocket | null => {
    if (!WebSocketImpl) return null;
    let socket = sockets.get(server);
    if (!socket) {
      socket = createServerSocket({ server, clientId, WebSocket: WebSocketImpl, authorization: cfg.authorization, idleMs: opts.socketIdleMs ?? 60_000 });
      sockets.set(server, socket);
    }
    return socket;
  };

  const modelsFor = (template: ComfyTemplateName): TemplateModels => ({ ...DEFAULT_MODELS[template], ...opts.models?.[template] });

  /** The configured server a handle belongs to: `extra.server`, else the polling URL (older handles). */
  const serverOf = (handle: EngineHandle): string | null => {
    const raw = handle.extra?.server ?? handle.pollingUrl?.replace(/\/history\/[^/]*$/, '') ?? (servers.length === 1 ? servers[0] : undefined);
    if (raw === undefined || !URL.canParse(raw)) return null;
    const server = normaliseServerUrl(raw);
    return servers.includes(server) ? server : null;
  };

  /** The shortest queue (`GET /prompt` → exec_info.queue_remaining); ties rotate so idle servers share. */
  const pickServer = async (signal: AbortSignal | undefined): Promise<string> => {
    if (servers.length === 1) return servers[0]!;
    type Probe = { server: string; queue: number; error: null } | { server: string; queue: null; error: EngineError };
    const probes = await Promise.all(servers.map(async (server): Promise<Probe> => {
      try {
        const body = await comfyJson(cfg, new URL(`${server}/prompt`), { method: 'GET', timeoutMs: probeTimeoutMs }, 'queue probe', signal);
        const queue = queueRemaining(body);
        if (queue === null) return { server, queue, error: new EngineError('engine_unavailable', `ComfyUI at ${server} answered the queue probe with an unexpected body`, { retryable: true }) };
        return { server, queue, error: null };
      } catch (err) {
        if (err instanceof EngineError) return { server, queue: null, error: err };
        throw err;
      }
    }));
    const up = probes.flatMap((p) => (p.error === null ? [p] : []));
    const shortest = Math.min(...up.map((p) => p.queue));
    const candidates = up.filter((p) => p.queue === shortest);
    if (candidates.length > 0) return candidates[rotation++ % candidates.length]!.server;
    const failed = probes.flatMap((p) => (p.error === null ? [] : [p]));
    const errors = failed.map((p) => p.error);
    if (errors.every((e) => !e.retryable)) throw errors[0]!;
    const waits = errors.map((e) => e.retryAfterMs).filter((ms): ms is number => ms !== null);
    throw new EngineError('engine_unavailable', `No ComfyUI server is reachable: ${failed.map((p) => `${p.server}: ${p.error.message}`).join('; ')}`, {
      retryable: true,
      retryAfterMs: waits.length > 0 ? Math.min(...waits) : null,
    });
  };

  /** Uploads under a content-hash name: nothing about the user or the generation reaches the server. */
  const upload = async (server: string, ref: ReferenceImage, signal: AbortSignal | undefined): Promise<string> => {
    const [ext, mime] = REFERENCE_TYPES[ref.format];
    const name = `atelier-${createHash('sha256').update(ref.bytes).digest('hex').slice(0, 32)}.${ext}`;
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(ref.bytes)], { type: mime }), name);
    form.append('overwrite', 'true'); // same name ⇒ same bytes, so overwriting is harmless
    form.append('type', 'input');
    const parsed = uploadResponseSchema.safeParse(await comfyJson(cfg, new URL(`${server}/upload/image`), { method: 'POST', form }, 'reference upload', signal));
    if (!parsed.success) throw new EngineError('engine_error', 'ComfyUI answered the reference upload without a file name', { retryable: true });
    return parsed.data.subfolder ? `${parsed.data.subfolder}/${parsed.data.name}` : parsed.data.name;
  };

  const getJson = (server: string, path: string, what: string, signal?: AbortSignal) => comfyJson(cfg, new URL(`${server}${path}`), { method: 'GET' }, what, signal);

  return {
    id: 'comfyui',
    label: 'ComfyUI',
    acceptsWebhooks: false,

    async submit(request: EngineRequest, signal?: AbortSignal): Promise<SubmitResult> {
      const template = request.engineModel;
      if (!isTemplateName(template)) {
        throw new EngineError('engine_rejected_request', `"${template}" is not a ComfyUI template of this server (flux2-dev, flux2-klein-4b, flux2-klein-9b)`, { retryable: false });
      }
      graphParameters(template, request.parameters); // a bad parameter fails before any server is touched
      const server = await pickServer(signal);
      socketFor(server)?.open();
      const referenceNames: string[] = [];
      for (const ref of request.references) referenceNames.push(await upload(server, ref, signal));
      const seed = request.seed ?? randomInt(0, 2 ** 32);
      const graph = buildGraph({ template, models: modelsFor(template), prompt: request.prompt, width: request.width, height: request.height, seed, parameters: request.parameters, referenceNames, filenamePrefix });
      const raw = await comfyJson(cfg, new URL(`${server}/prompt`), { method: 'POST', json: { prompt: graph, client_id: clientId } }, 'submit', signal);
      const parsed = submitResponseSchema.safeParse(raw);
      if (!parsed.success) {
        // Not retryable: the prompt may be queued; a resubmit would run it twice.
        throw new EngineError('engine_error', 'ComfyUI accepted the prompt but its answer had no prompt_id', { retryable: false });
      }
      const promptId = parsed.data.prompt_id;
      socketFor(server)?.track(promptId);
      return { requestId: promptId, pollingUrl: `${server}/history/${encodeURIComponent(promptId)}`, extra: { server, seed: String(seed) }, cost: null };
    },

    watch(handle: EngineHandle, onChange: () => void): () => void {
      const server = serverOf(handle);
      return (server && socketFor(server)?.subscribe(handle.requestId, onChange)) || (() => undefined);
    },

    async poll(handle: EngineHandle, request: EngineRequest, signal?: AbortSignal): Promise<EngineStatus> {
      const server = serverOf(handle);
      if (!server) {
        return { state: 'failed', code: 'engine_error', retryable: false, detail: 'The ComfyUI server this prompt was sent to is no longer configured' };
      }
      const promptId = handle.requestId;
      const socket = socketFor(server);
      socket?.track(promptId);
      const extraSeed = Number(handle.extra?.seed);
      const fallbackSeed = Number.isSafeInteger(extraSeed) && handle.extra?.seed !== '' ? extraSeed : request.seed;
      const historyPath = `/history/${encodeURIComponent(promptId)}`;
      const finished = async (): Promise<EngineStatus | null> => {
        const entry = historyEntryOf(await getJson(server, historyPath, 'poll', signal), promptId);
        if (!entry) return null;
        socket?.forget(promptId);
        return statusFromHistory(entry, server, fallbackSeed);
      };

      const done = await finished();
      if (done) return done;
      const events = socket?.get(promptId);
      // While the socket is up and the prompt is running, its events are the whole story.
      if (events?.state === 'running' && socket?.isOpen()) return { state: 'pending', progress: events.progress };
      // Otherwise (socket down, prompt still queued, or an event said it ended) ask the queue.
      const place = queuePlace(await getJson(server, '/queue', 'queue', signal), promptId);
      if (place !== 'absent') return { state: 'pending', progress: place === 'running' ? (events?.progress ?? null) : null };
      // It may have finished between the two reads.
      const late = await finished();
      if (late) return late;
      socket?.forget(promptId);
      return {
        state: 'failed',
        code: 'engine_error',
        // A restarted server forgets its queue and history; a fresh submit will work.
        retryable: true,
        detail: `The ComfyUI server no longer knows prompt ${promptId} (restarted, or its queue was cleared)`,
      };
    },

    async fetchResult(result: EngineResult, signal?: AbortSignal): Promise<Buffer> {
      if (result.kind === 'bytes') return result.bytes;
      const url = new URL(result.url);
      // Credentials only go to a configured server, never to a URL from elsewhere.
      const sendAuth = servers.some((s) => url.href.startsWith(`${s}/`));
      return comfyFetch(cfg, url, { method: 'GET', sendAuth, accept: 'image/*' }, 'result download', signal, async (res) => {
        // /view answers 404 once the file is gone from the output folder (cleaned up, or another server).
        if (res.status === 404 || res.status === 410) {
          await res.body?.cancel();
          throw new EngineError('result_expired', `ComfyUI no longer has the result file (HTTP ${res.status})`, { retryable: false, httpStatus: res.status });
        }
        if (!res.ok) throw errorFromResponse(res.status, res.headers, undefined, await res.text(), 'result download', cfg.secrets);
        const type = res.headers.get('content-type') ?? '';
        if (!type.toLowerCase().startsWith('image/')) {
          await res.body?.cancel();
          throw new EngineError('invalid_output', `ComfyUI result is not an image (content-type "${type || 'none'}")`, { retryable: false });
        }
        const bytes = await readCapped(res, maxResultBytes, resultTooLarge('ComfyUI', maxResultBytes));
        if (bytes.length === 0) throw new EngineError('invalid_output', 'ComfyUI result is empty', { retryable: false });
        return bytes;
      });
    },

    /**
     * A running prompt is interrupted with `POST /interrupt {prompt_id}`, a queued one deleted with
     * `POST /queue {delete}`. The queue is read first: servers older than the targeted interrupt treat
     * any /interrupt as global and would stop whatever is running, possibly someone else's prompt.
     */
    async cancel(handle: EngineHandle): Promise<void> {
      const server = serverOf(handle);
      if (!server) return;
      const promptId = handle.requestId;
      sockets.get(server)?.forget(promptId);
      const post = (path: string, json: unknown, what: string) => comfyJson(cfg, new URL(`${server}${path}`), { method: 'POST', json }, what, undefined);
      const place = queuePlace(await getJson(server, '/queue', 'queue'), promptId);
      if (place === 'pending') await post('/queue', { delete: [promptId] }, 'cancel');
      if (place === 'running') await post('/interrupt', { prompt_id: promptId }, 'cancel');
    },

    async health(signal?: AbortSignal): Promise<EngineHealth> {
      const results = await Promise.all(servers.map(async (server) => {
        try {
          const stats = systemStatsSchema.safeParse(await getJson(server, '/system_stats', 'health check', signal));
          const version = stats.success ? stats.data.system.comfyui_version : undefined;
          const device = stats.success ? stats.data.devices[0]?.name : undefined;
          return { ok: true, text: `${server}: up${version ? ` (ComfyUI ${version}${device ? `, ${device}` : ''})` : ''}` };
        } catch (err) {
          if (!(err instanceof EngineError)) throw err;
          return { ok: false, text: `${server}: ${err.message}` };
        }
      }));
      const up = results.filter((r) => r.ok).length;
      // Submits skip unreachable servers, so the engine works while any one is up.
      return { reachable: up > 0, detail: `${up}/${servers.length} servers reachable. ${results.map((r) => r.text).join('; ')}` };
    },

    close() {
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
    },
  };
}
