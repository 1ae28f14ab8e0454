import fs from 'node:fs';
import os from 'node:os';

/** Small helpers shared by the benchmarks: summaries, tables, and Linux /proc readings. */

export interface Summary {
  n: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  min: number | null;
  mean: number | null;
}

/** Nearest-rank percentile (p in 0..100) of numbers; nulls are ignored. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summarise(raw: readonly (number | null | undefined)[]): Summary {
  const values = raw.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return { n: 0, p50: null, p95: null, max: null, min: null, mean: null };
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: Math.max(...values),
    min: Math.min(...values),
    mean: Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10,
  };
}

/** A plain-text table with right-aligned numeric columns. */
export function table(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => (c === null ? '–' : String(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmtMs = (v: number | null | undefined, digits = 0): string | null => (v === null || v === undefined ? null : v.toFixed(digits));
export const fmtMb = (bytes: number | null | undefined): string | null => (bytes === null || bytes === undefined ? null : (bytes / 1024 / 1024).toFixed(0));

const CLK_TCK = 100; // USER_HZ on every mainstream Linux build

/** Busy CPU time of the whole machine so far, in ms (Linux; null elsewhere). */
export function machineBusyMs(): number | null {
  try {
    const first = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...fields] = first.trim().split(/\s+/);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** utime + stime of one process in ms, or null when it is gone or /proc is unavailable. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; it is wrapped in parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * Accumulates the CPU time of a changing set of processes (e.g. PostgreSQL backends, which come and go
 * with pool connections): sample() with the current pids; a pid's first reading is its baseline, unless
 * it appeared after start() (then it counts from zero). A process that exits loses at most the time since
 * its last sample.
 */
export function createCpuAccumulator() {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let started = false;
  return {
    sample(pids: readonly number[]) {
      for (const pid of pids) {
        const ms = processCpuMs(pid);
        if (ms === null) continue;
        if (!first.has(pid)) first.set(pid, started ? 0 : ms);
        last.set(pid, ms);
      }
      started = true;
    },
    totalMs(): number {
      let total = 0;
      for (const [pid, end] of last) total += end - (first.get(pid) ?? end);
      return total;
    },
  };
}

/** Every process below `root` (children, grandchildren, …), from /proc (Linux; empty elsewhere). */
export function descendantPids(root: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadavg: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
