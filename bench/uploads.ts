/**
 * Reference uploads: what Atelier's upload pipeline (validate by content, size-check the header, decode and
 * re-encode without metadata, 256 px thumbnail, encrypt both, write both, insert the row) costs per ~2 MP
 * JPEG, next to sharp's bare decode + re-encode of the same files with the same output settings, in the
 * same server process and the same run.
 *
 *   node bench/uploads.ts [--db pglite|postgres] [--per-file 20] [--concurrency 4] ...
 *   npm run bench -- uploads [same flags]
 *
 * Modes, each over the same 10 files:
 *   http    POST /api/uploads (multipart, cookie session) to a real Atelier in its own process
 *   direct  UploadService.create in the server process (no HTTP, no multipart)
 *   steps   the service's steps one at a time, each timed (sequential only; a diagnostic)
 *   bare    sharp alone in the server process: decode + JPEG q92 (optimised Huffman), the service's settings
 *   bare+thumb  the same plus the 256 px WebP thumbnail: the image work the service does, without its checks
 *   http-refused  the same request with the file's first bytes made a GIF signature: Atelier reads the whole body,
 *               then refuses it at the content sniff (415). What HTTP, the session, the quota pre-check and
 *               multipart parsing cost without any image work (sequential only; a diagnostic)
 * The modes are interleaved round by round, so that load from other processes falls on all of them alike.
 * This is a measurement: it asserts nothing. See bench/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { DbKind } from './lib/atelier.ts';
import { startAtelierChild, stopAtelierChild, type AtelierChildInfo } from './lib/atelier-child.ts';
import type { Child } from './lib/child.ts';
import { runPool, summariseLatency, type LatencySummary } from './lib/latency.ts';
import { makePhotoJpegs } from './lib/photo-jpegs.ts';
import { startPeakRss, readRss } from './lib/process-memory.ts';
import { machineBusyMs, machineInfo, processCpuMs, table } from './lib/stats.ts';
import { STEP_NAMES, type StepName, type StepsBatch, type TimedBatch } from './lib/uploads-server.ts';

const USAGE = `Usage: node bench/uploads.ts [options]

  --db pglite|postgres   database of the server (default pglite)
  --files N              distinct JPEGs (default 10)
  --size WxH             their size (default 1732x1155, 2.0 MP)
  --quality N            their JPEG quality (default 90)
  --per-file N           samples per file and mode (default 20: 200 per mode)
  --concurrency N        the concurrent phase's level (default 4; 0 skips it)
  --out DIR              where to write JSON (default bench/results)
`;

interface Options {
  db: DbKind;
  files: number;
  width: number;
  height: number;
  quality: number;
  perFile: number;
  concurrency: number;
  outDir: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'pglite' },
      files: { type: 'string', default: '10' },
      size: { type: 'string', default: '1732x1155' },
      quality: { type: 'string', default: '90' },
      'per-file': { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '4' },
      out: { type: 'string', default: path.join(import.meta.dirname, 'results') },
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
  if (values.db !== 'pglite' && values.db !== 'postgres') throw new Error(`--db must be pglite or postgres (got "${values.db}")`);
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) throw new Error(`--size must look like 1732x1155 (got "${values.size}")`);
  return {
    db: values.db,
    files: int('files', values.files, 1, 100),
    width: int('size', size[1]!, 16, 8192),
    height: int('size', size[2]!, 16, 8192),
    quality: int('quality', values.quality, 1, 100),
    perFile: int('per-file', values['per-file'], 1, 1000),
    concurrency: int('concurrency', values.concurrency, 0, 64),
    outDir: path.resolve(values.out),
  };
}

const MODES = ['bare', 'bare+thumb', 'steps', 'direct', 'http', 'http-refused'] as const;
type Mode = (typeof MODES)[number];
/** Diagnostics run sequentially only. */
const CONCURRENT_MODES: readonly Mode[] = ['bare', 'bare+thumb', 'direct', 'http'];
const MODE_LABELS: Record<Mode, string> = {
  bare: 'bare sharp: decode + JPEG q92',
  'bare+thumb': 'bare sharp + 256 px WebP thumb',
  steps: 'service steps, one at a time',
  direct: 'UploadService.create (no HTTP)',
  http: 'POST /api/uploads (end to end)',
  'http-refused': 'POST /api/uploads, refused at sniff',
};

/** Everything recorded for one mode at one concurrency level. */
interface Tally {
  ms: number[];
  wallMs: number;
  serverCpuMs: number;
  clientCpuMs: number;
  machineBusyMs: number;
  peakRssBytes: number;
  peakRssSource: string;
  /** http modes: the server's own time for these requests (sum of Fastify's reply.elapsedTime), and how many. */
  serverHttpMs: number;
  serverHttpCount: number;
}

const newTally = (): Tally => ({ ms: [], wallMs: 0, serverCpuMs: 0, clientCpuMs: 0, machineBusyMs: 0, peakRssBytes: 0, peakRssSource: '', serverHttpMs: 0, serverHttpCount: 0 });

type HttpTime = Record<string, { sumS: number; count: number }>;
const httpTotals = (t: HttpTime) => Object.values(t).reduce((a, v) => ({ ms: a.ms + v.sumS * 1000, count: a.count + v.count }), { ms: 0, count: 0 });

interface Rig {
  server: Child<AtelierChildInfo>;
  cookie: string;
  userId: string;
  files: Buffer[];
  refused: Buffer[];
}

async function signUp(baseUrl: string, publicUrl: string): Promise<{ cookie: string; userId: string }> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(publicUrl).origin, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email: `bench-uploads-${process.pid}-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench User', ageConfirmed: true }),
  });
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string } };
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), userId: body.user.id };
}

async function uploadOverHttp(rig: Rig, bytes: Buffer, index: number, expectStatus = 201): Promise<{ ms: number; id: string | null }> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'image/jpeg' }), `photo-${index}.jpg`);
  const start = performance.now();
  const res = await fetch(`${rig.server.info.baseUrl}/api/uploads`, { method: 'POST', headers: { cookie: rig.cookie, 'sec-fetch-site': 'same-origin' }, body: form, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status !== expectStatus) throw new Error(`upload: expected ${expectStatus}, got ${res.status} ${text.slice(0, 300)}`);
  return { ms, id: res.status === 201 ? (JSON.parse(text) as { id: string }).id : null };
}

/** The same bytes behind a GIF signature: read in full, then refused by the content sniff before any decoding. */
const asRefused = (bytes: Buffer) => Buffer.concat([Buffer.from('GIF89a'), bytes.subarray(6)]);

/** Runs one batch of a mode (the files in `order`, at `concurrency`), adding its timings and resources to `tally`. */
async function runBatch(rig: Rig, mode: Mode, order: number[], concurrency: number, tally: Tally | null): Promise<Partial<Record<StepName, number[]>>> {
  const pid = rig.server.info.pid;
  const cpu0 = processCpuMs(pid) ?? 0;
  const client0 = process.cpuUsage();
  const machine0 = machineBusyMs() ?? 0;
  const peak = startPeakRss(pid);
  const http0 = mode.startsWith('http') ? httpTotals(await rig.server.call<HttpTime>('httpTime')) : null;
  const t0 = performance.now();
  let ms: number[];
  let ids: string[];
  let steps: Partial<Record<StepName, number[]>> = {};
  const timeoutMs = 60_000 + order.length * 10_000;
  switch (mode) {
    case 'bare':
    case 'bare+thumb': {
      const r = await rig.server.call<TimedBatch>('bare', { order, concurrency, thumbnail: mode === 'bare+thumb' }, timeoutMs);
      ({ ms, ids } = r);
      break;
    }
    case 'direct': {
      const r = await rig.server.call<TimedBatch>('direct', { userId: rig.userId, order, concurrency }, timeoutMs);
      ({ ms, ids } = r);
      break;
    }
    case 'steps': {
      const r = await rig.server.call<StepsBatch>('steps', { userId: rig.userId, order }, timeoutMs);
      ({ ms, ids, steps } = r);
      break;
    }
    case 'http':
    case 'http-refused': {
      const refused = mode === 'http-refused';
      const results = await runPool(order.length, concurrency, (k) => uploadOverHttp(rig, refused ? rig.refused[order[k]!]! : rig.files[order[k]!]!, order[k]!, refused ? 415 : 201));
      ms = results.map((r) => r.ms);
      ids = results.flatMap((r) => (r.id ? [r.id] : []));
      break;
    }
  }
  const wallMs = performance.now() - t0;
  const http1 = http0 ? httpTotals(await rig.server.call<HttpTime>('httpTime')) : null;
  const rss = peak.stop();
  const client = process.cpuUsage(client0);
  if (tally) {
    tally.ms.push(...ms);
    tally.wallMs += wallMs;
    tally.serverCpuMs += (processCpuMs(pid) ?? 0) - cpu0;
    tally.clientCpuMs += (client.user + client.system) / 1000;
    tally.machineBusyMs += (machineBusyMs() ?? 0) - machine0;
    if (rss.peakBytes > tally.peakRssBytes) tally.peakRssBytes = rss.peakBytes;
    tally.peakRssSource = rss.source;
    if (http0 && http1) {
      tally.serverHttpMs += http1.ms - http0.ms;
      tally.serverHttpCount += http1.count - http0.count;
    }
  }
  // Untimed: keep the data directory from growing with every round.
  if (ids.length) await rig.server.call('cleanup', { userId: rig.userId, ids }, 120_000);
  return steps;
}

interface ModeResult {
  mode: Mode;
  concurrency: number;
  latencyMs: LatencySummary;
  filesPerS: number;
  inputMbPerS: number;
  serverCpuMsPerFile: number;
  clientCpuMsPerFile: number;
  /** Share of the machine's CPU used by processes other than the server and this bench, during the mode's batches. */
  otherProcessesBusyPct: number;
  peakServerRssMb: number;
  peakRssSource: string;
  /** http modes: mean of Fastify's reply.elapsedTime (request received → response sent), the server's share of the latency. */
  serverSideMeanMs: number | null;
}

export interface UploadsResult {
  benchmark: 'uploads';
  db: DbKind;
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machineInfo> & { loadavgAfter: number[] };
  software: { sharp: string; vips: string; sharpConcurrency: number; uvThreadpoolSize: string };
  input: { files: number; width: number; height: number; quality: number; bytes: number[]; exifBytes: number };
  options: { perFile: number; concurrency: number };
  server: { rssAtStartMb: number; rssAtRestMb: number; rssAfterMb: number };
  results: ModeResult[];
  steps: Record<StepName, LatencySummary>;
  /** Atelier ÷ bare sharp: latency percentiles, throughput (bare files/s ÷ Atelier files/s) and server CPU per file (the least sensitive to other load). */
  ratios: { concurrency: number; vs: string; mode: Mode; p50: number | null; p99: number | null; mean: number | null; throughput: number | null; cpu: number | null }[];
}

function summariseMode(mode: Mode, concurrency: number, tally: Tally, inputBytesMean: number): ModeResult {
  const n = tally.ms.length;
  const cpus = os.cpus().length;
  const others = tally.machineBusyMs - tally.serverCpuMs - tally.clientCpuMs;
  return {
    mode,
    concurrency,
    latencyMs: summariseLatency(tally.ms),
    filesPerS: Math.round((n / (tally.wallMs / 1000)) * 100) / 100,
    inputMbPerS: Math.round(((n * inputBytesMean) / 1024 / 1024 / (tally.wallMs / 1000)) * 100) / 100,
    serverCpuMsPerFile: Math.round((tally.serverCpuMs / n) * 10) / 10,
    clientCpuMsPerFile: Math.round((tally.clientCpuMs / n) * 10) / 10,
    otherProcessesBusyPct: Math.round((Math.max(0, others) / (tally.wallMs * cpus)) * 1000) / 10,
    peakServerRssMb: Math.round(tally.peakRssBytes / 1024 / 1024),
    peakRssSource: tally.peakRssSource,
    serverSideMeanMs: tally.serverHttpCount ? Math.round((tally.serverHttpMs / tally.serverHttpCount) * 10) / 10 : null,
  };
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || !b ? null : Math.round((a / b) * 100) / 100;
}

export async function main(argv: string[]): Promise<UploadsResult> {
  const options = parseOptions(argv);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  fs.mkdirSync(options.outDir, { recursive: true });

  log(`uploads: making ${options.files} photo-like ${options.width}×${options.height} JPEGs (q${options.quality}, EXIF) …`);
  const files = await makePhotoJpegs(options.files, { width: options.width, height: options.height, quality: options.quality });
  const exifBytes = (await sharp(files[0]!).metadata()).exif?.length ?? 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-uploads-'));
  files.forEach((f, i) => fs.writeFileSync(path.join(dir, `photo-${String(i).padStart(2, '0')}.jpg`), f));
  const inputBytesMean = files.reduce((a, f) => a + f.length, 0) / files.length;

  let server: Child<AtelierChildInfo> | null = null;
  try {
    // The per-user limit of uploads per minute (default 60) would refuse most of the run; the quota stays on (production default).
    server = await startAtelierChild({ kind: options.db, env: { UPLOAD_RATE_LIMIT: '0' }, handlers: path.join(import.meta.dirname, 'lib', 'uploads-server.ts') }, { name: `atelier (${options.db})` });
    const rssAtStart = readRss(server.info.pid) ?? 0;
    const { cookie, userId } = await signUp(server.info.baseUrl, server.info.publicUrl);
    const loaded = await server.call<number>('load', { dir });
    if (loaded !== files.length) throw new Error(`the server loaded ${loaded} files, expected ${files.length}`);
    const rig: Rig = { server, cookie, userId, files, refused: files.map(asRefused) };
    const all = files.map((_, i) => i);

    // Warm-up (not recorded): every mode once over every file, so JIT, libvips caches, the connection pool and
    // the first-write directory creation are behind us.
    log('  warm-up …');
    for (const mode of MODES) await runBatch(rig, mode, all, 1, null);
    for (const mode of CONCURRENT_MODES) if (options.concurrency > 1) await runBatch(rig, mode, all, options.concurrency, null);
    const rssAtRest = readRss(server.info.pid) ?? 0;

    const tallies = new Map<string, Tally>();
    const tallyOf = (mode: Mode, c: number) => {
      const key = `${mode}@${c}`;
      if (!tallies.has(key)) tallies.set(key, newTally());
      return tallies.get(key)!;
    };
    const steps = Object.fromEntries(STEP_NAMES.map((s) => [s, [] as number[]])) as Record<StepName, number[]>;

    log(`  sequential: ${options.perFile} rounds × ${files.length} files × ${MODES.length} modes, interleaved …`);
    for (let r = 0; r < options.perFile; r++) {
      for (const mode of MODES) {
        const s = await runBatch(rig, mode, all, 1, tallyOf(mode, 1));
        for (const name of STEP_NAMES) steps[name].push(...(s[name] ?? []));
      }
    }
    const c = options.concurrency;
    if (c > 1) {
      // Each batch sends every file `c` times, so the pool stays full for most of the batch (a batch of 10 on 4
      // workers would spend a third of its time with workers idle at the end).
      const batches = Math.ceil(options.perFile / c);
      const order = Array.from({ length: c }, () => all).flat();
      log(`  concurrency ${c}: ${batches} batches × ${order.length} uploads × ${CONCURRENT_MODES.length} modes, interleaved …`);
      for (let b = 0; b < batches; b++) for (const mode of CONCURRENT_MODES) await runBatch(rig, mode, order, c, tallyOf(mode, c));
    }
    const rssAfter = readRss(server.info.pid) ?? 0;

    const results: ModeResult[] = [];
    for (const [key, tally] of tallies) {
      const [mode, conc] = key.split('@') as [Mode, string];
      results.push(summariseMode(mode, Number(conc), tally, inputBytesMean));
    }
    const ratios: UploadsResult['ratios'] = [];
    for (const conc of [...new Set(results.map((r) => r.concurrency))]) {
      for (const vs of ['bare', 'bare+thumb'] as const) {
        const base = results.find((r) => r.mode === vs && r.concurrency === conc);
        if (!base) continue;
        for (const mode of ['direct', 'http'] as const) {
          const m = results.find((r) => r.mode === mode && r.concurrency === conc);
          if (!m) continue;
          ratios.push({ concurrency: conc, vs, mode, p50: ratio(m.latencyMs.p50, base.latencyMs.p50), p99: ratio(m.latencyMs.p99, base.latencyMs.p99), mean: ratio(m.latencyMs.mean, base.latencyMs.mean), throughput: ratio(base.filesPerS, m.filesPerS), cpu: ratio(m.serverCpuMsPerFile, base.serverCpuMsPerFile) });
        }
      }
    }
    const result: UploadsResult = {
      benchmark: 'uploads',
      db: options.db,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadavgAfter: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      software: { sharp: sharp.versions.sharp, vips: sharp.versions.vips ?? 'unknown', sharpConcurrency: sharp.concurrency(), uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' },
      input: { files: files.length, width: options.width, height: options.height, quality: options.quality, bytes: files.map((f) => f.length), exifBytes },
      options: { perFile: options.perFile, concurrency: options.concurrency },
      server: { rssAtStartMb: Math.round(rssAtStart / 1024 / 1024), rssAtRestMb: Math.round(rssAtRest / 1024 / 1024), rssAfterMb: Math.round(rssAfter / 1024 / 1024) },
      results,
      steps: Object.fromEntries(STEP_NAMES.map((s) => [s, summariseLatency(steps[s])])) as Record<StepName, LatencySummary>,
      ratios,
    };
    const file = path.join(options.outDir, `uploads-${options.db}-${startedAt.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${formatResult(result)}\n`);
    log(`  wrote ${path.relative(process.cwd(), file)}`);
    return result;
  } finally {
    if (server) await stopAtelierChild(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const STEP_LABELS: Record<StepName, string> = {
  sniff: 'sniff (magic bytes)',
  normalize: 'normalizeUpload: header + decode + JPEG q92',
  thumbnail: 'thumbnails: decode output + 256 px WebP',
  encrypt: '(encryption alone, both objects)',
  store: 'encrypt + write both objects',
  insert: 'quota check + insert (one tx)',
};

export function formatResult(r: UploadsResult): string {
  const out: string[] = [];
  const kb = Math.round(r.input.bytes.reduce((a, b) => a + b, 0) / r.input.bytes.length / 1024);
  out.push(
    `\n=== uploads on ${r.db}: ${r.input.files} JPEGs ${r.input.width}×${r.input.height} q${r.input.quality} (mean ${kb} KB, EXIF ${r.input.exifBytes} B); sharp ${r.software.sharp}, libvips ${r.software.vips}, vips threads ${r.software.sharpConcurrency} ===`,
  );
  const f = (v: number | null) => (v === null ? null : v.toFixed(1));
  out.push(
    table(
      ['mode', 'conc', 'n', 'p50 ms', 'p95', 'p99', 'max', 'mean', 'files/s', 'MB/s in', 'server CPU ms/file', 'peak server RSS MB', 'others busy %'],
      r.results.map((m) => [MODE_LABELS[m.mode], m.concurrency, m.latencyMs.n, f(m.latencyMs.p50), f(m.latencyMs.p95), f(m.latencyMs.p99), f(m.latencyMs.max), f(m.latencyMs.mean), m.filesPerS.toFixed(2), m.inputMbPerS.toFixed(1), m.serverCpuMsPerFile.toFixed(1), m.peakServerRssMb, m.otherProcessesBusyPct.toFixed(0)]),
    ),
  );
  out.push(`server RSS: ${r.server.rssAtStartMb} MB after start, ${r.server.rssAtRestMb} MB after warm-up, ${r.server.rssAfterMb} MB at the end (peaks from ${r.results[0]?.peakRssSource ?? '?'})`);
  const http = r.results.filter((m) => m.serverSideMeanMs !== null);
  if (http.length) {
    out.push('\nHTTP: the server\'s own time per request (Fastify reply.elapsedTime, mean) against the client\'s (mean):');
    out.push(table(['mode', 'conc', 'client mean', 'server mean', 'client + loopback'], http.map((m) => [MODE_LABELS[m.mode], m.concurrency, f(m.latencyMs.mean), f(m.serverSideMeanMs), f(m.latencyMs.mean === null || m.serverSideMeanMs === null ? null : m.latencyMs.mean - m.serverSideMeanMs)])));
  }
  out.push('\nsteps (sequential, ms per file):');
  out.push(table(['step', 'p50', 'p95', 'p99', 'mean'], STEP_NAMES.map((s) => [STEP_LABELS[s], f(r.steps[s].p50), f(r.steps[s].p95), f(r.steps[s].p99), f(r.steps[s].mean)])));
  out.push('\nratios (Atelier ÷ bare sharp; throughput = bare files/s ÷ Atelier files/s; CPU = server CPU per file):');
  out.push(table(['conc', 'Atelier', 'vs', 'p50', 'p99', 'mean', 'throughput', 'CPU'], r.ratios.map((x) => [x.concurrency, x.mode, x.vs, x.p50, x.p99, x.mean, x.throughput, x.cpu])));
  return out.join('\n');
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  await main(process.argv.slice(2));
  setTimeout(() => {
    process.stderr.write('uploads: a handle was still open after cleanup; exiting anyway\n');
    process.exit(0);
  }, 5_000).unref();
}
