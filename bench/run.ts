/**
 * Benchmark dispatcher: `npm run bench -- <name> [flags]` or `node bench/run.ts <name> [flags]`.
 * Each benchmark is a module in this folder exporting `main(argv)`; see bench/README.md.
 */
import path from 'node:path';

const BENCHMARKS: Record<string, { file: string; about: string }> = {
  overhead: { file: './overhead.ts', about: 'per-generation overhead on top of the engine time (fake BFL), PGlite and PostgreSQL' },
  'pipeline-steps': { file: './pipeline-steps.ts', about: 'diagnostic: cost of each output-pipeline step vs sharp bare decode+encode' },
  engines: { file: './engines.ts', about: 'engine completion detection (polling vs webhooks/WebSocket) and engine calls per generation, BFL/fal/Replicate/ComfyUI fakes' },
  uploads: { file: './uploads.ts', about: 'reference uploads (10 × 2 MP JPEG): end to end, in-process and step by step, vs sharp bare decode+encode' },
  history: { file: './history.ts', about: 'history API (list/search/filters) with 100 000 generations: first and deep pages, p50/p99, PGlite and PostgreSQL' },
  upscale: { file: './upscale.ts', about: 'the local AI upscaler: time, CPU and peak RSS of 512×512 ×2/×4 and 1024×1024 ×2, each in a fresh process' },
};

const [name, ...rest] = process.argv.slice(2);
const usage = () =>
  `Usage: node bench/run.ts <benchmark> [flags]   (npm run bench -- <benchmark> [flags])\n\n${Object.entries(BENCHMARKS)
    .map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`)
    .join('\n')}\n\nEach benchmark takes --help.\n`;

if (!name || name === '--help' || name === '-h') {
  process.stdout.write(usage());
  process.exit(name ? 0 : 1);
}
const bench = BENCHMARKS[name];
if (!bench) {
  process.stderr.write(`Unknown benchmark "${name}".\n\n${usage()}`);
  process.exit(1);
}
const mod = (await import(path.join(import.meta.dirname, bench.file))) as { main(argv: string[]): Promise<unknown> };
await mod.main(rest);
// Everything is closed by now; if some library still holds a handle, do not hang the shell.
setTimeout(() => {
  process.stderr.write(`${name}: a handle was still open after cleanup; exiting anyway\n`);
  process.exit(0);
}, 5_000).unref();
