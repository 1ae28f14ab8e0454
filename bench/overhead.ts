/**
 * Overhead per generation: what Atelier adds on top of the engine's own time.
 *
 * A real Atelier, wired as `main.ts start` wires it (HTTP server, pg-boss workers, runner with its PRODUCTION poll pacing, sharp pipeline,
 * encrypted storage) on PGlite and/or a fresh PostgreSQL database, with BFL pointed at the contract-faithful
 * fake BFL API running in a child process with a fixed engine time. One user, signed up through the real
 * endpoint, submits generations over loopback HTTP; completion is observed through the event hub (the
 * NOTIFY that the completing transaction sends), not by polling.
 *
 *   node bench/overhead.ts [--db pglite|postgres|both] [--engine-ms 2000] [--concurrency 1,64] ...
 *   npm run bench -- overhead [same flags]
 *
 * See bench/README.md for what each number means. This is a measurement: it asserts nothing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { startAtelier, type Atelier, type DbKind } from './lib/atelier.ts';
import type { Snapshot, TaskTiming, RequestTiming } from './lib/fake-bfl-child.ts';
import { createCpuAccumulator, fmtMs, machineBusyMs, machineInfo, summarise, table, type Summary } from './lib/stats.ts';

export interface OverheadOptions {
  dbs: DbKind[];
  engineMs: number;
  concurrency: number[];
  /** Bursts per concurrency level; default 10 for concurrency 1, else 1. */
  rounds: number | null;
  width: number;
  height: number;
  /** WORKER_CONCURRENCY override; null keeps the production default (32). */
  workers: number | null;
  warmup: number;
  timeoutS: number | null;
  outDir: string;
  quiet: boolean;
}

const USAGE = `Usage: node bench/overhead.ts [options]

  --db pglite|postgres|both   database(s) to measure (default both)
  --engine-ms N               fixed engine time of the fake BFL, ms (default 2000)
  --concurrency LIST          comma-separated concurrency levels (default 1,64; 512 also works)
  --rounds N                  bursts per level (default: 10 for concurrency 1, 1 otherwise)
  --size WxH                  image size, multiples of 16 (default 1024x1024)
  --workers N                 WORKER_CONCURRENCY (default: the production default, 32)
  --warmup N                  unrecorded generations before measuring (default 2)
  --timeout-s N               give up on a level after N s (default: from the expected duration)
  --out DIR                   where to write JSON (default bench/results)
  --quiet                     no per-level progress lines
`;

export function parseOptions(argv: string[]): OverheadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'both' },
      'engine-ms': { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '1,64' },
      rounds: { type: 'string' },
      size: { type: 'string', default: '1024x1024' },
      workers: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      'timeout-s': { type: 'string' },
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
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")\n\n${USAGE}`);
    return n;
  };
  const db = values.db;
  if (db !== 'pglite' && db !== 'postgres' && db !== 'both') throw new Error(`--db must be pglite, postgres or both (got "${db}")\n\n${USAGE}`);
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) throw new Error(`--size must look like 1024x1024 (got "${values.size}")`);
  return {
    dbs: db === 'both' ? ['pglite', 'postgres'] : [db],
    engineMs: int('engine-ms', values['engine-ms'], 0, 600_000),
    concurrency: values.concurrency.split(',').map((c) => int('concurrency', c.trim(), 1, 2048)),
    rounds: values.rounds === undefined ? null : int('rounds', values.rounds, 1, 1000),
    width: int('size', size[1]!, 64, 4096),
    height: int('size', size[2]!, 64, 4096),
    workers: values.workers === undefined ? null : int('workers', values.workers, 1, 1000),
    warmup: int('warmup', values.warmup, 0, 100),
    timeoutS: values['timeout-s'] === undefined ? null : int('timeout-s', values['timeout-s'], 1, 86_400),
    outDir: path.resolve(values.out),
    quiet: values.quiet,
  };
}

// ---------------------------------------------------------------------------------------------------
// The fake BFL API, in a child process

interface FakeProcess {
  url: string;
  apiKey: string;
  pid: number;
  snapshot(): Promise<Snapshot>;
  close(): Promise<void>;
}

async function startFakeProcess(options: Record<string, unknown>): Promise<FakeProcess> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'lib', 'fake-bfl-child.ts'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake BFL process did not start within 30 s')), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fake BFL process exited early (code ${code})`)));
    child.once('message', (m: unknown) => {
      clearTimeout(timer);
      resolve(m as { url: string; apiKey: string });
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ...ready,
    pid: child.pid!,
    snapshot: () =>
      new Promise<Snapshot>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the fake BFL process did not answer a snapshot within 10 s')), 10_000);
        child.once('message', (m: unknown) => {
          clearTimeout(timer);
          resolve(m as Snapshot);
        });
        child.send({ type: 'snapshot' });
      }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// One generation's measurements

export interface GenerationSample {
  id: string | null;
  httpStatus: number;
  error: string | null;
  status: string | null;
  attempt: number | null;
  /** Absolute times (ms since epoch). DB times are `now()` = the START of the transaction that wrote them. */
  sentAt: number;
  respondedAt: number;
  createdAt: number | null;
  startedAt: number | null;
  engineSubmittedAt: number | null;
  engineReadyAt: number | null;
  detectedAt: number | null;
  downloadAt: number | null;
  completedAt: number | null;
  /** The last generation event seen for it: the NOTIFY of the completing transaction, i.e. after commit. */
  doneAt: number | null;
  polls: number;
  events: number;
  /** Derived (ms). */
  endToEnd: number | null;
  engine: number | null;
  overhead: number | null;
  phases: Record<PhaseName, number | null>;
  http202: number;
}

const PHASES = ['ingress', 'queueWait', 'submit', 'detection', 'fetch', 'pipeline', 'notify'] as const;
type PhaseName = (typeof PHASES)[number];
const PHASE_LABELS: Record<PhaseName, string> = {
  ingress: '  ingress: request sent → insert tx',
  queueWait: '  queue wait: created → claimed',
  submit: '  claim → engine accepted submit',
  detection: '  detection: engine ready → seen',
  fetch: '  seen → download request',
  pipeline: '  download + sharp + store → succeed tx',
  notify: '  succeed tx → event received',
};

const diff = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : a - b);

function derive(s: Omit<GenerationSample, 'endToEnd' | 'engine' | 'overhead' | 'phases'>): GenerationSample {
  const engine = diff(s.engineReadyAt, s.engineSubmittedAt);
  const endToEnd = diff(s.doneAt, s.sentAt);
  return {
    ...s,
    endToEnd,
    engine,
    overhead: endToEnd === null || engine === null ? null : endToEnd - engine,
    phases: {
      ingress: diff(s.createdAt, s.sentAt),
      queueWait: diff(s.startedAt, s.createdAt),
      submit: diff(s.engineSubmittedAt, s.startedAt),
      detection: diff(s.detectedAt, s.engineReadyAt),
      fetch: diff(s.downloadAt, s.detectedAt),
      pipeline: diff(s.completedAt, s.downloadAt),
      notify: diff(s.doneAt, s.completedAt),
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// A running Atelier under measurement

interface Rig {
  kind: DbKind;
  server: Atelier;
  baseUrl: string;
  cookie: string;
  fake: FakeProcess;
  /** Per generation id: number of events and the time of the last one. */
  events: Map<string, { count: number; last: number }>;
  options: OverheadOptions;
  workers: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'blocked', 'canceled']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let aborted = false;

/**
 * Signs one user up through the real endpoint, as the studio does. (The harness's signUp() relies on
 * better-auth skipping its Origin check under NODE_ENV=test; this server runs as production.)
 */
async function signUpOverHttp(baseUrl: string, publicUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(publicUrl).origin, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email: `bench-${process.pid}-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench User', ageConfirmed: true }),
  });
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function submit(rig: Rig, i: number): Promise<{ id: string | null; httpStatus: number; error: string | null; sentAt: number; respondedAt: number }> {
  const body = JSON.stringify({ model: 'flux-2-pro', prompt: `benchmark generation ${i}: a lighthouse at dusk`, width: rig.options.width, height: rig.options.height });
  const sentAt = Date.now();
  try {
    const res = await fetch(`${rig.baseUrl}/api/generations`, { method: 'POST', headers: { cookie: rig.cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    const respondedAt = Date.now();
    if (res.status !== 202) return { id: null, httpStatus: res.status, error: text.slice(0, 300), sentAt, respondedAt };
    return { id: (JSON.parse(text) as { id: string }).id, httpStatus: res.status, error: null, sentAt, respondedAt };
  } catch (error) {
    return { id: null, httpStatus: 0, error: String(error), sentAt, respondedAt: Date.now() };
  }
}

/** Waits until every id is terminal in the database. Checks when events arrive (plus a slow backstop), so it adds almost no load. */
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

/** Database clock minus this process's clock, ms (now() is the transaction start; midpoint of the round trip). */
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

const REST_MS = 5_000;

/** Committed + rolled-back transactions in this database so far (PostgreSQL only: PGlite keeps no statistics). */
async function committedTransactions(rig: Rig): Promise<number | null> {
  if (rig.kind !== 'postgres') return null;
  const { rows } = await sql<{ n: string }>`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`.execute(rig.server.container.database.db);
  return Number(rows[0]!.n);
}

async function postgresBackendPids(rig: Rig): Promise<number[]> {
  if (rig.kind !== 'postgres') return [];
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(rig.server.container.database.db);
  return rows.map((r) => Number(r.pid));
}

export interface LevelResult {
  concurrency: number;
  rounds: number;
  submitted: number;
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
  wallMs: number;
  throughputPerS: number | null;
  summary: Record<'endToEnd' | 'engine' | 'overhead' | 'http202' | 'polls' | PhaseName, Summary>;
  resources: {
    atelierCpuMsPerGen: number;
    atelierCpuMsPerS: number;
    fakeBflCpuMsPerGen: number;
    postgresServerCpuMsPerGen: number | null;
    machineCpuMsPerGen: number | null;
    machineBusyPct: number | null;
    /** Machine CPU not spent by Atelier, the fake BFL or our PostgreSQL backends: noise from whatever else runs here. */
    otherProcessesBusyPct: number | null;
    loadavgAtStart: number;
    eventLoopUtilization: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    peakRssMb: number;
    rssBeforeMb: number;
    rssAfterMb: number;
    peakHeapUsedMb: number;
  };
  generations: GenerationSample[];
}

async function runLevel(rig: Rig, concurrency: number, rounds: number, log: (line: string) => void): Promise<LevelResult> {
  const { container } = rig.server;
  const db = container.database.db;
  const expectedMs = rounds * Math.ceil(concurrency / rig.workers) * (rig.options.engineMs + 5_000 + 2_000);
  const deadline = Date.now() + (rig.options.timeoutS ? rig.options.timeoutS * 1000 : 3 * expectedMs + 60_000);

  // Resource sampling.
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const rssBefore = peakRss;
  const pgCpu = createCpuAccumulator();
  pgCpu.sample(await postgresBackendPids(rig));
  const rssTimer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  let pgSampling = Promise.resolve();
  const pgTimer = rig.kind === 'postgres' ? setInterval(() => void (pgSampling = postgresBackendPids(rig).then((p) => pgCpu.sample(p), () => undefined)), 500) : null;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const fake0 = await rig.fake.snapshot();
  const machine0 = machineBusyMs();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const loadavgAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  loopDelay.enable();
  const t0 = Date.now();

  const submitted: Awaited<ReturnType<typeof submit>>[] = [];
  const finished = new Set<string>();
  let n = 0;
  try {
    for (let round = 0; round < rounds && !aborted && Date.now() < deadline; round++) {
      const burst = await Promise.all(Array.from({ length: concurrency }, () => submit(rig, n++)));
      submitted.push(...burst);
      const ids = burst.flatMap((b) => (b.id ? [b.id] : []));
      for (const id of await waitTerminal(rig, ids, deadline)) finished.add(id);
      if (rounds > 1 && !rig.options.quiet && (round + 1) % Math.max(1, Math.floor(rounds / 5)) === 0) log(`    … ${round + 1}/${rounds} rounds`);
    }
  } finally {
    clearInterval(rssTimer);
    if (pgTimer) clearInterval(pgTimer);
  }
  const t1 = Date.now();
  const cpu1 = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const machine1 = machineBusyMs();
  loopDelay.disable();
  await pgSampling;
  pgCpu.sample(await postgresBackendPids(rig));
  // The completing transaction's NOTIFY can reach us a moment after another query saw the row committed.
  await sleep(300);
  const fake1 = await rig.fake.snapshot();

  const ids = submitted.flatMap((s) => (s.id ? [s.id] : []));
  const rows = ids.length
    ? await db.selectFrom('generations').select(['id', 'status', 'attempt', 'created_at', 'started_at', 'completed_at', 'engine_request_id']).where('id', 'in', ids).execute()
    : [];
  const rowById = new Map(rows.map((r) => [r.id, r]));
  const taskById = new Map<string, TaskTiming>(fake1.tasks.map((t) => [t.id, t]));
  const requestsByTask = new Map<string, RequestTiming[]>();
  for (const r of fake1.requests) {
    if (!r.taskId) continue;
    const list = requestsByTask.get(r.taskId) ?? [];
    list.push(r);
    requestsByTask.set(r.taskId, list);
  }

  const generations = submitted.map((s): GenerationSample => {
    const row = s.id ? rowById.get(s.id) : undefined;
    const task = row?.engine_request_id ? taskById.get(row.engine_request_id) : undefined;
    const reqs = task ? (requestsByTask.get(task.id) ?? []) : [];
    const polls = reqs.filter((r) => r.route === 'poll');
    const download = reqs.find((r) => r.route === 'delivery');
    const ev = s.id ? rig.events.get(s.id) : undefined;
    const completedAt = row?.completed_at?.getTime() ?? null;
    // The terminal event is the last one; if the last one seen predates the completing transaction, it was missed.
    const doneAt = ev && completedAt !== null && ev.last >= completedAt - 5 && row && TERMINAL.has(row.status) ? ev.last : null;
    return derive({
      id: s.id,
      httpStatus: s.httpStatus,
      error: s.error,
      status: row?.status ?? null,
      attempt: row?.attempt ?? null,
      sentAt: s.sentAt,
      respondedAt: s.respondedAt,
      createdAt: row?.created_at.getTime() ?? null,
      startedAt: row?.started_at?.getTime() ?? null,
      engineSubmittedAt: task?.createdAt ?? null,
      engineReadyAt: task ? task.createdAt + task.processingMs : null,
      // The runner stops polling once it sees Ready, so the last poll is the one that saw it.
      detectedAt: polls.at(-1)?.at ?? null,
      downloadAt: download?.at ?? null,
      completedAt,
      doneAt,
      polls: polls.length,
      events: ev?.count ?? 0,
      http202: s.respondedAt - s.sentAt,
    });
  });

  const ok = generations.filter((g) => g.status === 'succeeded' && g.attempt === 1);
  const pick = (f: (g: GenerationSample) => number | null) => summarise(ok.map(f));
  const cpuMs = (cpu1.user + cpu1.system) / 1000;
  const fakeCpuMs = (fake1.cpu.user + fake1.cpu.system - fake0.cpu.user - fake0.cpu.system) / 1000;
  const succeeded = generations.filter((g) => g.status === 'succeeded').length;
  const perGen = (ms: number) => Math.round((ms / Math.max(1, succeeded)) * 10) / 10;
  const firstSent = Math.min(...generations.map((g) => g.sentAt));
  const lastDone = Math.max(...generations.map((g) => g.doneAt ?? g.completedAt ?? -Infinity));
  const wallMs = t1 - t0;
  const machineMs = machine0 !== null && machine1 !== null ? machine1 - machine0 : null;
  const capacityMs = wallMs * os.cpus().length;
  return {
    concurrency,
    rounds,
    submitted: submitted.length,
    succeeded,
    failed: generations.filter((g) => g.status !== null && TERMINAL.has(g.status) && g.status !== 'succeeded').length,
    rejected: submitted.filter((s) => !s.id).length,
    timedOut: ids.filter((id) => !finished.has(id)).length,
    wallMs,
    throughputPerS: succeeded && Number.isFinite(lastDone) ? Math.round((succeeded / ((lastDone - firstSent) / 1000)) * 100) / 100 : null,
    summary: {
      endToEnd: pick((g) => g.endToEnd),
      engine: pick((g) => g.engine),
      overhead: pick((g) => g.overhead),
      ...(Object.fromEntries(PHASES.map((p) => [p, pick((g) => g.phases[p])])) as Record<PhaseName, Summary>),
      http202: pick((g) => g.http202),
      polls: pick((g) => g.polls),
    },
    resources: {
      atelierCpuMsPerGen: perGen(cpuMs),
      atelierCpuMsPerS: Math.round((cpuMs / (wallMs / 1000)) * 10) / 10,
      fakeBflCpuMsPerGen: perGen(fakeCpuMs),
      postgresServerCpuMsPerGen: rig.kind === 'postgres' ? perGen(pgCpu.totalMs()) : null,
      machineCpuMsPerGen: machineMs === null ? null : perGen(machineMs),
      machineBusyPct: machineMs === null ? null : Math.round((machineMs / capacityMs) * 1000) / 10,
      otherProcessesBusyPct: machineMs === null ? null : Math.round((Math.max(0, machineMs - cpuMs - fakeCpuMs - pgCpu.totalMs()) / capacityMs) * 1000) / 10,
      loadavgAtStart,
      eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
      eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
      eventLoopDelayMaxMs: Math.round(loopDelay.max / 1e5) / 10,
      peakRssMb: Math.round(peakRss / 1024 / 1024),
      rssBeforeMb: Math.round(rssBefore / 1024 / 1024),
      rssAfterMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      peakHeapUsedMb: Math.round(peakHeap / 1024 / 1024),
    },
    generations,
  };
}

// ---------------------------------------------------------------------------------------------------
// One database: start everything, measure every level, tear it all down

export interface DbResult {
  benchmark: 'overhead';
  db: DbKind;
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machineInfo> & { loadavgAfter: number[] };
  config: {
    engineMs: number;
    width: number;
    height: number;
    workerConcurrency: number;
    runner: { pollStartMs: number; pollMaxMs: number };
    rateLimitGenerationsPerMinute: number;
    warmup: number;
    transport: string;
  };
  clockOffsetMs: number;
  rest: { rssMb: number; heapUsedMb: number; cpuMsPerS: number; transactionsPerS: number | null; measuredForMs: number };
  levels: LevelResult[];
}

const PRODUCTION_RUNNER = { pollStartMs: 500, pollMaxMs: 5_000 } as const;
const DEFAULT_WORKERS = 32;

async function runDb(kind: DbKind, options: OverheadOptions, log: (line: string) => void): Promise<DbResult> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  let fake: FakeProcess | null = null;
  let server: Atelier | null = null;
  let unsubscribe: (() => void) | null = null;
  try {
    // Far above any level we run: the bench measures Atelier, not BFL's per-account limit of 24 active tasks.
    fake = await startFakeProcess({ processingMs: options.engineMs, maxActiveTasks: 1_000_000, credits: 1e9 });
    const workers = options.workers ?? DEFAULT_WORKERS;
    server = await startAtelier({
      kind,
      env: {
        BFL_API_KEY: fake.apiKey,
        BFL_BASE_URL: fake.url,
        // The per-user abuse limit (default 60/min) would reject most of a 64-burst from one user.
        RATE_LIMIT_GENERATIONS_PER_MINUTE: '1000000',
        ...(options.workers ? { WORKER_CONCURRENCY: String(options.workers) } : {}),
      },
      runner: { ...PRODUCTION_RUNNER },
    });
    if (server.container.config.jobs.concurrency !== workers) throw new Error(`expected ${workers} workers, the server has ${server.container.config.jobs.concurrency}`);
    const { baseUrl } = server;
    const cookie = await signUpOverHttp(baseUrl, server.publicUrl);
    const events = new Map<string, { count: number; last: number }>();
    unsubscribe = server.container.events.subscribeAll((e) => {
      const now = Date.now();
      const entry = events.get(e.generationId);
      if (entry) {
        entry.count++;
        entry.last = now;
      } else events.set(e.generationId, { count: 1, last: now });
    });
    const rig: Rig = { kind, server, baseUrl, cookie, fake, events, options, workers };
    const offset = await clockOffset(rig);
    if (Math.abs(offset) > 5) log(`  ! database clock is ${offset} ms off this process's clock; phase splits that mix clocks are skewed by that much`);

    for (let i = 0; i < options.warmup && !aborted; i++) {
      const s = await submit(rig, -1 - i);
      if (s.id) await waitTerminal(rig, [s.id], Date.now() + options.engineMs + 60_000);
      else log(`  ! warm-up submit failed: ${s.httpStatus} ${s.error}`);
    }

    // At rest: after warm-up, nothing in flight.
    const restXacts0 = await committedTransactions(rig);
    const restCpu0 = process.cpuUsage();
    const restT0 = Date.now();
    await sleep(REST_MS);
    const restCpu = process.cpuUsage(restCpu0);
    const restS = (Date.now() - restT0) / 1000;
    const restXacts1 = await committedTransactions(rig);
    const rest = {
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
      cpuMsPerS: Math.round(((restCpu.user + restCpu.system) / 1000 / restS) * 10) / 10,
      // Minus our own two reads. PostgreSQL flushes these counters about once a second per busy backend, so this is approximate.
      transactionsPerS: restXacts0 === null || restXacts1 === null ? null : Math.round(((restXacts1 - restXacts0 - 1) / restS) * 10) / 10,
      measuredForMs: Date.now() - restT0,
    };

    const levels: LevelResult[] = [];
    for (const c of options.concurrency) {
      if (aborted) break;
      const rounds = options.rounds ?? (c === 1 ? 10 : 1);
      if (!options.quiet) log(`  ${kind}: concurrency ${c} × ${rounds} round(s) = ${c * rounds} generations …`);
      const level = await runLevel(rig, c, rounds, log);
      levels.push(level);
      if (!options.quiet) log(`    done in ${(level.wallMs / 1000).toFixed(1)} s: ${level.succeeded} succeeded, ${level.failed} failed, ${level.rejected} rejected, ${level.timedOut} unfinished`);
    }

    return {
      benchmark: 'overhead',
      db: kind,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadavgAfter: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      config: {
        engineMs: options.engineMs,
        width: options.width,
        height: options.height,
        workerConcurrency: workers,
        runner: { ...PRODUCTION_RUNNER },
        rateLimitGenerationsPerMinute: 1_000_000,
        warmup: options.warmup,
        transport: 'HTTP/1.1 over loopback (undici fetch → Fastify), cookie session',
      },
      clockOffsetMs: offset,
      rest,
      levels,
    };
  } finally {
    unsubscribe?.();
    await server?.close().catch((e: unknown) => log(`  ! closing the server or dropping its database failed: ${String(e)}`));
    await fake?.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reporting

const DB_LABEL: Record<DbKind, string> = { pglite: 'PGlite (embedded)', postgres: 'PostgreSQL 127.0.0.1' };

export function formatDb(r: DbResult): string {
  const out: string[] = [];
  out.push(`\n=== ${DB_LABEL[r.db]} — engine ${r.config.engineMs} ms, ${r.config.width}×${r.config.height}, ${r.config.workerConcurrency} workers, poll ${r.config.runner.pollStartMs}→${r.config.runner.pollMaxMs} ms ×1.5 ===`);
  out.push(`at rest after warm-up (${r.rest.measuredForMs} ms): RSS ${r.rest.rssMb} MB, heap ${r.rest.heapUsedMb} MB, CPU ${r.rest.cpuMsPerS} ms/s${r.rest.transactionsPerS === null ? '' : `, ${r.rest.transactionsPerS} database transactions/s`}; db clock offset ${r.clockOffsetMs} ms`);
  for (const l of r.levels) {
    out.push(`\n--- concurrency ${l.concurrency} × ${l.rounds} round(s): ${l.succeeded}/${l.submitted} succeeded${l.failed ? `, ${l.failed} failed` : ''}${l.rejected ? `, ${l.rejected} rejected` : ''}${l.timedOut ? `, ${l.timedOut} unfinished` : ''} in ${(l.wallMs / 1000).toFixed(1)} s ---`);
    const row = (label: string, s: Summary, digits = 0) => [label, fmtMs(s.p50, digits), fmtMs(s.p95, digits), fmtMs(s.max, digits), fmtMs(s.mean, digits)];
    out.push(
      table(['ms per generation', 'p50', 'p95', 'max', 'mean'], [
        row('end-to-end (sent → succeeded event)', l.summary.endToEnd),
        row('engine (fake submit → ready)', l.summary.engine),
        row('OVERHEAD (end-to-end − engine)', l.summary.overhead),
        ...PHASES.map((p) => row(PHASE_LABELS[p], l.summary[p])),
        row('HTTP 202 latency (not in the sum)', l.summary.http202),
        row('polls per generation', l.summary.polls, 1),
      ]),
    );
    const x = l.resources;
    out.push(
      `throughput ${l.throughputPerS ?? '–'} gen/s · Atelier CPU ${x.atelierCpuMsPerGen} ms/gen (${x.atelierCpuMsPerS} ms/s) · fake BFL CPU ${x.fakeBflCpuMsPerGen} ms/gen` +
        (x.postgresServerCpuMsPerGen !== null ? ` · PostgreSQL backends ${x.postgresServerCpuMsPerGen} ms/gen` : '') +
        (x.machineCpuMsPerGen !== null ? ` · whole machine ${x.machineCpuMsPerGen} ms/gen (${x.machineBusyPct}% busy, of which other processes ${x.otherProcessesBusyPct}%; load ${x.loadavgAtStart})` : ''),
    );
    out.push(`event loop: utilisation ${x.eventLoopUtilization}, delay p99 ${x.eventLoopDelayP99Ms} ms, max ${x.eventLoopDelayMaxMs} ms · RSS ${x.rssBeforeMb} → peak ${x.peakRssMb} MB (heap peak ${x.peakHeapUsedMb} MB)`);
    const failures = l.generations.filter((g) => g.error || (g.status && g.status !== 'succeeded') || (g.attempt ?? 1) > 1);
    for (const g of failures.slice(0, 5)) out.push(`  ! ${g.id ?? '(no id)'}: http ${g.httpStatus} status ${g.status} attempt ${g.attempt} ${g.error ?? ''}`);
  }
  return out.join('\n');
}

export function formatComparison(results: readonly DbResult[]): string {
  const rows = results.flatMap((r) =>
    r.levels.map((l) => [
      r.db,
      l.concurrency,
      l.succeeded,
      fmtMs(l.summary.endToEnd.p50),
      fmtMs(l.summary.overhead.p50),
      fmtMs(l.summary.overhead.p95),
      fmtMs(l.summary.overhead.max),
      fmtMs(l.summary.queueWait.p50),
      fmtMs(l.summary.detection.p50),
      fmtMs(l.summary.pipeline.p50),
      l.resources.atelierCpuMsPerGen.toFixed(0),
      String(l.resources.peakRssMb),
      l.throughputPerS === null ? null : l.throughputPerS.toFixed(2),
    ]),
  );
  return `\n=== summary (ms; overhead = end-to-end − engine) ===\n${table(['db', 'conc', 'ok', 'e2e p50', 'ovh p50', 'ovh p95', 'ovh max', 'queue p50', 'detect p50', 'pipeline p50', 'CPU ms/gen', 'peak RSS MB', 'gen/s'], rows)}`;
}

// ---------------------------------------------------------------------------------------------------

const CHILD_ENV = 'ATELIER_BENCH_OVERHEAD_CHILD';

/** Runs one database in a fresh process (so PGlite's memory, JIT state and CPU do not leak into the other's numbers). */
async function runDbInChild(kind: DbKind, argv: string[], log: (line: string) => void): Promise<DbResult | null> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--db') i++;
    else if (!argv[i]!.startsWith('--db=')) args.push(argv[i]!);
  }
  const child = fork(import.meta.filename, [...args, '--db', kind], { env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let result: DbResult | null = null;
  child.on('message', (m: unknown) => {
    const message = m as { type?: string; result?: DbResult };
    if (message.type === 'result' && message.result) result = message.result;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) log(`  ! the ${kind} run exited with code ${code}`);
  return result;
}

export async function main(argv: string[]): Promise<DbResult[]> {
  const options = parseOptions(argv);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const onSignal = () => {
    if (aborted) process.exit(130);
    aborted = true;
    log('interrupted: finishing the current step and cleaning up (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  fs.mkdirSync(options.outDir, { recursive: true });
  const results: DbResult[] = [];
  try {
    if (options.dbs.length > 1 && !process.env[CHILD_ENV]) {
      for (const kind of options.dbs) {
        if (aborted) break;
        const result = await runDbInChild(kind, argv, log);
        if (result) results.push(result);
      }
      if (results.length) process.stdout.write(`${formatComparison(results)}\n`);
      return results;
    }
    for (const kind of options.dbs) {
      if (aborted) break;
      log(`overhead: ${DB_LABEL[kind]}, engine ${options.engineMs} ms, concurrency ${options.concurrency.join(',')}`);
      const result = await runDb(kind, options, log);
      results.push(result);
      const file = path.join(options.outDir, `overhead-${kind}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
      fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`${formatDb(result)}\n`);
      log(`  wrote ${path.relative(process.cwd(), file)}`);
      process.send?.({ type: 'result', result });
    }
    if (results.length && !process.env[CHILD_ENV]) process.stdout.write(`${formatComparison(results)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return results;
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  await main(process.argv.slice(2));
  // Everything is closed by now; if some library still holds a handle, do not hang the shell.
  setTimeout(() => {
    process.stderr.write('overhead: a handle was still open after cleanup; exiting anyway\n');
    process.exit(0);
  }, 5_000).unref();
}
