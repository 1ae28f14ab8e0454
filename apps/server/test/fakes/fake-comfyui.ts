import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { BodyTooLargeError, listenOnLoopback, parseJson, sendBytes, sendJson, sleep } from './fake-bfl-http.ts';
import { createExecutor } from './fake-comfyui-exec.ts';
import type { ExecutorBehaviour, HistoryEntry, PromptOutcome, QueueItem } from './fake-comfyui-exec.ts';
import { STATUS_TEXT, parseMultipart, readBodyBuffer, sendEmpty, sendScripted, sendText } from './fake-comfyui-http.ts';
import type { ComfyRecordedRequest, ComfyRoute, ScriptedResponse } from './fake-comfyui-http.ts';
import { validatePrompt } from './fake-comfyui-nodes.ts';
import type { FakeComfyContext } from './fake-comfyui-nodes.ts';

export type { ComfyRecordedRequest, ComfyRoute, ScriptedResponse } from './fake-comfyui-http.ts';
export type { HistoryEntry, PromptOutcome } from './fake-comfyui-exec.ts';
export { comfyFaults } from './fake-comfyui-http.ts';

/**
 * A contract-faithful ComfyUI server on loopback (providers.md §4 and §7): the HTTP routes (also under
 * `/api`), graph validation with ComfyUI's error shapes, one prompt executing at a time with progress
 * events over `GET /ws?clientId=`, `/history`, `/view` serving real PNGs, `/upload/image` naming
 * rules, targeted interrupts and queue deletion. ComfyUI has no auth; `requireAuthorization` plays a
 * reverse proxy in front of it.
 */

export interface FakeComfyBehaviour extends ExecutorBehaviour {
  /** Exact Authorization header a proxy in front demands (401 otherwise); null = open, like ComfyUI. */
  requireAuthorization: string | null;
  /** Servers before the targeted interrupt (2025) stop whatever runs on any POST /interrupt. */
  targetedInterrupt: boolean;
  /** Upgrade requests to /ws are refused with 503 (socket down: clients must fall back to polling). */
  refuseWebSockets: boolean;
  models: FakeComfyContext['models'];
  /** --max-upload-size (default 100 MB). */
  maxUploadBytes: number;
}

export interface SentEvent { clientId: string | null; type: string; data: Record<string, unknown> }

export interface FakeComfyUi {
  url: string;
  requests: ComfyRecordedRequest[];
  /** Every WebSocket event the server sent (clientId null = broadcast). */
  events: SentEvent[];
  history: ReadonlyMap<string, HistoryEntry>;
  /** Uploaded input files by name. */
  inputs: ReadonlyMap<string, Buffer>;
  readonly behaviour: Readonly<FakeComfyBehaviour>;
  setScenario(patch: Partial<FakeComfyBehaviour>): void;
  scriptNext(route: ComfyRoute, response: ScriptedResponse, times?: number): void;
  nextPromptOutcome(outcome: PromptOutcome, times?: number): void;
  requestsTo(route: ComfyRoute): ComfyRecordedRequest[];
  queueState(): { running: string | null; pending: string[] };
  /** Queues `n` prompts from another client, making this server's queue longer. */
  enqueueForeign(n: number): void;
  /** Lets a prompt held by `holdAtStep` continue. */
  release(): void;
  /** Resolves once the server has sent `type` (for `promptId` when given). */
  waitForEvent(type: string, promptId?: string, timeoutMs?: number): Promise<SentEvent>;
  /** Forgets queue, history and outputs and drops its sockets, as a restarted server does. */
  restart(): void;
  dropWebSockets(): void;
  connectedClients(): string[];
  close(): Promise<void>;
}

const DEFAULT_MODELS: FakeComfyContext['models'] = {
  diffusion_models: ['flux2_dev_fp8mixed.safetensors', 'flux-2-klein-4b-fp8.safetensors', 'flux-2-klein-9b-fp8.safetensors'],
  text_encoders: ['mistral_3_small_flux2_bf16.safetensors', 'qwen_3_4b.safetensors', 'qwen_3_8b_fp8mixed.safetensors'],
  vae: ['flux2-vae.safetensors'],
};

const ROUTES: [RegExp, string, ComfyRoute][] = [
  [/^\/prompt$/, 'GET', 'queue_info'], [/^\/prompt$/, 'POST', 'prompt'], [/^\/queue$/, 'GET', 'queue'], [/^\/queue$/, 'POST', 'queue_edit'],
  [/^\/interrupt$/, 'POST', 'interrupt'], [/^\/history(\/[^/]+)?$/, 'GET', 'history'], [/^\/history$/, 'POST', 'history_edit'],
  [/^\/view$/, 'GET', 'view'], [/^\/upload\/image$/, 'POST', 'upload'], [/^\/system_stats$/, 'GET', 'system_stats'], [/^\/ws$/, 'GET', 'ws'],
];
const routeOf = (method: string, path: string): ComfyRoute | 'not_found' | 'method_not_allowed' => {
  const matches = ROUTES.filter(([re]) => re.test(path));
  if (matches.length === 0) return 'not_found';
  return matches.find(([, m]) => m === method)?.[2] ?? 'method_not_allowed';
};
const stripApi = (path: string) => (path === '/api' || path.startsWith('/api/') ? path.slice(4) || '/' : path);

export async function startFakeComfyUi(opts: Partial<FakeComfyBehaviour> = {}): Promise<FakeComfyUi> {
  const behaviour: FakeComfyBehaviour = {
    processingMs: 200, holdAtStep: null, paused: false, requireAuthorization: null, targetedInterrupt: true,
    refuseWebSockets: false, models: DEFAULT_MODELS, maxUploadBytes: 100 * 1024 * 1024, ...opts,
  };
  const requests: ComfyRecordedRequest[] = [];
  const events: SentEvent[] = [];
  const inputs = new Map<string, Buffer>();
  const scripts = new Map<ComfyRoute, ScriptedResponse[]>();
  const outcomes: PromptOutcome[] = [];
  const sockets = new Map<string, WebSocket>();
  const waiters = new Set<(e: SentEvent) => void>();
  let number = 0;

  const emit = (type: string, data: Record<string, unknown>, clientId: string | null) => {
    const event = { clientId, type, data };
    events.push(event);
    const frame = JSON.stringify({ type, data });
    // Like PromptServer.send_json: a broadcast, or only the socket whose sid is the prompt's client_id.
    for (const [sid, ws] of sockets) if (clientId === null || sid === clientId) ws.send(frame);
    for (const w of [...waiters]) w(event);
  };
  const queueInfo = () => ({ exec_info: { queue_remaining: executor.remaining() } });
  const executor = createExecutor(behaviour, emit, () => emit('status', { status: queueInfo() }, null));
  const ctx = (): FakeComfyContext => ({ models: behaviour.models, inputFiles: new Set(inputs.keys()) });
  const queueTuple = (q: QueueItem) => [q.number, q.promptId, q.graph, q.extraData, q.outputs];

  const enqueue = (graph: unknown, clientId: unknown, front: boolean, promptId?: string): { ok: true; id: string; number: number; nodeErrors: unknown } | { ok: false; body: unknown } => {
    const checked = validatePrompt(graph, ctx());
    if (!checked.ok) return { ok: false, body: { error: checked.error, node_errors: checked.nodeErrors } };
    const n = front ? -number : number;
    number += 1;
    const id = promptId ?? randomUUID();
    executor.put({ number: n, promptId: id, graph: checked.graph, extraData: typeof clientId === 'string' ? { client_id: clientId } : {}, outputs: checked.outputs, outcome: outcomes.shift() ?? { kind: 'success' } });
    return { ok: true, id, number: n, nodeErrors: checked.nodeErrors };
  };

  const handlePrompt = (rec: ComfyRecordedRequest, res: ServerResponse) => {
    const json = parseJson(rec.rawBody);
    // aiohttp's request.json() raising: an unhandled exception, so a bare 500.
    if (!json.ok || typeof json.value !== 'object' || json.value === null) return sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
    const body = json.value as Record<string, unknown>;
    if (!('prompt' in body)) return sendJson(res, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
    const result = enqueue(body.prompt, body.client_id, body.front === true, typeof body.prompt_id === 'string' ? body.prompt_id : undefined);
    if (!result.ok) return sendJson(res, 400, result.body);
    sendJson(res, 200, { prompt_id: result.id, number: result.number, node_errors: result.nodeErrors });
  };

  const handleUpload = async (rec: ComfyRecordedRequest, req: IncomingMessage, raw: Buffer, res: ServerResponse) => {
    const form = await parseMultipart(req.headers['content-type'] ?? '', raw);
    if (form) rec.form = { fields: form.fields, files: form.files.map(({ bytes: _bytes, ...f }) => f) };
    const file = form?.files.find((f) => f.field === 'image');
    if (!form || !file || !file.filename) return sendEmpty(res, 400);
    const type = form.fields.type ?? 'input';
    const subfolder = form.fields.subfolder ?? '';
    if (file.filename.includes('/') || file.filename.includes('..') || subfolder.includes('..')) return sendEmpty(res, 400);
    const key = (name: string) => (subfolder ? `${subfolder}/${name}` : name);
    const dot = file.filename.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [file.filename.slice(0, dot), file.filename.slice(dot)] : [file.filename, ''];
    let name = file.filename;
    const overwrite = form.fields.overwrite === 'true' || form.fields.overwrite === '1';
    // No overwrite: an identical file re-uses its name, a different one becomes "name (1).ext".
    for (let i = 1; !overwrite && inputs.has(key(name)) && !inputs.get(key(name))!.equals(file.bytes); i++) name = `${stem} (${i})${ext}`;
    inputs.set(key(name), file.bytes);
    sendJson(res, 200, { name, subfolder, type });
  };

  const handleView = async (rec: ComfyRecordedRequest, res: ServerResponse) => {
    const { filename, subfolder = '', type = 'output' } = rec.query;
    if (filename === undefined) return sendText(res, 404, '404: Not Found');
    if (filename.startsWith('/') || filename.includes('..')) return sendEmpty(res, 400);
    if (!['output', 'input', 'temp'].includes(type)) return sendEmpty(res, 400);
    if (subfolder.includes('..') || subfolder.startsWith('/')) return sendEmpty(res, 403);
    const file = type === 'input' ? inputs.get(subfolder ? `${subfolder}/${filename}` : filename) : type === 'output' ? await executor.files.get(`${subfolder}/${filename}`) : undefined;
    if (!file) return sendText(res, 404, '404: Not Found');
    res.setHeader('content-disposition', `filename="${filename}"`);
    sendBytes(res, 200, file, filename.endsWith('.png') ? 'image/png' : 'application/octet-stream');
  };

  const handle = async (rec: ComfyRecordedRequest, route: ComfyRoute, req: IncomingMessage, raw: Buffer, res: ServerResponse) => {
    const body = rec.body as Record<string, unknown> | undefined;
    switch (route) {
      case 'queue_info': return sendJson(res, 200, queueInfo());
      case 'prompt': return handlePrompt(rec, res);
      case 'queue': return sendJson(res, 200, { queue_running: executor.running ? [queueTuple(executor.running)] : [], queue_pending: executor.pending.map(queueTuple) });
      case 'queue_edit':
        if (body?.clear === true) for (const p of [...executor.pending]) executor.deletePending(p.promptId);
        if (Array.isArray(body?.delete)) for (const id of body.delete) executor.deletePending(String(id));
        return sendEmpty(res);
      case 'interrupt': {
        const target = typeof body?.prompt_id === 'string' && behaviour.targetedInterrupt ? body.prompt_id : undefined;
        executor.interrupt(target);
        return sendEmpty(res);
      }
      case 'history': {
        const id = rec.path.split('/')[2];
        if (id === undefined) return sendJson(res, 200, Object.fromEntries(executor.history));
        const entry = executor.history.get(decodeURIComponent(id));
        return sendJson(res, 200, entry ? { [decodeURIComponent(id)]: entry } : {});
      }
      case 'history_edit':
        if (body?.clear === true) executor.history.clear();
        if (Array.isArray(body?.delete)) for (const id of body.delete) executor.history.delete(String(id));
        return sendEmpty(res);
      case 'view': return handleView(rec, res);
      case 'upload': return handleUpload(rec, req, raw, res);
      case 'system_stats':
        return sendJson(res, 200, {
          system: { os: 'posix', ram_total: 68_719_476_736, ram_free: 41_231_686_041, comfyui_version: '0.3.66', python_version: '3.12.3', pytorch_version: '2.8.0+cu128', embedded_python: false, argv: ['main.py', '--listen'] },
          devices: [{ name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync', type: 'cuda', index: 0, vram_total: 25_386_352_640, vram_free: 24_001_904_640, torch_vram_total: 0, torch_vram_free: 0 }],
        });
      case 'ws': return sendText(res, 400, 'Expected WebSocket upgrade');
    }
  };

  /** Faults, auth and the origin check common to HTTP and upgrades; true when the request was answered. */
  const intercept = async (route: ComfyRoute, req: IncomingMessage, answer: (status: number, script?: ScriptedResponse) => void, destroy: () => void): Promise<boolean> => {
    const script = scripts.get(route)?.shift();
    if (script?.delayMs) await sleep(script.delayMs);
    if (script?.destroySocket) { destroy(); return true; }
    if (script?.status !== undefined) { answer(script.status, script); return true; }
    if (behaviour.requireAuthorization !== null && req.headers.authorization !== behaviour.requireAuthorization) { answer(401); return true; }
    // ComfyUI's origin middleware on loopback: a browser page from elsewhere may not drive it.
    const origin = req.headers.origin;
    if (origin && URL.canParse(origin) && new URL(origin).host !== req.headers.host) { answer(403); return true; }
    return false;
  };

  const record = (req: IncomingMessage, raw: Buffer): ComfyRecordedRequest => {
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const path = stripApi(parsed.pathname);
    const isJson = !(req.headers['content-type'] ?? '').startsWith('multipart/');
    const rawBody = isJson ? raw.toString('utf8') : '';
    const json = rawBody === '' ? undefined : parseJson(rawBody);
    const method = req.method ?? 'GET';
    const route = routeOf(method, path);
    const rec: ComfyRecordedRequest = {
      method, path, route: typeof route === 'string' && route !== 'not_found' && route !== 'method_not_allowed' ? route : null,
      query: Object.fromEntries(parsed.searchParams), headers: req.headers, rawBody, body: json?.ok ? json.value : undefined, at: Date.now(),
    };
    requests.push(rec);
    return rec;
  };

  const listening = await listenOnLoopback(async (req, res) => {
    try {
      const raw = await readBodyBuffer(req, behaviour.maxUploadBytes);
      const rec = record(req, raw);
      const route = routeOf(rec.method, rec.path);
      if (route === 'not_found') return sendText(res, 404, '404: Not Found');
      if (route === 'method_not_allowed') return sendText(res, 405, '405: Method Not Allowed');
      const answered = await intercept(route, req, (status, script) => sendScripted(res, { ...script, status }), () => req.socket.destroy());
      if (!answered) await handle(rec, route, req, raw, res);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLargeError) return sendText(res, 413, '413: Request Entity Too Large');
      sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  listening.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const rec = record(req, Buffer.alloc(0));
    const refuse = (status: number) => {
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (rec.route !== 'ws') return refuse(404);
    void intercept('ws', req, refuse, () => socket.destroy()).then((answered) => {
      if (answered) return;
      if (behaviour.refuseWebSockets) return refuse(503);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const sid = rec.query.clientId || randomUUID().replaceAll('-', '');
        sockets.get(sid)?.close(); // a reconnect with the same clientId replaces the old socket
        sockets.set(sid, ws);
        ws.on('close', () => { if (sockets.get(sid) === ws) sockets.delete(sid); });
        ws.send(JSON.stringify({ type: 'status', data: { status: queueInfo(), sid } }));
        const running = executor.running;
        if (running && running.extraData.client_id === sid) ws.send(JSON.stringify({ type: 'executing', data: { node: null, prompt_id: running.promptId } }));
      });
    });
  });

  /** Someone else's FLUX.2 prompt (4 steps), to make this server's queue longer. */
  const foreignGraph = () => ({
    '1': { class_type: 'UNETLoader', inputs: { unet_name: behaviour.models.diffusion_models[0], weight_dtype: 'default' } },
    '2': { class_type: 'CLIPLoader', inputs: { clip_name: behaviour.models.text_encoders[0], type: 'flux2' } },
    '3': { class_type: 'VAELoader', inputs: { vae_name: behaviour.models.vae[0] } },
    '4': { class_type: 'CLIPTextEncode', inputs: { clip: ['2', 0], text: 'someone else' } },
    '5': { class_type: 'BasicGuider', inputs: { model: ['1', 0], conditioning: ['4', 0] } },
    '6': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler' } },
    '7': { class_type: 'Flux2Scheduler', inputs: { steps: 4, width: 64, height: 64 } },
    '8': { class_type: 'RandomNoise', inputs: { noise_seed: 1 } },
    '9': { class_type: 'EmptyFlux2LatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '10': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['8', 0], guider: ['5', 0], sampler: ['6', 0], sigmas: ['7', 0], latent_image: ['9', 0] } },
    '11': { class_type: 'VAEDecode', inputs: { samples: ['10', 0], vae: ['3', 0] } },
    '12': { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'someone-else' } },
  });

  return {
    url: listening.url,
    requests,
    events,
    history: executor.history,
    inputs,
    behaviour,
    setScenario: (patch) => {
      Object.assign(behaviour, patch);
      executor.kick();
    },
    scriptNext: (route, response, times = 1) => {
      const list = scripts.get(route) ?? [];
      for (let i = 0; i < times; i++) list.push(response);
      scripts.set(route, list);
    },
    nextPromptOutcome: (outcome, times = 1) => { for (let i = 0; i < times; i++) outcomes.push(outcome); },
    requestsTo: (route) => requests.filter((r) => r.route === route),
    queueState: () => ({ running: executor.running?.promptId ?? null, pending: executor.pending.map((p) => p.promptId) }),
    enqueueForeign: (n) => { for (let i = 0; i < n; i++) enqueue(foreignGraph(), 'another-client', false); },
    release: () => executor.release(),
    waitForEvent: (type, promptId, timeoutMs = 5000) => new Promise<SentEvent>((resolve, reject) => {
      const matches = (e: SentEvent) => e.type === type && (promptId === undefined || e.data.prompt_id === promptId);
      const already = events.find(matches);
      if (already) return resolve(already);
      const timer = setTimeout(() => { waiters.delete(waiter); reject(new Error(`no ${type} event within ${timeoutMs} ms`)); }, timeoutMs);
      const waiter = (e: SentEvent) => { if (matches(e)) { clearTimeout(timer); waiters.delete(waiter); resolve(e); } };
      waiters.add(waiter);
    }),
    restart: () => {
      executor.reset();
      for (const ws of sockets.values()) ws.terminate();
    },
    dropWebSockets: () => { for (const ws of sockets.values()) ws.terminate(); },
    connectedClients: () => [...sockets.keys()],
    close: async () => {
      executor.reset();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await listening.close();
    },
  };
}
