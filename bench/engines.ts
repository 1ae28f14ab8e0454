/**
 * Engine completion detection: how soon Atelier notices that an engine has finished, and how many engine calls a
 * generation costs, with engine webhooks off (polling with capped back-off) and on (a webhook, or ComfyUI's
 * WebSocket, wakes the waiting job), for BFL, fal, Replicate and ComfyUI, at several engine times.
 *
 * Each "rig" is a real Atelier in its own process, wired as `main.ts start` wires it (production runner pacing:
 * 0.5 s → ×1.5 → 5 s without webhooks, 2 s → 15 s with them), listening on the port its PUBLIC_URL names, with
 * the contract-faithful fake engines in another process. The rigs:
 *   - `off` and `on` (ENGINE_WEBHOOKS): BFL, fal, Replicate and ComfyUI with its WebSocket;
 *   - `off-nows` and `on-nows`: ComfyUI whose servers refuse the WebSocket (the adapter then polls /history).
 * By default the two `off` rigs run side by side, then the two `on` rigs (`--schedule`). Per engine time
 * (`--delays`), every rig submits `--concurrency` generations per engine at once and waits for them. The detection delay is `engine_finished_at` (the row, written when the job saw the result) minus the moment
 * the fake's task became ready (the fake's own clock; same machine, same clock).
 *
 *   node bench/engines.ts [--delays 2,5,12,40] [--concurrency 8] [--db pglite|postgres] ...
 *   npm run bench -- engines [same flags]
 *
 * See bench/README.md for what each number means. This is a measurement: it asserts nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { ModelDefinition } from '@atelier/contracts';
import { DEFAULT_CATALOGUE } from '../apps/server/src/modules/catalogue/catalogue.ts';
import { freeLoopbackPort, startAtelier, type Atelier, type DbKind } from './lib/atelier.ts';
import { forkChild, serveParent, type Child } from './lib/child.ts';
import type { CallRecord, CallRoute, FakeEngine, FakeEnginesInfo, FakeEnginesOptions, Snapshot, TaskRecord } from './lib/fake-engines-child.ts';
import { createCpuAccumulator, descendantPids, fmtMs, machineBusyMs, machineInfo, summarise, table, type Summary } from './lib/stats.ts';

// ---------------------------------------------------------------------------------------------------
// What is measured

export type Variant = 'bfl' | 'fal' | 'replicate' | 'comfyui-ws' | 'comfyui-nows';
const ALL_VARIANTS: readonly Variant[] = ['bfl', 'fal', 'replicate', 'comfyui-ws', 'comfyui-nows'];
const VARIANT_INFO: Record<Variant, { engine: FakeEngine; push: string; label: string }> = {
  bfl: { engine: 'bfl', push: 'webhook (bench plays BFL)', label: 'BFL' },
  fal: { engine: 'fal', push: 'signed webhook', label: 'fal' },
  replicate: { engine: 'replicate', push: 'signed webhook', label: 'Replicate' },
  'comfyui-ws': { engine: 'comfyui', push: 'WebSocket', label: 'ComfyUI, socket up' },
  'comfyui-nows': { engine: 'comfyui', push: 'none (socket refused)', label: 'ComfyUI, socket refused' },
};
type Webhooks = 'off' | 'on';
type Schedule = 'parallel' | 'by-webhooks' | 'serial';
const SCHEDULES: readonly Schedule[] = ['parallel', 'by-webhooks', 'serial'];

export interface EnginesOptions {
  db: DbKind;
  delaysS: number[];
  concurrency: number;
  /** Engine times of one configuration are spread evenly over delay × (1 ± spread). */
  spread: number;
  webhooks: Webhooks[];
  variants: Variant[];
  width: number;
  height: number;
  staggerMs: number;
  /** Which rigs run at the same time: all of them, those of one ENGINE_WEBHOOKS value, or one at a time. */
  schedule: Schedule;
  workers: number | null;
  warmup: boolean;
  outDir: string;
  quiet: boolean;
}

const USAGE = `Usage: node bench/engines.ts [options]

  --delays LIST        engine times in seconds, comma-separated (default 2,5,12,40)
  --concurrency N      generations per engine and delay, submitted at once (default 8)
  --spread F           engine times of one configuration spread evenly over delay × (1 ± F) (default 0.25; 0 = all equal)
  --webhooks LIST      off, on or off,on (default off,on): ENGINE_WEBHOOKS of the servers
  --engines LIST       any of ${ALL_VARIANTS.join(',')} (default all)
  --db pglite|postgres database (default pglite)
  --size WxH           image size, multiples of 16 (default 512x512)
  --stagger-ms N       gap between the submissions of generation i and i+1 of a configuration (default 0)
  --schedule S         which rigs run at the same time: parallel (all), by-webhooks (the off rigs, then the on rigs)
                       or serial (one at a time) (default by-webhooks)
  --workers N          WORKER_CONCURRENCY (default 32, or more when a rig has more generations in flight)
  --no-warmup          skip the unrecorded warm-up generation per engine
  --out DIR            where to write JSON (default bench/results)
  --quiet              no progress lines
`;

export function parseOptions(argv: string[]): EnginesOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      delays: { type: 'string', default: '2,5,12,40' },
      concurrency: { type: 'string', default: '8' },
      spread: { type: 'string', default: '0.25' },
      webhooks: { type: 'string', default: 'off,on' },
      engines: { type: 'string', default: ALL_VARIANTS.join(',') },
      db: { type: 'string', default: 'pglite' },
      size: { type: 'string', default: '512x512' },
      'stagger-ms': { type: 'string', default: '0' },
      schedule: { type: 'string', default: 'by-webhooks' },
      workers: { type: 'string' },
      'no-warmup': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(import.meta.dirname, 'results') },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const fail = (message: string): never => {
    throw new Error(`${message}\n\n${USAGE}`);
  };
  const num = (name: string, raw: string, min: number, max: number, integer = true) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) fail(`--${name} must be a ${integer ? 'whole ' : ''}number from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  const list = (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (values.db !== 'pglite' && values.db !== 'postgres') fail(`--db must be pglite or postgres (got "${values.db}")`);
  const webhooks = list(values.webhooks);
  if (webhooks.length === 0 || webhooks.some((w) => w !== 'off' && w !== 'on')) fail(`--webhooks must be off, on or off,on (got "${values.webhooks}")`);
  const variants = list(values.engines);
  if (variants.length === 0 || variants.some((v) => !ALL_VARIANTS.includes(v as Variant))) fail(`--engines must list some of ${ALL_VARIANTS.join(', ')} (got "${values.engines}")`);
  const size = /^(\d+)x(\d+)$/.exec(values.size) ?? fail(`--size must look like 512x512 (got "${values.size}")`);
  const delaysS = list(values.delays).map((d) => num('delays', d, 0.1, 600, false));
  if (delaysS.length === 0) fail('--delays needs at least one value');
  if (!SCHEDULES.includes(values.schedule as Schedule)) fail(`--schedule must be one of ${SCHEDULES.join(', ')} (got "${values.schedule}")`);
  return {
    db: values.db as DbKind,
    delaysS,
    concurrency: num('concurrency', values.concurrency, 1, 64),
    spread: num('spread', values.spread, 0, 0.9, false),
    webhooks: [...new Set(webhooks)] as Webhooks[],
    variants: ALL_VARIANTS.filter((v) => variants.includes(v)),
    width: num('size', size[1]!, 64, 2048),
    height: num('size', size[2]!, 64, 2048),
    staggerMs: num('stagger-ms', values['stagger-ms'], 0, 60_000),
    schedule: values.schedule as Schedule,
    workers: values.workers === undefined ? null : num('workers', values.workers, 1, 1000),
    warmup: !values['no-warmup'],
    outDir: path.resolve(values.out),
    quiet: values.quiet,
  };
}

/** `n` engine times (ms), evenly spread over delay × (1 ± spread) and centred on it: 0.78, 0.84, … 1.22 × delay for n = 8, 0.25. */
export function engineTimes(delayS: number, n: number, spread: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(delayS * 1000 * (1 - spread + (2 * spread * (i + 0.5)) / n)));
}

// ---------------------------------------------------------------------------------------------------
// Rigs: one Atelier (own process) + its fake engines (another process)

export interface RigSpec {
  name: string;
  webhooks: Webhooks;
  variants: Variant[];
  db: DbKind;
  delaysS: number[];
  concurrency: number;
  spread: number;
  width: number;
  height: number;
  staggerMs: number;
  workers: number | null;
  warmup: boolean;
  quiet: boolean;
}

const DEFAULT_WORKERS = 32;

export function planRigs(o: EnginesOptions): RigSpec[] {
  const rigs: RigSpec[] = [];
  for (const webhooks of o.webhooks) {
    // One ComfyUI engine per server: the socket-refused ComfyUI needs a server of its own.
    const groups: [string, Variant[]][] = [
      [webhooks, o.variants.filter((v) => v !== 'comfyui-nows')],
      [`${webhooks}-nows`, o.variants.filter((v) => v === 'comfyui-nows')],
    ];
    for (const [name, variants] of groups) {
      if (variants.length === 0) continue;
      rigs.push({ name, webhooks, variants, db: o.db, delaysS: o.delaysS, concurrency: o.concurrency, spread: o.spread, width: o.width, height: o.height, staggerMs: o.staggerMs, workers: o.workers, warmup: o.warmup, quiet: o.quiet });
    }
  }
  return rigs;
}

/**
 * One model per engine, each with a single route, so that one server can send each generation to the engine we
 * choose: copies of flux-2-pro (BFL, fal, Replicate) and flux-2-dev (ComfyUI) from the built-in catalogue, keeping
 * only that engine's route. Loaded through CATALOGUE_FILE, as an operator would.
 */
function benchCatalogue(variants: readonly Variant[]): { models: ModelDefinition[] } {
  const engines = [...new Set(variants.map((v) => VARIANT_INFO[v].engine))];
  return {
    models: engines.map((engine) => {
      const base = DEFAULT_CATALOGUE.find((m) => m.id === (engine === 'comfyui' ? 'flux-2-dev' : 'flux-2-pro'))!;
      return { ...base, id: `bench-${engine}`, label: `${base.label} on ${engine} (bench)`, routes: base.routes.filter((r) => r.engine === engine) };
    }),
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'blocked', 'canceled']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let aborted = false;

interface Rig {
  spec: RigSpec;
  server: Atelier;
  fakes: Child<FakeEnginesInfo>;
  cookie: string;
  events: Map<string, { count: number; last: number }>;
  log: (line: string) => void;
}

/** Signs one user up through the real endpoint, with the Origin a browser sends (the server runs as production). */
async function signUpOverHttp(baseUrl: string, publicUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(publicUrl).origin, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email: `bench-${process.pid}-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench User', ageConfirmed: true }),
  });
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

interface Submitted {
  variant: Variant;
  index: number;
  tag: string;
  engineMs: number;
  id: string | null;
  httpStatus: number;
  error: string | null;
  sentAt: number;
}

async function submit(rig: Rig, variant: Variant, index: number, tag: string, engineMs: number): Promise<Submitted> {
  const engine = VARIANT_INFO[variant].engine;
  const prompt = `a lighthouse at dusk, oil on canvas [bench ${tag} engine-ms=${engineMs}]`;
  const body = JSON.stringify({ model: `bench-${engine}`, prompt, width: rig.spec.width, height: rig.spec.height });
  const base = { variant, index, tag, engineMs };
  const sentAt = Date.now();
  try {
    const res = await fetch(`${rig.server.baseUrl}/api/generations`, { method: 'POST', headers: { cookie: rig.cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    if (res.status !== 202) return { ...base, id: null, httpStatus: res.status, error: text.slice(0, 300), sentAt };
    return { ...base, id: (JSON.parse(text) as { id: string }).id, httpStatus: res.status, error: null, sentAt };
  } catch (error) {
    return { ...base, id: null, httpStatus: 0, error: String(error), sentAt };
  }
}

/** Waits until every id is terminal. Reads the rows when generation events arrive (plus a slow backstop). */
async function waitTerminal(rig: Rig, ids: readonly string[], deadline: number): Promise<Set<string>> {
  const db = rig.server.container.database.db;
  const pending = new Set(ids);
  const done = new Set<string>();
  const seen = new Map(ids.map((id) => [id, -1]));
  let lastCheck = 0;
  while (pending.size > 0 && Date.now() < deadline && !aborted) {
    await sleep(25);
    const changed = [...pending].some((id) => (rig.events.get(id)?.count ?? 0) !== seen.get(id));
    if (!changed && Date.now() - lastCheck < 2_000) continue;
    for (const id of pending) seen.set(id, rig.events.get(id)?.count ?? 0);
    lastCheck = Date.now();
    const rows = await db.selectFrom('generations').select(['id', 'status']).where('id', 'in', [...pending]).execute();
    for (const row of rows) {
      if (TERMINAL.has(row.status)) {
        pending.delete(row.id);
        done.add(row.id);
      }
    }
  }
  return done;
}

/** Database clock minus this process's clock, ms (midpoint of the round trip; median of 5). */
async function clockOffset(rig: Rig): Promise<number> {
  const db = rig.server.container.database.db;
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
    const t1 = Date.now();
    offsets.push(rows[0]!.now.getTime() - (t0 + t1) / 2);
  }
  offsets.sort((a, b) => a - b);
  return Math.round(offsets[2]! * 10) / 10;
}

// ---------------------------------------------------------------------------------------------------
// One generation's measurements

const ROUTES: readonly CallRoute[] = ['submit', 'poll', 'result', 'download', 'cancel', 'probe', 'queue', 'ws', 'auth', 'other'];

export interface GenerationSample {
  variant: Variant;
  index: number;
  tag: string;
  id: string | null;
  httpStatus: number;
  error: string | null;
  status: string | null;
  attempt: number | null;
  engineRequestId: string | null;
  /** ComfyUI: index of the server that ran it (0 for other engines). */
  engineServer: number | null;
  /** Absolute times, ms since the epoch. DB times are `now()`, the start of the transaction that wrote them. */
  sentAt: number;
  engineSubmitAt: number | null;
  engineReadyAt: number | null;
  webhookSentAt: number | null;
  webhookAnsweredAt: number | null;
  webhookStatus: number | null;
  /** The fake's record of the first poll (status/get/history request) at or after ready: the one that saw it. */
  seenAt: number | null;
  engineFinishedAt: number | null;
  completedAt: number | null;
  doneAt: number | null;
  /** Engine calls that name this generation's task (submit by its tag, polls, result, download). */
  calls: Record<CallRoute, number>;
  /** When each poll reached the engine, ms after the engine accepted the task. */
  pollsAtMs: number[];
  requestedEngineMs: number;
  /** Derived, ms. */
  engineMs: number | null;
  detection: number | null;
  webhookLag: number | null;
  endToEnd: number | null;
  overhead: number | null;
}

/** The runner's production poll pacing (generation.runner.ts): first step, cap, ×1.5 per poll. */
const PACING: Record<Webhooks, { pollStartMs: number; pollMaxMs: number }> = { off: { pollStartMs: 500, pollMaxMs: 5000 }, on: { pollStartMs: 2000, pollMaxMs: 15_000 } };
/** Replicate's create holds up to `Prefer: wait=5` (the adapter's default) and answers with the result if it is done by then. */
const REPLICATE_PREFER_WAIT_MS = 5000;

/**
 * The detection delay the poll schedule alone predicts for an engine time: the first poll at or after the task is
 * ready, minus the engine time (polls at 0, 0.5, 1.25, 2.375, 4.06, 6.59, 10.39 s, then every 5 s; with webhooks
 * on 0, 2, 5, 9.5, 16.25, 26.4 s, then every 15 s). Ignores round trips and database work between polls, which
 * push later polls slightly later. Null where a push (webhook or WebSocket) should end the wait instead.
 */
export function scheduleOnlyDetection(variant: Variant, webhooks: Webhooks, engineMs: number): number | null {
  if (variant === 'comfyui-ws' || (webhooks === 'on' && variant !== 'comfyui-nows')) return null;
  let offset = 0;
  if (variant === 'replicate') {
    if (engineMs <= REPLICATE_PREFER_WAIT_MS) return 0;
    offset = REPLICATE_PREFER_WAIT_MS;
  }
  const { pollStartMs, pollMaxMs } = PACING[webhooks];
  let at = offset;
  let step = pollStartMs;
  while (at < engineMs) {
    at += step;
    step = Math.min(pollMaxMs, Math.round(step * 1.5));
  }
  return at - engineMs;
}

const diff = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : a - b);
const emptyCalls = (): Record<CallRoute, number> => Object.fromEntries(ROUTES.map((r) => [r, 0])) as Record<CallRoute, number>;

export interface ConfigResult {
  variant: Variant;
  engine: FakeEngine;
  webhooks: Webhooks;
  push: string;
  delayS: number;
  submitted: number;
  succeeded: number;
  failed: number;
  unfinished: number;
  summary: {
    engineMs: Summary;
    detection: Summary;
    /** What the poll schedule alone predicts for these engine times (see scheduleOnlyDetection); n = 0 where a push should end the wait. */
    scheduleOnly: Summary;
    /** Engine ready → the webhook left the (fake) engine: the engine's own lag, not Atelier's. */
    webhookLag: Summary;
    /** Webhook left the engine → engine_finished_at: Atelier's part of a webhook-driven detection. */
    webhookToFinished: Summary;
    endToEnd: Summary;
    overhead: Summary;
    polls: Summary;
  };
  /** Mean engine calls per generation: the attributable ones plus this engine's unattributable ones ÷ generations. */
  callsPerGeneration: number | null;
  callsByRoute: Record<CallRoute, number>;
  /** Calls that name no task (ComfyUI queue probes, /queue, WebSocket upgrades; fal JWKS; Replicate secret) in this phase. */
  sharedCalls: Record<CallRoute, number>;
  webhooksSent: number;
  webhooksNot2xx: number;
  /**
   * Generations whose push did not end the job's wait: the first poll after the task was ready reached the engine
   * more than 1 s after Atelier had accepted the webhook (2xx), or, for ComfyUI with its socket up, more than 1 s
   * after the prompt finished. A later (backstop) poll found the result instead.
   */
  missedPush: string[];
  /**
   * ComfyUI: generations that shared a server with another generation of this configuration (concurrent submits
   * picked the same "shortest queue"); the later one waited in that server's queue, which shows as engine time.
   */
  sharedComfyServer: number;
  generations: GenerationSample[];
}

export interface PhaseResult {
  delayS: number;
  engineTimesMs: number[];
  startAt: number;
  endAt: number;
  wallMs: number;
  resources: {
    /** CPU of processes that are not this benchmark's, as a share of the machine, over the phase (filled in by the parent). */
    othersBusyPct: number | null;
    atelierCpuMs: number;
    fakesCpuMs: number;
    machineBusyPct: number | null;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
  };
  configs: ConfigResult[];
}

function buildConfig(spec: RigSpec, variant: Variant, delayS: number, submitted: Submitted[], rows: Map<string, RowTimes>, snap: Snapshot, events: Rig['events'], finished: Set<string>): ConfigResult {
  const engine = VARIANT_INFO[variant].engine;
  const tasks = new Map<string, TaskRecord>(snap.tasks.filter((t) => t.engine === engine).map((t) => [t.id, t]));
  const tasksByTag = new Map<string, TaskRecord>(snap.tasks.filter((t) => t.engine === engine && t.tag).map((t) => [t.tag!, t]));
  const calls = snap.calls.filter((c) => c.engine === engine);
  const byTask = new Map<string, CallRecord[]>();
  const sharedCalls = emptyCalls();
  for (const c of calls) {
    if (c.taskId) byTask.set(c.taskId, [...(byTask.get(c.taskId) ?? []), c]);
    else if (c.route !== 'submit') sharedCalls[c.route]++;
  }
  const submitsByTag = new Map<string, number>();
  for (const c of calls) if (c.route === 'submit' && c.tag) submitsByTag.set(c.tag, (submitsByTag.get(c.tag) ?? 0) + 1);
  // Submits without a tag of ours (none expected) are shared.
  sharedCalls.submit = calls.filter((c) => c.route === 'submit' && !c.tag).length;

  const generations = submitted.map((s): GenerationSample => {
    const row = s.id ? rows.get(s.id) : undefined;
    const task = (row?.engineRequestId ? tasks.get(row.engineRequestId) : undefined) ?? tasksByTag.get(s.tag);
    const own = task ? (byTask.get(task.id) ?? []) : [];
    const perRoute = emptyCalls();
    perRoute.submit = submitsByTag.get(s.tag) ?? 0;
    for (const c of own) perRoute[c.route]++;
    const readyAt = task?.readyAt ?? null;
    const seen = readyAt === null ? undefined : own.filter((c) => c.route === 'poll' && c.at >= readyAt).sort((a, b) => a.at - b.at)[0];
    const hook = s.id ? snap.outgoing.filter((o) => o.generationId === s.id).sort((a, b) => a.sentAt - b.sentAt)[0] : undefined;
    const ev = s.id ? events.get(s.id) : undefined;
    const completedAt = row?.completedAt ?? null;
    const doneAt = ev && completedAt !== null && ev.last >= completedAt - 5 && row && TERMINAL.has(row.status) ? ev.last : null;
    const engineMs = diff(readyAt, task?.submitAt);
    const endToEnd = diff(doneAt ?? completedAt, s.sentAt);
    return {
      variant,
      index: s.index,
      tag: s.tag,
      id: s.id,
      httpStatus: s.httpStatus,
      error: s.error,
      status: row?.status ?? null,
      attempt: row?.attempt ?? null,
      engineRequestId: row?.engineRequestId ?? null,
      engineServer: task?.server ?? null,
      sentAt: s.sentAt,
      engineSubmitAt: task?.submitAt ?? null,
      engineReadyAt: readyAt,
      webhookSentAt: hook?.sentAt ?? null,
      webhookAnsweredAt: hook?.answeredAt ?? null,
      webhookStatus: hook?.status ?? null,
      seenAt: seen?.at ?? null,
      engineFinishedAt: row?.engineFinishedAt ?? null,
      completedAt,
      doneAt,
      calls: perRoute,
      pollsAtMs: task ? own.filter((c) => c.route === 'poll').map((c) => c.at - task.submitAt).sort((a, b) => a - b) : [],
      requestedEngineMs: s.engineMs,
      engineMs,
      detection: diff(row?.engineFinishedAt, readyAt),
      webhookLag: diff(hook?.sentAt, readyAt),
      endToEnd,
      overhead: endToEnd === null || engineMs === null ? null : endToEnd - engineMs,
    };
  });

  const ok = generations.filter((g) => g.status === 'succeeded' && g.attempt === 1);
  const pick = (f: (g: GenerationSample) => number | null) => summarise(ok.map(f));
  const n = generations.length;
  const sharedTotal = ROUTES.reduce((a, r) => a + sharedCalls[r], 0);
  const callsByRoute = Object.fromEntries(ROUTES.map((r) => [r, n ? Math.round(((generations.reduce((a, g) => a + g.calls[r], 0) + sharedCalls[r]) / n) * 100) / 100 : 0])) as Record<CallRoute, number>;
  const attributable = generations.reduce((a, g) => a + ROUTES.reduce((b, r) => b + g.calls[r], 0), 0);
  const hooks = snap.outgoing.filter((o) => o.engine === engine);
  return {
    variant,
    engine,
    webhooks: spec.webhooks,
    push: VARIANT_INFO[variant].push,
    delayS,
    submitted: n,
    succeeded: generations.filter((g) => g.status === 'succeeded').length,
    failed: generations.filter((g) => g.status !== null && TERMINAL.has(g.status) && g.status !== 'succeeded').length + generations.filter((g) => !g.id).length,
    unfinished: generations.filter((g) => g.id && !finished.has(g.id)).length,
    summary: {
      engineMs: pick((g) => g.engineMs),
      detection: pick((g) => g.detection),
      scheduleOnly: pick((g) => (g.engineMs === null ? null : scheduleOnlyDetection(variant, spec.webhooks, g.engineMs))),
      webhookLag: pick((g) => g.webhookLag),
      webhookToFinished: pick((g) => diff(g.engineFinishedAt, g.webhookSentAt)),
      endToEnd: pick((g) => g.endToEnd),
      overhead: pick((g) => g.overhead),
      polls: pick((g) => g.calls.poll),
    },
    callsPerGeneration: n ? Math.round(((attributable + sharedTotal) / n) * 100) / 100 : null,
    callsByRoute,
    sharedCalls,
    webhooksSent: hooks.length,
    webhooksNot2xx: hooks.filter((o) => o.status === null || o.status < 200 || o.status >= 300).length,
    missedPush: generations
      .filter((g) =>
        variant === 'comfyui-ws'
          ? g.seenAt !== null && g.engineReadyAt !== null && g.seenAt - g.engineReadyAt > 1000
          : g.webhookStatus !== null && g.webhookStatus >= 200 && g.webhookStatus < 300 && g.webhookAnsweredAt !== null && g.seenAt !== null && g.seenAt - g.webhookAnsweredAt > 1000,
      )
      .map((g) => g.tag),
    sharedComfyServer:
      engine === 'comfyui'
        ? generations.filter((g) => g.engineServer !== null && generations.some((o) => o !== g && o.engineServer === g.engineServer)).length
        : 0,
    generations,
  };
}

interface RowTimes {
  status: string;
  attempt: number;
  engineRequestId: string | null;
  engineFinishedAt: number | null;
  completedAt: number | null;
}

async function readRows(rig: Rig, ids: readonly string[]): Promise<Map<string, RowTimes>> {
  if (ids.length === 0) return new Map();
  const rows = await rig.server.container.database.db
    .selectFrom('generations')
    .select(['id', 'status', 'attempt', 'engine_request_id', 'engine_finished_at', 'completed_at'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, { status: r.status, attempt: r.attempt, engineRequestId: r.engine_request_id, engineFinishedAt: r.engine_finished_at?.getTime() ?? null, completedAt: r.completed_at?.getTime() ?? null }]));
}

/**
 * Submits one batch (`perVariant` generations of every variant at once), waits for all of it, and returns what was
 * submitted. `times` has one engine time per generation of the batch: variant v's i-th generation gets
 * `times[i × variants + v]`, so every engine covers the whole range and no two generations of the rig finish at
 * the same moment (their completions would compete for the same CPU and database connection).
 */
async function runBatch(rig: Rig, label: string, perVariant: number, times: readonly number[], deadline: number): Promise<{ submitted: Submitted[]; finished: Set<string> }> {
  const jobs: Promise<Submitted>[] = [];
  const variants = rig.spec.variants;
  for (let i = 0; i < perVariant; i++) {
    variants.forEach((variant, v) => {
      const tag = `${rig.spec.name}/${label}/${variant}/${i}`;
      const ms = times[(i * variants.length + v) % times.length]!;
      jobs.push(sleep(i * rig.spec.staggerMs).then(() => submit(rig, variant, i, tag, ms)));
    });
  }
  const submitted = await Promise.all(jobs);
  for (const s of submitted) if (!s.id) rig.log(`  ! ${rig.spec.name}: submit ${s.tag} answered ${s.httpStatus}: ${s.error}`);
  const finished = await waitTerminal(rig, submitted.flatMap((s) => (s.id ? [s.id] : [])), deadline);
  return { submitted, finished };
}

async function runPhase(rig: Rig, delayS: number): Promise<PhaseResult> {
  const times = engineTimes(delayS, rig.spec.concurrency * rig.spec.variants.length, rig.spec.spread);
  const maxMs = Math.max(...times);
  // Bounded: the slowest engine time, plus the longest back-off step (15 s), plus room for a loaded machine.
  const deadline = Date.now() + maxMs + rig.spec.staggerMs * rig.spec.concurrency + 120_000;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const fakes0 = await rig.fakes.call<Snapshot>('snapshot', { since: Date.now() + 3_600_000 });
  const machine0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  loop.enable();
  const { submitted, finished } = await runBatch(rig, `${delayS}s`, rig.spec.concurrency, times, deadline);
  const t1 = Date.now();
  loop.disable();
  // Late webhooks (a delivery racing the poll that already saw the result) still count as calls of this phase.
  await sleep(500);
  const cpu = process.cpuUsage(cpu0);
  const machine1 = machineBusyMs();
  const snap = await rig.fakes.call<Snapshot>('snapshot', { since: t0 - 5 }, 30_000);
  const rows = await readRows(rig, submitted.flatMap((s) => (s.id ? [s.id] : [])));
  const configs = rig.spec.variants.map((v) =>
    buildConfig(
      rig.spec,
      v,
      delayS,
      submitted.filter((s) => s.variant === v),
      rows,
      snap,
      rig.events,
      finished,
    ),
  );
  const wallMs = Date.now() - t0;
  return {
    delayS,
    engineTimesMs: times,
    startAt: t0,
    endAt: t1,
    wallMs: t1 - t0,
    resources: {
      othersBusyPct: null,
      atelierCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      fakesCpuMs: Math.round((snap.cpu.user + snap.cpu.system - fakes0.cpu.user - fakes0.cpu.system) / 1000),
      machineBusyPct: machine0 === null || machine1 === null ? null : Math.round(((machine1 - machine0) / (wallMs * os.cpus().length)) * 1000) / 10,
      eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e5) / 10,
      eventLoopDelayMaxMs: Math.round(loop.max / 1e5) / 10,
    },
    configs,
  };
}

export interface RigResult {
  spec: RigSpec;
  startedAt: string;
  finishedAt: string;
  workerConcurrency: number;
  webhookBaseUrl: string | null;
  runner: { pollStartMs: number; pollMaxMs: number };
  clockOffsetMs: number;
  phases: PhaseResult[];
  error: string | null;
}

/** One rig, start to finish. Runs in its own process (see `rigMain`). */
async function runRig(spec: RigSpec, log: (line: string) => void): Promise<RigResult> {
  const startedAt = new Date().toISOString();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-engines-'));
  let fakes: Child<FakeEnginesInfo> | null = null;
  let server: Atelier | null = null;
  let unsubscribe: (() => void) | null = null;
  const phases: PhaseResult[] = [];
  const variants = new Set(spec.variants);
  const needed = spec.variants.length * spec.concurrency;
  const workers = spec.workers ?? Math.max(DEFAULT_WORKERS, needed);
  const base = { spec, workerConcurrency: workers, webhookBaseUrl: null as string | null, runner: PACING[spec.webhooks], clockOffsetMs: 0 };
  try {
    const comfy = variants.has('comfyui-ws') || variants.has('comfyui-nows');
    const fakeOptions: FakeEnginesOptions = {
      bfl: variants.has('bfl'),
      fal: variants.has('fal'),
      replicate: variants.has('replicate'),
      // One ComfyUI server per concurrent generation: each runs one prompt at a time, like one GPU.
      comfyuiServers: comfy ? spec.concurrency : 0,
      comfyuiRefuseWebSockets: variants.has('comfyui-nows'),
      bflWebhooks: spec.webhooks === 'on',
    };
    fakes = await forkChild<FakeEnginesInfo>(path.join(import.meta.dirname, 'lib', 'fake-engines-child.ts'), fakeOptions, { name: `fake engines (${spec.name})` });
    const f = fakes.info;
    const catalogueFile = path.join(tmp, 'catalogue.json');
    fs.writeFileSync(catalogueFile, JSON.stringify(benchCatalogue(spec.variants), null, 2));
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    server = await startAtelier({
      kind: spec.db,
      port,
      publicUrl,
      env: {
        ENGINE_WEBHOOKS: spec.webhooks,
        CATALOGUE_FILE: catalogueFile,
        // One user submits every generation; the per-user abuse limit (60/min) would reject some.
        RATE_LIMIT_GENERATIONS_PER_MINUTE: '1000000',
        WORKER_CONCURRENCY: String(workers),
        ...(f.bfl ? { BFL_API_KEY: f.bfl.apiKey, BFL_BASE_URL: f.bfl.url } : {}),
        ...(f.fal ? { FAL_KEY: f.fal.apiKey, FAL_BASE_URL: f.fal.url, FAL_JWKS_URL: f.fal.jwksUrl } : {}),
        ...(f.replicate ? { REPLICATE_API_TOKEN: f.replicate.apiToken, REPLICATE_BASE_URL: f.replicate.url } : {}),
        ...(f.comfyui ? { COMFYUI_URLS: f.comfyui.urls.join(',') } : {}),
      },
      // No runner override: the runner picks its production pacing from ENGINE_WEBHOOKS.
    });
    base.webhookBaseUrl = server.container.config.webhookBaseUrl;
    if ((base.webhookBaseUrl !== null) !== (spec.webhooks === 'on')) throw new Error(`rig ${spec.name}: expected webhooks ${spec.webhooks}, the server has webhookBaseUrl ${base.webhookBaseUrl}`);
    const cookie = await signUpOverHttp(server.baseUrl, server.container.config.publicUrl);
    const events = new Map<string, { count: number; last: number }>();
    unsubscribe = server.container.events.subscribeAll((e) => {
      const now = Date.now();
      const entry = events.get(e.generationId);
      if (entry) {
        entry.count++;
        entry.last = now;
      } else events.set(e.generationId, { count: 1, last: now });
    });
    const rig: Rig = { spec, server, fakes, cookie, events, log };
    base.clockOffsetMs = await clockOffset(rig);
    if (Math.abs(base.clockOffsetMs) > 5) log(`  ! ${spec.name}: database clock is ${base.clockOffsetMs} ms off this process's clock; detection mixes the two`);

    if (spec.warmup && !aborted) {
      // One short generation per engine: JIT, sharp, connection pools, ComfyUI sockets, fal's JWKS, Replicate's secret.
      const { submitted, finished } = await runBatch(rig, 'warmup', 1, [300], Date.now() + 60_000);
      if (finished.size < submitted.length) log(`  ! ${spec.name}: ${submitted.length - finished.size} warm-up generation(s) did not finish`);
    }
    for (const delayS of spec.delaysS) {
      if (aborted) break;
      const phase = await runPhase(rig, delayS);
      phases.push(phase);
      if (!spec.quiet) {
        const bad = phase.configs.reduce((a, c) => a + c.failed + c.unfinished, 0);
        log(`  ${spec.name}: ${delayS} s done in ${(phase.wallMs / 1000).toFixed(1)} s${bad ? `, ${bad} failed or unfinished` : ''} (machine ${phase.resources.machineBusyPct ?? '–'}% busy)`);
      }
    }
    return { ...base, startedAt, finishedAt: new Date().toISOString(), phases, error: null };
  } catch (error) {
    log(`  ! rig ${spec.name} failed: ${String(error)}`);
    return { ...base, startedAt, finishedAt: new Date().toISOString(), phases, error: String(error) };
  } finally {
    unsubscribe?.();
    await server?.close().catch((e: unknown) => log(`  ! ${spec.name}: closing the server or dropping its database failed: ${String(e)}`));
    await fakes?.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const RIG_ENV = 'ATELIER_BENCH_ENGINES_RIG';

/** Entry point of a rig process: runs the rig given in argv[2] when asked to, answers with its result. */
function rigMain(): void {
  const spec = JSON.parse(process.argv[2] ?? '{}') as RigSpec;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let running: Promise<RigResult> | null = null;
  serveParent(
    { name: spec.name },
    {
      run: () => (running ??= runRig(spec, log)),
      abort: () => {
        aborted = true;
        return true;
      },
    },
    async () => {
      aborted = true;
      await running?.catch(() => undefined);
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Reporting

export interface EnginesResult {
  benchmark: 'engines';
  db: DbKind;
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machineInfo> & { loadavgAfter: number[] };
  options: Omit<EnginesOptions, 'outDir' | 'quiet'>;
  rigs: RigResult[];
}

function allConfigs(r: EnginesResult): ConfigResult[] {
  return r.rigs.flatMap((rig) => rig.phases.flatMap((p) => p.configs));
}

const ORDER = (c: ConfigResult) => `${ALL_VARIANTS.indexOf(c.variant)}-${c.webhooks}-${String(c.delayS).padStart(6, '0')}`;

export function formatResult(r: EnginesResult): string {
  const out: string[] = [];
  const configs = allConfigs(r).sort((a, b) => ORDER(a).localeCompare(ORDER(b)));
  out.push(`\n=== engine completion detection — ${r.db}, ${r.options.concurrency} generations per engine and delay, engine times delay × (1 ± ${r.options.spread}), ${r.options.width}×${r.options.height} ===`);
  out.push('detection = engine_finished_at (DB) − task ready (fake); grid = what the poll schedule alone predicts for these engine times;');
  out.push('calls = engine requests per generation (submit + polls + result + download, plus requests naming no task ÷ n); hook lag = ready → webhook sent by the fake\n');
  out.push(
    table(
      ['engine', 'webhooks', 'push', 'delay s', 'ok/n', 'engine s', 'detect p50', 'p95', 'max', 'grid p50', 'missed push', 'calls/gen', 'polls/gen', 'hook lag p50', 'e2e p50', 'overhead p50'],
      configs.map((c) => [
        VARIANT_INFO[c.variant].label,
        c.webhooks,
        c.webhooks === 'on' || c.variant.startsWith('comfyui') ? c.push : '–',
        c.delayS,
        `${c.succeeded}/${c.submitted}`,
        c.summary.engineMs.n ? `${((c.summary.engineMs.min ?? 0) / 1000).toFixed(1)}–${((c.summary.engineMs.max ?? 0) / 1000).toFixed(1)}` : null,
        fmtMs(c.summary.detection.p50),
        fmtMs(c.summary.detection.p95),
        fmtMs(c.summary.detection.max),
        fmtMs(c.summary.scheduleOnly.p50),
        c.missedPush.length ? String(c.missedPush.length) : '',
        c.callsPerGeneration === null ? null : c.callsPerGeneration.toFixed(1),
        fmtMs(c.summary.polls.mean, 1),
        fmtMs(c.summary.webhookLag.p50),
        fmtMs(c.summary.endToEnd.p50),
        fmtMs(c.summary.overhead.p50),
      ]),
    ),
  );
  // The same, as a matrix: detection p50 / p95 by delay.
  const delays = [...new Set(configs.map((c) => c.delayS))].sort((a, b) => a - b);
  const keys = [...new Set(configs.map((c) => `${c.variant}|${c.webhooks}`))];
  const cell = (variant: string, webhooks: string, d: number, f: (c: ConfigResult) => string | null) => {
    const c = configs.find((x) => x.variant === variant && x.webhooks === webhooks && x.delayS === d);
    return c ? f(c) : null;
  };
  out.push('\n--- detection p50 / p95, ms ---');
  out.push(table(['engine', 'webhooks', ...delays.map((d) => `${d} s`)], keys.map((k) => { const [v, w] = k.split('|') as [Variant, string]; return [VARIANT_INFO[v].label, w, ...delays.map((d) => cell(v, w, d, (c) => `${fmtMs(c.summary.detection.p50) ?? '–'} / ${fmtMs(c.summary.detection.p95) ?? '–'}`))]; })));
  out.push('\n--- engine calls per generation (mean) ---');
  out.push(table(['engine', 'webhooks', ...delays.map((d) => `${d} s`)], keys.map((k) => { const [v, w] = k.split('|') as [Variant, string]; return [VARIANT_INFO[v].label, w, ...delays.map((d) => cell(v, w, d, (c) => (c.callsPerGeneration === null ? null : c.callsPerGeneration.toFixed(1))))]; })));
  out.push('\n--- rigs ---');
  for (const rig of r.rigs) {
    out.push(`${rig.spec.name}: ENGINE_WEBHOOKS=${rig.spec.webhooks}, poll ${rig.runner.pollStartMs}→${rig.runner.pollMaxMs} ms ×1.5, ${rig.workerConcurrency} workers, db clock offset ${rig.clockOffsetMs} ms${rig.error ? `, ERROR ${rig.error}` : ''}`);
    for (const p of rig.phases) {
      const x = p.resources;
      out.push(`  ${p.delayS} s: ${(p.wallMs / 1000).toFixed(1)} s wall, Atelier CPU ${x.atelierCpuMs} ms, fakes CPU ${x.fakesCpuMs} ms, event loop delay p99 ${x.eventLoopDelayP99Ms} ms / max ${x.eventLoopDelayMaxMs} ms, machine ${x.machineBusyPct ?? '–'}% busy (other processes ${x.othersBusyPct ?? '–'}%)`);
    }
  }
  for (const c of configs) {
    if (c.missedPush.length) out.push(`  ! ${VARIANT_INFO[c.variant].label}, ${c.webhooks}, ${c.delayS} s: ${c.missedPush.length} generation(s) seen more than 1 s after their push (${c.push}) arrived: ${c.missedPush.join(', ')}`);
    if (c.sharedComfyServer) out.push(`  ! ${VARIANT_INFO[c.variant].label}, ${c.webhooks}, ${c.delayS} s: ${c.sharedComfyServer} generations shared a ComfyUI server with another one (concurrent shortest-queue picks); their queue wait counts as engine time`);
    if (c.webhooksNot2xx) out.push(`  ! ${VARIANT_INFO[c.variant].label}, ${c.delayS} s: ${c.webhooksNot2xx} webhook deliveries not answered 2xx`);
  }
  const bad = configs.flatMap((c) => c.generations.filter((g) => g.error || (g.status && g.status !== 'succeeded') || (g.attempt ?? 1) > 1 || !g.status));
  for (const g of bad.slice(0, 10)) out.push(`  ! ${g.tag} ${g.id ?? '(no id)'}: http ${g.httpStatus} status ${g.status} attempt ${g.attempt} ${g.error ?? ''}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------

/**
 * Samples, once a second, the machine's busy CPU and that of this benchmark's processes (this one, the rigs and
 * their fake engines), so that each phase can say how much of the machine other processes took meanwhile.
 */
function startLoadSampler() {
  const ours = createCpuAccumulator();
  const samples: { at: number; machineMs: number; oursMs: number }[] = [];
  const sample = () => {
    ours.sample([process.pid, ...descendantPids(process.pid)]);
    const machine = machineBusyMs();
    if (machine !== null) samples.push({ at: Date.now(), machineMs: machine, oursMs: ours.totalMs() });
  };
  sample();
  const timer = setInterval(sample, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
    },
    /** Share of the machine (all cores) used by other processes between two times, or null without /proc. */
    othersPct(from: number, to: number): number | null {
      const a = samples.filter((x) => x.at <= from).at(-1) ?? samples[0];
      const b = samples.find((x) => x.at >= to) ?? samples.at(-1);
      if (!a || !b || b.at <= a.at) return null;
      const capacity = (b.at - a.at) * os.cpus().length;
      return Math.round((Math.max(0, b.machineMs - a.machineMs - (b.oursMs - a.oursMs)) / capacity) * 1000) / 10;
    },
  };
}

export async function main(argv: string[]): Promise<EnginesResult> {
  const options = parseOptions(argv);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const rigs = new Map<RigSpec, Child<{ name: string }>>();
  const onSignal = () => {
    if (aborted) process.exit(130);
    aborted = true;
    log('interrupted: finishing the current step and cleaning up (Ctrl-C again to quit at once)');
    for (const child of rigs.values()) void child.call('abort').catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  fs.mkdirSync(options.outDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const specs = planRigs(options);
  const waves: RigSpec[][] =
    options.schedule === 'parallel' ? [specs] : options.schedule === 'serial' ? specs.map((s) => [s]) : options.webhooks.map((w) => specs.filter((s) => s.webhooks === w));
  // Start-up and warm-up, then each delay: its slowest engine time plus detection and the output pipeline.
  const waveS = options.delaysS.reduce((a, d) => a + d * (1 + options.spread) + 8, 25);
  log(`engines: ${waves.map((w) => w.map((s) => `${s.name} [${s.variants.join(', ')}]`).join(' + ')).join(', then ')}; delays ${options.delaysS.join(', ')} s; ${options.concurrency} per engine and delay (about ${Math.ceil((waveS * waves.length) / 60)} min)`);
  const load = startLoadSampler();
  const runOne = async (spec: RigSpec): Promise<RigResult | null> => {
    if (aborted) return null;
    let child: Child<{ name: string }> | null = null;
    try {
      child = await forkChild<{ name: string }>(import.meta.filename, spec, { name: `rig ${spec.name}`, env: { ...process.env, [RIG_ENV]: '1' }, startTimeoutMs: 60_000 });
      rigs.set(spec, child);
      // Each phase is bounded inside the rig; this only catches a rig that hangs outright.
      const timeoutMs = spec.delaysS.reduce((a, d) => a + d * (1 + spec.spread) * 1000 + 180_000, 300_000);
      return await child.call<RigResult>('run', {}, timeoutMs);
    } catch (error) {
      log(`  ! rig ${spec.name}: ${String(error)}`);
      return null;
    } finally {
      await child?.close();
      rigs.delete(spec);
    }
  };
  const results: RigResult[] = [];
  try {
    for (const wave of waves) {
      if (aborted) break;
      for (const r of await Promise.all(wave.map(runOne))) if (r) results.push(r);
    }
  } finally {
    load.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const rig of results) for (const p of rig.phases) p.resources.othersBusyPct = load.othersPct(p.startAt, p.endAt);
  const { outDir: _outDir, quiet: _quiet, ...recorded } = options;
  const result: EnginesResult = {
    benchmark: 'engines',
    db: options.db,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadavgAfter: os.loadavg().map((v) => Math.round(v * 100) / 100) },
    options: recorded,
    rigs: results,
  };
  const file = path.join(options.outDir, `engines-${options.db}-${startedAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${formatResult(result)}\n`);
  log(`  wrote ${path.relative(process.cwd(), file)}`);
  return result;
}

if (process.env[RIG_ENV]) {
  rigMain();
} else if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  await main(process.argv.slice(2));
  // Everything is closed by now; if some library still holds a handle, do not hang the shell.
  setTimeout(() => {
    process.stderr.write('engines: a handle was still open after cleanup; exiting anyway\n');
    process.exit(0);
  }, 5_000).unref();
}
