/**
 * The local AI upscaler (apps/server/src/adapters/imaging/upscaler): wall time, CPU time and peak memory
 * of one upscale of a photo-like image, next to sharp's lanczos3 enlargement of the same image (what an
 * upscale costs over a plain resize).
 *
 *   node bench/upscale.ts [--cases 512x512x2,512x512x4,1024x1024x2] [--tile 192] [--out DIR]
 *   npm run bench -- upscale [same flags]
 *
 * Each case runs in a fresh process, so its peak RSS (the kernel's VmHWM, which counts the worker thread
 * too: threads share the process's memory) is that case's alone — WebAssembly memory never shrinks, so a
 * process that ran a larger case first would report that case's peak. "cold start" is the first upscale
 * of a 16×16 image in that process: the worker thread, the wasm backend and the model loading from disk.
 * This is a measurement: it asserts nothing. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createUpscaler, DEFAULT_TILE_SIZE, type UpscaleFactor } from '../apps/server/src/adapters/imaging/upscaler/upscaler.ts';
import { makePhotoJpeg } from './lib/photo-jpegs.ts';
import { startPeakRss } from './lib/process-memory.ts';
import { fmtMb, machineInfo, table } from './lib/stats.ts';

const USAGE = `Usage: node bench/upscale.ts [options]

  --cases LIST   WxHxF cases, comma-separated (default 512x512x2,512x512x4,1024x1024x2)
  --tile N       tile core size in input pixels (default ${DEFAULT_TILE_SIZE}, the server's)
  --out DIR      where to write JSON (default bench/results)
`;

interface Case {
  width: number;
  height: number;
  factor: UpscaleFactor;
}

interface CaseResult extends Case {
  tile: number;
  coldStartMs: number;
  upscaleMs: number;
  cpuMs: number;
  peakRssBytes: number;
  peakSource: string;
  lanczosMs: number;
  outputBytes: number;
}

function parseCase(raw: string): Case {
  const m = /^(\d+)x(\d+)x([24])$/.exec(raw.trim());
  if (!m) throw new Error(`a case is WxHxF with F 2 or 4 (got "${raw}")\n\n${USAGE}`);
  return { width: Number(m[1]), height: Number(m[2]), factor: Number(m[3]) as UpscaleFactor };
}

/** One case, in this (fresh) process; prints its result as JSON. */
async function runCase(c: Case, tile: number): Promise<CaseResult> {
  const input = await makePhotoJpeg({ width: c.width, height: c.height, quality: 92, seed: 1 });
  const upscaler = createUpscaler({ tileSize: tile });
  try {
    const warm = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toBuffer();
    let t = performance.now();
    await upscaler.upscale(warm, c.factor);
    const coldStartMs = performance.now() - t;

    const peak = startPeakRss(process.pid);
    const cpu = process.cpuUsage();
    t = performance.now();
    const out = await upscaler.upscale(input, c.factor);
    const upscaleMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    const { peakBytes, source } = peak.stop();

    t = performance.now();
    await sharp(input).resize(c.width * c.factor, c.height * c.factor, { kernel: 'lanczos3' }).png({ compressionLevel: 3, adaptiveFiltering: false }).toBuffer();
    const lanczosMs = performance.now() - t;
    return { ...c, tile, coldStartMs, upscaleMs, cpuMs: (used.user + used.system) / 1000, peakRssBytes: peakBytes, peakSource: source, lanczosMs, outputBytes: out.data.length };
  } finally {
    await upscaler.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string', default: '512x512x2,512x512x4,1024x1024x2' },
      tile: { type: 'string', default: String(DEFAULT_TILE_SIZE) },
      out: { type: 'string', default: path.join(import.meta.dirname, 'results') },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const tile = Number(values.tile);
  if (!Number.isInteger(tile) || tile < 16) throw new Error(`--tile must be a whole number of at least 16\n\n${USAGE}`);
  if (values.child) {
    process.stdout.write(`${JSON.stringify(await runCase(parseCase(values.child), tile))}\n`);
    return;
  }

  const cases = values.cases.split(',').map(parseCase);
  const before = machineInfo();
  process.stderr.write(`upscale: ${cases.length} cases, tile ${tile}, each in a fresh process (load average ${before.loadavg.join(' ')})\n`);
  const results: CaseResult[] = [];
  for (const c of cases) {
    const { stdout } = await promisify(execFile)(process.execPath, [import.meta.filename, '--child', `${c.width}x${c.height}x${c.factor}`, '--tile', String(tile)], { maxBuffer: 1024 * 1024 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as CaseResult;
    results.push(result);
    process.stderr.write(`  ${c.width}×${c.height} ×${c.factor}: ${(result.upscaleMs / 1000).toFixed(1)} s\n`);
  }
  const after = machineInfo();

  const s = (ms: number) => (ms / 1000).toFixed(1);
  process.stdout.write(
    `\n${table(
      ['case', 'output', 'upscale s', 'CPU s', 's / output MP', 'peak RSS MB', 'cold start s', 'lanczos3 s'],
      results.map((r) => [
        `${r.width}×${r.height} ×${r.factor}`,
        `${r.width * r.factor}×${r.height * r.factor}`,
        s(r.upscaleMs),
        s(r.cpuMs),
        (r.upscaleMs / 1000 / ((r.width * r.factor * r.height * r.factor) / 1024 / 1024)).toFixed(1),
        fmtMb(r.peakRssBytes),
        s(r.coldStartMs),
        s(r.lanczosMs),
      ]),
    )}\n\nmachine: ${before.cpus} × ${before.cpuModel}, ${before.node}; load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')}\n`,
  );
  fs.mkdirSync(values.out, { recursive: true });
  const file = path.join(values.out, `upscale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ machine: { before, after }, tile, results }, null, 2));
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

// Run directly (node bench/upscale.ts) as well as through run.ts.
if (path.resolve(process.argv[1] ?? '') === import.meta.filename) await main(process.argv.slice(2));
