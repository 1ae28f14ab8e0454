/**
 * The contract-faithful fake engines (apps/server/test/fakes/fake-*.ts) in their own process, for bench/engines.ts:
 * BFL, fal, Replicate and N ComfyUI servers, each optional. Their image rendering and webhook signing are then not
 * counted as Atelier's CPU and do not run on Atelier's event loop.
 *
 * What the bench adds on top of the fakes, without changing them:
 * - **Per-task engine time from the prompt.** A prompt containing `[bench … engine-ms=N]` makes that task take N ms.
 *   BFL, fal and Replicate copy `processingMs` into the task at submit; the bench sets it as the task enters the
 *   fake's task map (before the submit is answered, before fal schedules its webhook). A ComfyUI server runs one
 *   prompt at a time and reads its `processingMs` at every sampler step; the bench sets it when the server records
 *   the `POST /prompt` (the bench gives each prompt its own server, so nothing else is running there).
 * - **BFL's webhook.** The fake BFL sends none. With `bflWebhooks`, the bench plays BFL's part: when a task turns
 *   Ready (createdAt + processingMs, the fake's own timing), it POSTs the task's result view to the `webhook_url`
 *   the submit carried. BFL's real payload and signature are undocumented; Atelier authenticates BFL webhooks by the
 *   token in the URL only and re-reads `get_result` either way, so the body's shape does not matter.
 * - **Outgoing requests.** `fetch` is wrapped to record every request this process sends (the fakes' webhooks to
 *   Atelier): when it left, when the answer came, and the status.
 *
 * Requests: 'snapshot' { since } → Snapshot (tasks submitted, calls received and webhooks sent at or after `since`).
 * Options (argv[2], JSON): FakeEnginesOptions.
 */
import { startFakeBfl, type FakeBflTask } from '../../apps/server/test/fakes/fake-bfl.ts';
import { viewTask } from '../../apps/server/test/fakes/fake-bfl-tasks.ts';
import { startFakeComfyUi, type FakeComfyUi } from '../../apps/server/test/fakes/fake-comfyui.ts';
import { startFakeFal, type FakeFalRequest } from '../../apps/server/test/fakes/fake-fal.ts';
import { startFakeReplicate, type FakePrediction } from '../../apps/server/test/fakes/fake-replicate.ts';
import { serveParent } from './child.ts';

export type FakeEngine = 'bfl' | 'fal' | 'replicate' | 'comfyui';

export interface FakeEnginesOptions {
  bfl?: boolean;
  fal?: boolean;
  replicate?: boolean;
  /** Number of ComfyUI servers (0 or absent: none). */
  comfyuiServers?: number;
  /** ComfyUI servers refuse WebSocket upgrades (503): Atelier must fall back to polling `/history`. */
  comfyuiRefuseWebSockets?: boolean;
  /** Play BFL's part and POST each task's `webhook_url` when it turns Ready. */
  bflWebhooks?: boolean;
  /** Engine time of a task whose prompt has no `engine-ms=` tag. */
  defaultEngineMs?: number;
}

export interface FakeEnginesInfo {
  bfl?: { url: string; apiKey: string };
  fal?: { url: string; apiKey: string; jwksUrl: string };
  replicate?: { url: string; apiToken: string };
  comfyui?: { urls: string[] };
}

/** Normalised kinds of engine call. */
export type CallRoute = 'submit' | 'poll' | 'result' | 'download' | 'cancel' | 'probe' | 'queue' | 'ws' | 'auth' | 'other';

export interface TaskRecord {
  engine: FakeEngine;
  /** ComfyUI server index (0 for the others). */
  server: number;
  /** The engine's id: BFL task id, fal request_id, Replicate prediction id, ComfyUI prompt_id. */
  id: string;
  /** The `[bench …]` tag of its prompt. */
  tag: string | null;
  /** When the engine accepted it (BFL/fal/Replicate: the task's createdAt; ComfyUI: the POST /prompt arrived). */
  submitAt: number;
  /** When its result became available (BFL Ready, fal COMPLETED, Replicate succeeded, ComfyUI execution_success). */
  readyAt: number | null;
}

export interface CallRecord {
  engine: FakeEngine;
  server: number;
  route: CallRoute;
  /** The engine id the call is about, when the call names one. */
  taskId: string | null;
  /** For submits: the `[bench …]` tag in the body. */
  tag: string | null;
  at: number;
}

export interface OutgoingRecord {
  url: string;
  /** Parsed from `/api/webhooks/engines/:engine/:generationId/:token`. */
  engine: string | null;
  generationId: string | null;
  sentAt: number;
  answeredAt: number | null;
  status: number | null;
  error: string | null;
}

export interface Snapshot {
  tasks: TaskRecord[];
  calls: CallRecord[];
  outgoing: OutgoingRecord[];
  cpu: NodeJS.CpuUsage;
  rss: number;
}

/** `[bench <tag> engine-ms=<N>]` in a prompt (found anywhere in a request body or task input). */
const TAG = /\[bench (\S+)(?: engine-ms=(\d+))?\]/;
const tagOf = (text: string | undefined | null): string | null => (text ? (TAG.exec(text)?.[1] ?? null) : null);
const engineMsOf = (text: string | undefined | null): number | null => {
  const ms = text ? TAG.exec(text)?.[2] : undefined;
  return ms === undefined ? null : Number(ms);
};

const options = JSON.parse(process.argv[2] ?? '{}') as FakeEnginesOptions;
const defaultMs = options.defaultEngineMs ?? 2000;

// Every request this process sends (the fakes' webhooks and ours for BFL).
const outgoing: OutgoingRecord[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const m = /\/api\/webhooks\/engines\/([^/]+)\/([^/]+)\//.exec(url);
  const rec: OutgoingRecord = { url: url.replace(/\/[^/]+$/, '/…'), engine: m?.[1] ?? null, generationId: m?.[2] ?? null, sentAt: Date.now(), answeredAt: null, status: null, error: null };
  outgoing.push(rec);
  try {
    const res = await realFetch(input, init);
    rec.status = res.status;
    rec.answeredAt = Date.now();
    return res;
  } catch (error) {
    rec.error = String(error);
    rec.answeredAt = Date.now();
    throw error;
  }
};

/** Calls `onAdd` for each value as it enters `map`, before anything else sees it. */
function onMapSet<V>(map: ReadonlyMap<string, V>, onAdd: (value: V) => void): void {
  const m = map as Map<string, V>;
  const set = m.set.bind(m);
  m.set = (key: string, value: V) => {
    if (!m.has(key)) onAdd(value);
    return set(key, value);
  };
}

const info: FakeEnginesInfo = {};
const closers: (() => Promise<void>)[] = [];
const timers = new Set<NodeJS.Timeout>();
const snapshotters: ((since: number, tasks: TaskRecord[], calls: CallRecord[]) => void)[] = [];

/** Classifies recorded requests with the fake's own router (`requestsTo`). */
function classify<R>(requests: readonly R[], requestsTo: (route: never) => readonly R[], routes: Record<string, CallRoute>): Map<R, CallRoute> {
  const byRequest = new Map<R, CallRoute>();
  for (const [fakeRoute, route] of Object.entries(routes)) for (const r of requestsTo(fakeRoute as never)) byRequest.set(r, route);
  for (const r of requests) if (!byRequest.has(r)) byRequest.set(r, 'other');
  return byRequest;
}

if (options.bfl) {
  const fake = await startFakeBfl({ processingMs: defaultMs, maxActiveTasks: 1_000_000, credits: 1e9 });
  const bflTasks = fake.tasks as ReadonlyMap<string, FakeBflTask>;
  onMapSet(bflTasks, (task) => {
    task.processingMs = engineMsOf(task.input.prompt) ?? task.processingMs;
    const hook = (task.body as { webhook_url?: unknown }).webhook_url;
    if (options.bflWebhooks && typeof hook === 'string') {
      const readyAt = task.createdAt + task.processingMs;
      const send = () => {
        // Timers may fire up to a millisecond early; a webhook must not arrive before the task is Ready.
        if (Date.now() < readyAt) return schedule();
        void fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(viewTask(task, Date.now(), fake.deliveryUrl)), signal: AbortSignal.timeout(15_000) })
          .then((res) => res.body?.cancel())
          .catch(() => undefined);
      };
      const schedule = () => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, Math.max(1, readyAt - Date.now()));
        timers.add(timer);
      };
      schedule();
    }
  });
  info.bfl = { url: fake.url, apiKey: fake.apiKey };
  closers.push(() => fake.close());
  snapshotters.push((since, tasks, calls) => {
    for (const t of bflTasks.values()) {
      if (t.createdAt < since) continue;
      tasks.push({ engine: 'bfl', server: 0, id: t.id, tag: tagOf(t.input.prompt), submitAt: t.createdAt, readyAt: t.createdAt + t.processingMs });
    }
    const routes = classify(fake.requests, fake.requestsTo as (r: never) => typeof fake.requests, { submit: 'submit', poll: 'poll', delivery: 'download', credits: 'other' });
    for (const r of fake.requests) {
      if (r.at < since) continue;
      const route = routes.get(r)!;
      const taskId = route === 'poll' ? (r.query.id ?? null) : route === 'download' ? (/^\/results\/([0-9a-f-]+)\//.exec(r.path)?.[1] ?? null) : null;
      calls.push({ engine: 'bfl', server: 0, route, taskId, tag: route === 'submit' ? tagOf(r.rawBody) : null, at: r.at });
    }
  });
}

if (options.fal) {
  // queueMs 0: the engine time is all processing, so `engine-ms` is the whole time from submit to COMPLETED.
  const fake = await startFakeFal({ processingMs: defaultMs, queueMs: 0, balanceUsd: 1e9 });
  const queue = fake.queue as ReadonlyMap<string, FakeFalRequest>;
  onMapSet(queue, (req) => {
    req.processingMs = engineMsOf(JSON.stringify(req.body)) ?? req.processingMs;
  });
  info.fal = { url: fake.url, apiKey: fake.apiKey, jwksUrl: fake.jwksUrl };
  closers.push(() => fake.close());
  snapshotters.push((since, tasks, calls) => {
    const byCdnKey = new Map<string, string>();
    for (const q of queue.values()) {
      byCdnKey.set(q.cdnKey, q.id);
      if (q.createdAt < since) continue;
      tasks.push({ engine: 'fal', server: 0, id: q.id, tag: tagOf(JSON.stringify(q.body)), submitAt: q.createdAt, readyAt: q.createdAt + q.queueMs + q.processingMs });
    }
    const routes = classify(fake.requests, fake.requestsTo as (r: never) => typeof fake.requests, { submit: 'submit', status: 'poll', result: 'result', cancel: 'cancel', cdn: 'download', jwks: 'auth' });
    for (const r of fake.requests) {
      if (r.at < since) continue;
      const route = routes.get(r)!;
      const segments = r.path.split('/').filter(Boolean);
      const taskId = route === 'poll' || route === 'result' || route === 'cancel' ? (segments[3] ?? null) : route === 'download' ? (byCdnKey.get(segments[1] ?? '') ?? null) : null;
      calls.push({ engine: 'fal', server: 0, route, taskId, tag: route === 'submit' ? tagOf(r.rawBody) : null, at: r.at });
    }
  });
}

if (options.replicate) {
  const fake = await startFakeReplicate({ processingMs: defaultMs, credits: 1e9, createsPerMinute: 1_000_000 });
  const predictions = fake.predictions as ReadonlyMap<string, FakePrediction>;
  onMapSet(predictions, (p) => {
    p.processingMs = engineMsOf(JSON.stringify(p.input)) ?? p.processingMs;
  });
  info.replicate = { url: fake.url, apiToken: fake.apiToken };
  closers.push(() => fake.close());
  snapshotters.push((since, tasks, calls) => {
    const byToken = new Map<string, string>();
    for (const p of predictions.values()) {
      byToken.set(p.outputToken, p.id);
      if (p.createdAt < since) continue;
      tasks.push({ engine: 'replicate', server: 0, id: p.id, tag: tagOf(JSON.stringify(p.input)), submitAt: p.createdAt, readyAt: p.createdAt + p.processingMs });
    }
    const routes = classify(fake.requests, fake.requestsTo as (r: never) => typeof fake.requests, {
      create: 'submit', get: 'poll', cancel: 'cancel', delivery: 'download', secret: 'auth', account: 'other', list: 'other',
    });
    for (const r of fake.requests) {
      if (r.at < since) continue;
      const route = routes.get(r)!;
      const segments = r.path.split('/');
      const taskId = route === 'poll' || route === 'cancel' ? (segments[3] ?? null) : route === 'download' ? (byToken.get(segments[2] ?? '') ?? null) : null;
      calls.push({ engine: 'replicate', server: 0, route, taskId, tag: route === 'submit' ? tagOf(r.rawBody) : null, at: r.at });
    }
  });
}

if (options.comfyuiServers) {
  const servers: FakeComfyUi[] = [];
  for (let i = 0; i < options.comfyuiServers; i++) {
    const fake = await startFakeComfyUi({ processingMs: defaultMs, refuseWebSockets: options.comfyuiRefuseWebSockets ?? false });
    // Set this server's sampling time as the prompt is recorded, before the server queues and starts it.
    const push = fake.requests.push.bind(fake.requests);
    fake.requests.push = (...recs) => {
      for (const r of recs) {
        if (r.method !== 'POST' || r.path !== '/prompt') continue;
        const ms = engineMsOf(r.rawBody);
        if (ms !== null) fake.setScenario({ processingMs: ms });
      }
      return push(...recs);
    };
    servers.push(fake);
    closers.push(() => fake.close());
  }
  info.comfyui = { urls: servers.map((s) => s.url) };
  snapshotters.push((since, tasks, calls) => {
    servers.forEach((fake, server) => {
      const submits = fake.requestsTo('prompt');
      const startedAt = new Map<string, number>();
      const succeededAt = new Map<string, number>();
      for (const e of fake.events) {
        const id = typeof e.data.prompt_id === 'string' ? e.data.prompt_id : null;
        const ts = typeof e.data.timestamp === 'number' ? e.data.timestamp : null;
        if (!id || ts === null) continue;
        if (e.type === 'execution_start') startedAt.set(id, ts);
        if (e.type === 'execution_success') succeededAt.set(id, ts);
      }
      const byFile = new Map<string, string>();
      for (const [id, entry] of fake.history) {
        for (const out of Object.values(entry.outputs)) for (const image of out.images) byFile.set(`${image.subfolder}/${image.filename}`, id);
        const tag = tagOf(JSON.stringify(entry.prompt[2]));
        // The POST /prompt that carried this graph (the tag is unique per generation).
        const submit = submits.find((r) => tag !== null && tagOf(r.rawBody) === tag);
        const submitAt = submit?.at ?? startedAt.get(id) ?? null;
        if (submitAt === null || submitAt < since) continue;
        tasks.push({ engine: 'comfyui', server, id, tag, submitAt, readyAt: succeededAt.get(id) ?? null });
      }
      const routes = new Map<(typeof fake.requests)[number], CallRoute>();
      const map: Record<string, CallRoute> = { prompt: 'submit', queue_info: 'probe', history: 'poll', view: 'download', queue: 'queue', interrupt: 'cancel', queue_edit: 'cancel', ws: 'ws' };
      for (const r of fake.requests) routes.set(r, r.route ? (map[r.route] ?? 'other') : 'other');
      for (const r of fake.requests) {
        if (r.at < since) continue;
        let route = routes.get(r)!;
        let taskId: string | null = null;
        if (route === 'poll') {
          const id = r.path.split('/')[2];
          if (id === undefined) route = 'other';
          else taskId = decodeURIComponent(id);
        } else if (route === 'download') taskId = byFile.get(`${r.query.subfolder ?? ''}/${r.query.filename ?? ''}`) ?? null;
        calls.push({ engine: 'comfyui', server, route, taskId, tag: route === 'submit' ? tagOf(r.rawBody) : null, at: r.at });
      }
    });
  });
}

serveParent(
  info as Record<string, unknown>,
  {
    snapshot: (payload): Snapshot => {
      const since = typeof payload.since === 'number' ? payload.since : 0;
      const tasks: TaskRecord[] = [];
      const calls: CallRecord[] = [];
      for (const s of snapshotters) s(since, tasks, calls);
      return { tasks, calls, outgoing: outgoing.filter((o) => o.sentAt >= since), cpu: process.cpuUsage(), rss: process.memoryUsage().rss };
    },
  },
  async () => {
    for (const t of timers) clearTimeout(t);
    await Promise.all(closers.map((c) => c().catch(() => undefined)));
  },
);
