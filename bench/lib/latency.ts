import { percentile } from './stats.ts';

/**
 * Latency summaries with a p99 (stats.ts `summarise` stops at p95). Nearest-rank, like `percentile`: with
 * n samples, p99 is the ⌈0.99·n⌉-th smallest, so it only means something from about 100 samples up
 * (at n = 200 it is the second largest).
 */
export interface LatencySummary {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  min: number | null;
  mean: number | null;
}

const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

export function summariseLatency(values: readonly number[]): LatencySummary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { n: 0, p50: null, p95: null, p99: null, max: null, min: null, mean: null };
  return {
    n: finite.length,
    p50: round1(percentile(finite, 50)),
    p95: round1(percentile(finite, 95)),
    p99: round1(percentile(finite, 99)),
    max: round1(Math.max(...finite)),
    min: round1(Math.min(...finite)),
    mean: round1(finite.reduce((a, b) => a + b, 0) / finite.length),
  };
}

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight; resolves to the results in index order. */
export async function runPool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
