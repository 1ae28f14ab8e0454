/**
 * History at scale: the history API (GET /api/generations: list, full-text search, filters, keyset pages) for
 * a user with 100 000 succeeded generations, on embedded PGlite and on PostgreSQL.
 *
 *   node bench/history.ts [--db pglite|postgres|both] [--generations 100000] [--iterations 200] ...
 *   npm run bench -- history [same flags]
 *
 * For each database, a real Atelier in its own process (lib/atelier-child.ts), a user signed up over HTTP, and
 * the history seeded with SQL through the server's own database handle (lib/history-server.ts): UUIDv7 ids in
 * time order over a year, one image each, prompts from word lists, a few thousand rows of other users, a
 * collection, favourites, then VACUUM ANALYZE. Each scenario is a first page or a deep page (its cursor made
 * the way the server makes it, from the id of the row before it) and is requested over HTTP and, for
 * comparison, through GenerationService.list inside the server process; scenarios are interleaved round by
 * round. EXPLAIN (ANALYZE, BUFFERS) of each scenario's history query goes into the results file.
 * This is a measurement: it asserts nothing. See bench/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { DbKind } from './lib/atelier.ts';
import { startAtelierChild, stopAtelierChild, type AtelierChildInfo } from './lib/atelier-child.ts';
import type { Child } from './lib/child.ts';
import { RARE_WORD, type ExplainedQuery, type PreparedScenario, type Scenario, type SeedResult } from './lib/history-server.ts';
import { summariseLatency, type LatencySummary } from './lib/latency.ts';
import { readRss, startPeakRss } from './lib/process-memory.ts';
import { machineBusyMs, machineInfo, processCpuMs, table } from './lib/stats.ts';

const USAGE = `Usage: node bench/history.ts [options]

  --db pglite|postgres|both   database(s) (default both)
  --generations N             the user's history (default 100000)
  --other-users N             other users (default 5)
  --per-other-user N          generations of each other user (default 1000)
  --iterations N              requests per scenario and mode (default 200)
  --out DIR                   where to write JSON (default bench/results)
`;

interface Options {
  dbs: DbKind[];
  generations: number;
  otherUsers: number;
  perOtherUser: number;
  iterations: number;
  outDir: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'both' },
      generations: { type: 'string', default: '100000' },
      'other-users': { type: 'string', default: '5' },
      'per-other-user': { type: 'string', default: '1000' },
      iterations: { type: 'string', default: '200' },
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
  const db = values.db;
  if (db !== 'pglite' && db !== 'postgres' && db !== 'both') throw new Error(`--db must be pglite, postgres or both (got "${db}")`);
  return {
    dbs: db === 'both' ? ['pglite', 'postgres'] : [db],
    generations: int('generations', values.generations, 100, 10_000_000),
    otherUsers: int('other-users', values['other-users'], 0, 1000),
    perOtherUser: int('per-other-user', values['per-other-user'], 0, 1_000_000),
    iterations: int('iterations', values.iterations, 1, 100_000),
    outDir: path.resolve(values.out),
  };
}

const DEEP = 30_000; // page 1001 at 30 a page

/** Thirty days that started `daysAgo` days ago (UTC dates, as the studio's date filter sends them). */
function monthRange(daysAgo: number): { from: string; to: string } {
  const start = new Date(Date.now() - daysAgo * 86_400_000);
  const end = new Date(start.getTime() + 29 * 86_400_000);
  return { from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) };
}

function scenarios(): Scenario[] {
  const month = monthRange(120);
  const yearAgo = monthRange(335);
  return [
    { name: 'first page', query: {}, depth: 0 },
    { name: 'deep page', query: {}, depth: DEEP },
    { name: 'q=light (common), first', query: { q: 'light' }, depth: 0 },
    { name: 'q=light (common), deep', query: { q: 'light' }, depth: DEEP },
    { name: 'q=oil painting (two words)', query: { q: 'oil painting' }, depth: 0 },
    { name: `q=${RARE_WORD} (rare)`, query: { q: RARE_WORD }, depth: 0 },
    { name: 'model=flux-2-max, first', query: { model: 'flux-2-max' }, depth: 0 },
    { name: 'model=flux-2-max, deep', query: { model: 'flux-2-max' }, depth: DEEP },
    { name: 'favorite=true, first', query: { favorite: 'true' }, depth: 0 },
    { name: 'favorite=true, deep', query: { favorite: 'true' }, depth: DEEP },
    { name: 'one month 4 months ago, first', query: month, depth: 0 },
    { name: 'one month 4 months ago, deep', query: month, depth: DEEP },
    { name: 'one month 11 months ago, first', query: yearAgo, depth: 0 },
    { name: 'collection, first', query: { collection: '{collection}' }, depth: 0 },
    { name: 'collection, deep', query: { collection: '{collection}' }, depth: DEEP },
    { name: 'q=light + model + favorite', query: { q: 'light', model: 'flux-2-pro', favorite: 'true' }, depth: 0 },
  ];
}

async function signUp(baseUrl: string, publicUrl: string): Promise<{ cookie: string; userId: string }> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(publicUrl).origin, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email: `bench-history-${process.pid}-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench User', ageConfirmed: true }),
  });
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string } };
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), userId: body.user.id };
}

const queryString = (s: PreparedScenario) => new URLSearchParams({ ...s.query, limit: '30', ...(s.cursor ? { cursor: s.cursor } : {}) }).toString();

/** An authenticated request that does next to nothing (the user's API keys: none): HTTP, session and serialisation. */
async function getFloor(baseUrl: string, cookie: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/api/api-keys`, { headers: { cookie }, signal: AbortSignal.timeout(60_000) });
  await res.text();
  if (res.status !== 200) throw new Error(`GET /api/api-keys: ${res.status}`);
  return performance.now() - start;
}

async function getPage(baseUrl: string, cookie: string, s: PreparedScenario): Promise<{ ms: number; items: number; bytes: number }> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/api/generations?${queryString(s)}`, { headers: { cookie }, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status !== 200) throw new Error(`${s.name}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, items: (JSON.parse(text) as { data: unknown[] }).data.length, bytes: Buffer.byteLength(text) };
}

interface ScenarioResult {
  name: string;
  query: string;
  matches: number;
  offset: number;
  page: number;
  items: number;
  responseKb: number;
  httpMs: LatencySummary;
  directMs: LatencySummary;
  /** Every query of the request, EXPLAIN ANALYZEd once after the timed rounds. */
  queries: ExplainedQuery[];
  /** Their execution times added up (server-side, without planning and round trips). */
  sqlMs: number | null;
}

export interface HistoryDbResult {
  benchmark: 'history';
  db: DbKind;
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machineInfo> & { loadavgAfter: number[] };
  options: Omit<Options, 'dbs' | 'outDir'>;
  seed: SeedResult;
  server: { rssAfterSeedMb: number; peakRssMb: number; cpuMsPerRequest: number; otherProcessesBusyPct: number; wallS: number };
  scenarios: ScenarioResult[];
  /** GET /api/api-keys in the same rounds: what any authenticated request costs here. */
  floorHttpMs: LatencySummary;
}

async function runDb(kind: DbKind, options: Options, log: (line: string) => void): Promise<HistoryDbResult> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  let server: Child<AtelierChildInfo> | null = null;
  try {
    server = await startAtelierChild({ kind, handlers: path.join(import.meta.dirname, 'lib', 'history-server.ts') }, { name: `atelier (${kind})` });
    const { baseUrl, publicUrl, pid } = server.info;
    const { cookie, userId } = await signUp(baseUrl, publicUrl);
    log(`  ${kind}: seeding ${options.generations} generations (+ ${options.otherUsers} × ${options.perOtherUser} of other users) …`);
    const seed = await server.call<SeedResult>('seed', { userId, generations: options.generations, otherUsers: options.otherUsers, perOtherUser: options.perOtherUser, collectionShare: 0.02, favoriteShare: 0.03 }, 3_600_000);
    log(`    seeded in ${((seed.ms.generations + seed.ms.others + seed.ms.collection) / 1000).toFixed(1)} s, VACUUM ANALYZE ${(seed.ms.vacuumAnalyze / 1000).toFixed(1)} s: ${JSON.stringify(seed.rows)}`);
    const rssAfterSeed = readRss(pid) ?? 0;
    const prepared = await server.call<PreparedScenario[]>('prepare', { userId, scenarios: scenarios() }, 600_000);

    log(`  ${kind}: warm-up, then ${options.iterations} rounds × ${prepared.length} scenarios × (HTTP + in-process) …`);
    const expected = new Map<string, number>();
    for (const s of prepared) {
      for (let i = 0; i < 3; i++) {
        const page = await getPage(baseUrl, cookie, s);
        expected.set(s.name, page.items);
        await server.call('direct', { userId, query: { ...s.query, limit: '30', ...(s.cursor ? { cursor: s.cursor } : {}) } }, 120_000);
      }
    }
    const http = new Map<string, number[]>(prepared.map((s) => [s.name, []]));
    const direct = new Map<string, number[]>(prepared.map((s) => [s.name, []]));
    const bytes = new Map<string, number>();
    const floor: number[] = [];
    let requests = 0;
    const cpu0 = processCpuMs(pid) ?? 0;
    const machine0 = machineBusyMs() ?? 0;
    const client0 = process.cpuUsage();
    const peak = startPeakRss(pid);
    const t0 = performance.now();
    for (let round = 0; round < options.iterations; round++) {
      for (const s of prepared) {
        const page = await getPage(baseUrl, cookie, s);
        if (page.items !== expected.get(s.name)) throw new Error(`${s.name}: ${page.items} items, ${expected.get(s.name)} before`);
        http.get(s.name)!.push(page.ms);
        bytes.set(s.name, page.bytes);
        const d = await server.call<{ ms: number }>('direct', { userId, query: { ...s.query, limit: '30', ...(s.cursor ? { cursor: s.cursor } : {}) } }, 120_000);
        direct.get(s.name)!.push(d.ms);
        requests += 2;
      }
      floor.push(await getFloor(baseUrl, cookie));
      requests++;
      if ((round + 1) % 50 === 0) log(`    ${round + 1}/${options.iterations} rounds`);
    }
    const wallMs = performance.now() - t0;
    const cpuMs = (processCpuMs(pid) ?? 0) - cpu0;
    const client = process.cpuUsage(client0);
    const others = (machineBusyMs() ?? 0) - machine0 - cpuMs - (client.user + client.system) / 1000;
    const rss = peak.stop();

    const results: ScenarioResult[] = [];
    for (const s of prepared) {
      const queries = await server.call<ExplainedQuery[]>('explain', { userId, query: { ...s.query, limit: '30', ...(s.cursor ? { cursor: s.cursor } : {}) } }, 600_000);
      const times = queries.map((q) => q.executionMs);
      results.push({
        name: s.name,
        query: queryString(s),
        matches: s.matches,
        offset: s.offset,
        page: s.offset / 30 + 1,
        items: expected.get(s.name) ?? 0,
        responseKb: Math.round(((bytes.get(s.name) ?? 0) / 1024) * 10) / 10,
        httpMs: summariseLatency(http.get(s.name)!),
        directMs: summariseLatency(direct.get(s.name)!),
        queries,
        sqlMs: times.includes(null) ? null : Math.round(times.reduce<number>((a, t) => a + (t ?? 0), 0) * 100) / 100,
      });
    }
    return {
      benchmark: 'history',
      db: kind,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadavgAfter: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      options: { generations: options.generations, otherUsers: options.otherUsers, perOtherUser: options.perOtherUser, iterations: options.iterations },
      seed,
      server: {
        rssAfterSeedMb: Math.round(rssAfterSeed / 1024 / 1024),
        peakRssMb: Math.round(rss.peakBytes / 1024 / 1024),
        cpuMsPerRequest: Math.round((cpuMs / requests) * 10) / 10,
        otherProcessesBusyPct: Math.round((Math.max(0, others) / (wallMs * os.cpus().length)) * 1000) / 10,
        wallS: Math.round(wallMs / 100) / 10,
      },
      scenarios: results,
      floorHttpMs: summariseLatency(floor),
    };
  } finally {
    if (server) await stopAtelierChild(server);
  }
}

const SLOW_MS = 100;
const SLOW_QUERY_MS = 10;

export function formatDb(r: HistoryDbResult): string {
  const out: string[] = [];
  const f = (v: number | null) => (v === null ? null : v.toFixed(1));
  out.push(
    `\n=== history on ${r.db}: ${r.seed.rows.userGenerations} generations of one user, ${r.seed.rows.generations} in all (${r.seed.rows.images} images); ` +
      `table ${r.seed.tableMb.generations} MB, prompt_tsv index ${r.seed.tableMb.promptTsvIndex} MB; ${r.options.iterations} requests per scenario and mode ===`,
  );
  out.push(
    table(
      ['scenario', 'matches', 'page', 'items', 'KB', 'HTTP p50', 'p95', 'p99', 'max', 'in-process p50', 'p99', 'SQL ms', 'slowest query'],
      r.scenarios.map((s) => {
        const slowest = [...s.queries].sort((a, b) => (b.executionMs ?? 0) - (a.executionMs ?? 0))[0];
        return [s.name, s.matches, s.page, s.items, s.responseKb.toFixed(1), f(s.httpMs.p50), f(s.httpMs.p95), f(s.httpMs.p99), f(s.httpMs.max), f(s.directMs.p50), f(s.directMs.p99), f(s.sqlMs), slowest ? `${slowest.label} ${f(slowest.executionMs)}` : null];
      }),
    ),
  );
  out.push(`floor: GET /api/api-keys (session lookup + one empty query) p50 ${f(r.floorHttpMs.p50)} ms, p99 ${f(r.floorHttpMs.p99)} ms`);
  out.push('(SQL ms: EXPLAIN ANALYZE execution times of all the request\'s queries, added up, measured once after the timed rounds)');
  out.push(
    `server: RSS ${r.server.rssAfterSeedMb} MB after seeding, peak ${r.server.peakRssMb} MB while measuring; CPU ${r.server.cpuMsPerRequest} ms per request (HTTP and in-process together); ` +
      `other processes ${r.server.otherProcessesBusyPct} % of the machine; ${r.server.wallS} s`,
  );
  // Slow over HTTP, or one of its queries alone takes long enough to matter (load on a shared machine inflates the p99s).
  const slow = r.scenarios.filter((s) => (s.httpMs.p99 ?? 0) > SLOW_MS || s.queries.some((q) => (q.executionMs ?? 0) >= SLOW_QUERY_MS));
  for (const s of slow) {
    out.push(`\n--- ${s.name} (${s.query}): HTTP p50 ${f(s.httpMs.p50)} ms, p99 ${f(s.httpMs.p99)} ms; SQL ${f(s.sqlMs)} ms`);
    // The request's queries that take a noticeable share; the rest are in the results file.
    for (const q of s.queries.filter((q) => (q.executionMs ?? 0) >= SLOW_QUERY_MS / 2)) out.push(`[${q.label}, ${f(q.executionMs)} ms]\n${q.sql}\n${JSON.stringify(q.parameters)}\n${q.plan}`);
  }
  return out.join('\n');
}

export async function main(argv: string[]): Promise<HistoryDbResult[]> {
  const options = parseOptions(argv);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  fs.mkdirSync(options.outDir, { recursive: true });
  const results: HistoryDbResult[] = [];
  for (const kind of options.dbs) {
    log(`history: ${kind}`);
    const result = await runDb(kind, options, log);
    results.push(result);
    const file = path.join(options.outDir, `history-${kind}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${formatDb(result)}\n`);
    log(`  wrote ${path.relative(process.cwd(), file)}`);
  }
  return results;
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  await main(process.argv.slice(2));
  setTimeout(() => {
    process.stderr.write('history: a handle was still open after cleanup; exiting anyway\n');
    process.exit(0);
  }, 5_000).unref();
}
