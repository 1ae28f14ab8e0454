/**
 * Diagnostic: what each step of the output pipeline (MediaService.storeOutput) costs, one at a time,
 * on one core's worth of work, next to sharp's bare decode + encode of the same bytes. It explains the
 * "pipeline" phase of bench/overhead.ts.
 *
 *   node bench/pipeline-steps.ts [--size 1024x1024] [--iterations 10]
 *   npm run bench -- pipeline-steps
 *
 * Two inputs: the fake BFL's sample (a flat colour with a stripe — compresses to a few KB, so it is the
 * cheap case) and a "detailed" image (smoothed noise, which compresses like a photo).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createImaging } from '../apps/server/src/adapters/imaging/imaging.ts';
import { renderSample } from '../apps/server/test/fakes/fake-bfl-image.ts';
import { table } from './lib/stats.ts';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { size: { type: 'string', default: '1024x1024' }, iterations: { type: 'string', default: '10' } } });
  const [w, h] = values.size.split('x').map(Number) as [number, number];
  const iterations = Math.max(1, Math.min(1000, Number(values.iterations) || 10));
  const imaging = createImaging();
  const provenance = { engineLabel: 'Black Forest Labs API', modelId: 'flux-2-pro', isPreviewEngine: false };

  const flat = await renderSample(w, h, 'jpeg', 1234);
  const noise = Buffer.alloc(w * h * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const detailed = await sharp(noise, { raw: { width: w, height: h, channels: 3 } }).blur(1.2).jpeg({ quality: 90 }).toBuffer();

  const measure = async (fn: () => Promise<unknown>) => {
    await fn();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    const cpu = process.cpuUsage(cpu0);
    return { wall: (performance.now() - t0) / iterations, cpu: (cpu.user + cpu.system) / 1000 / iterations };
  };

  process.stdout.write(`sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, vips threads ${sharp.concurrency()}, ${iterations} iterations, ${w}×${h}\n`);
  for (const [label, input] of [['fake BFL sample', flat], ['detailed', detailed]] as const) {
    const original = await imaging.encode(input, 'jpeg', provenance);
    const steps: [string, () => Promise<unknown>][] = [
      ['inspect(engine bytes): header + stats()', () => imaging.inspect(input)],
      ['encode: JPEG q92 mozjpeg + XMP', () => imaging.encode(input, 'jpeg', provenance)],
      ['inspect(original): header + stats()', () => imaging.inspect(original)],
      ['thumbnail 256 WebP', () => imaging.thumbnail(original, 256)],
      ['thumbnail 768 WebP', () => imaging.thumbnail(original, 768)],
      ['all of the above, as storeOutput runs them', async () => {
        await imaging.inspect(input);
        const o = await imaging.encode(input, 'jpeg', provenance);
        await imaging.inspect(o);
        await Promise.all([imaging.thumbnail(o, 256), imaging.thumbnail(o, 768)]);
      }],
      ['reference: bare decode + JPEG q92 encode', () => sharp(input).jpeg({ quality: 92 }).toBuffer()],
      ['reference: full decode to raw pixels', () => sharp(input, { failOn: 'error' }).raw().toBuffer()],
      ['reference: JPEG q92 without mozjpeg', () => sharp(input).autoOrient().flatten({ background: '#ffffff' }).jpeg({ quality: 92 }).toBuffer()],
    ];
    const rows: (string | number)[][] = [];
    for (const [name, fn] of steps) {
      const r = await measure(fn);
      rows.push([name, r.wall.toFixed(1), r.cpu.toFixed(1)]);
    }
    process.stdout.write(`\n${label}: ${Math.round(input.length / 1024)} KB in, original ${Math.round(original.length / 1024)} KB\n`);
    process.stdout.write(`${table(['step', 'wall ms', 'CPU ms'], rows)}\n`);
  }
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) await main(process.argv.slice(2));
