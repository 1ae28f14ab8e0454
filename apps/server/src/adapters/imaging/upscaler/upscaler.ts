import { Worker } from 'node:worker_threads';
import sharp, { type Metadata } from 'sharp';
import type { UpscaleFactor, UpscaleJobMessage, WorkerMessage } from './protocol.ts';

export type { UpscaleFactor } from './protocol.ts';

/**
 * A local AI upscaler: the ESRGAN-slim RDN networks of @upscalerjs/esrgan-slim (×2 and ×4), run by
 * TensorFlow.js on its WebAssembly backend in a worker thread — CPU only, no GPU, no network. sharp
 * decodes the input and encodes the result; the network runs over overlapping tiles (tiles.ts), so
 * memory stays bounded and there are no seams.
 *
 * Why slim and not medium: on this project's 2-core reference machine, medium is about 3× slower
 * (≈85 s vs ≈27 s per input megapixel at ×2) for +0.2–0.4 dB PSNR on photos; see docs/engines.md.
 *
 * Jobs run one at a time, in order (one core for the network, the other for the server). A job's input
 * is decoded only when its turn comes, so a long queue holds encoded bytes, not raw pixels.
 */

export interface UpscaleResult {
  /** PNG. */
  data: Buffer;
  width: number;
  height: number;
}

export interface UpscaleOptions {
  /** Called with the fraction done, 0..1, as tiles finish. */
  onProgress?: (fraction: number) => void;
  /** Aborting rejects at once (with the signal's reason) and stops the network at its next tile. */
  signal?: AbortSignal;
}

export interface Upscaler {
  upscale(input: Buffer, factor: UpscaleFactor, opts?: UpscaleOptions): Promise<UpscaleResult>;
  /** Rejects queued jobs and stops the worker thread. */
  close(): Promise<void>;
}

export type UpscaleErrorCode = 'invalid_input' | 'too_large' | 'failed' | 'closed';

export class UpscaleError extends Error {
  readonly code: UpscaleErrorCode;

  constructor(code: UpscaleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpscaleError';
    this.code = code;
  }
}

type Log = (obj: object, msg: string) => void;
export interface UpscalerLogger {
  info: Log;
  warn: Log;
  debug: Log;
}

/** Input pixels per tile core: 192×192 keeps the ×4 network's largest tensor under 150 MB and the overlap overhead near 25%. */
export const DEFAULT_TILE_SIZE = 192;
/** 64 MP of output (8192×8192): its raw RGB alone is 192 MiB. */
export const DEFAULT_MAX_OUTPUT_PIXELS = 64 * 1024 * 1024;

const DECODABLE = new Set(['png', 'jpeg', 'webp']);
const FACTORS: readonly number[] = [2, 4] satisfies UpscaleFactor[];

export function createUpscaler(opts: { logger?: UpscalerLogger; tileSize?: number; maxOutputPixels?: number } = {}): Upscaler {
  const logger = opts.logger;
  const tileSize = opts.tileSize ?? DEFAULT_TILE_SIZE;
  const maxOutputPixels = opts.maxOutputPixels ?? DEFAULT_MAX_OUTPUT_PIXELS;
  let worker: Worker | undefined;
  let closed = false;
  let nextId = 1;
  let tail: Promise<unknown> = Promise.resolve();
  /** The job the worker is running: its message handler, or undefined when idle. */
  let current: { id: number; onMessage: (m: WorkerMessage) => void; onCrash: (e: UpscaleError) => void } | undefined;

  const startWorker = (): Worker => {
    // A .ts worker: Node 22 strips the types itself (vitest's test processes are Node 22 too).
    const w = new Worker(new URL('./upscaler.worker.ts', import.meta.url), { stdout: true, stderr: true });
    // tfjs and Emscripten print to the console; keep that out of the server's own output.
    for (const stream of [w.stdout, w.stderr]) stream.on('data', (chunk: Buffer) => logger?.debug({ output: chunk.toString().trim() }, 'upscaler worker output'));
    w.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        if (message.fallbackReason) logger?.warn({ backend: message.backend, reason: message.fallbackReason }, 'upscaler: the WebAssembly backend failed; using the much slower JavaScript cpu backend');
        else logger?.info({ backend: message.backend }, 'upscaler ready');
      } else if (current && message.id === current.id) current.onMessage(message);
    });
    const crashed = (error: Error) => {
      if (worker === w) worker = undefined;
      current?.onCrash(new UpscaleError('failed', `Upscaling failed: ${error.message}`, { cause: error }));
    };
    w.on('error', crashed);
    w.on('exit', (code) => crashed(new Error(`the upscaler worker stopped (exit code ${code})`)));
    w.unref();
    return w;
  };

  /** Decodes to RGB (plus the alpha channel, upscaled plainly, when there is one); refuses anything but PNG, JPEG and WebP. */
  const decode = async (input: Buffer, factor: UpscaleFactor) => {
    if (!Buffer.isBuffer(input) || input.length === 0) throw new UpscaleError('invalid_input', 'The image to upscale is empty.');
    const limit = Math.floor(maxOutputPixels / (factor * factor));
    const open = () => sharp(input, { failOn: 'error', limitInputPixels: false }).autoOrient();
    let meta: Metadata;
    try {
      meta = await open().metadata();
    } catch (cause) {
      throw new UpscaleError('invalid_input', `The image to upscale is not a readable PNG, JPEG or WebP file (${cause instanceof Error ? cause.message : String(cause)}).`, { cause });
    }
    if (!DECODABLE.has(meta.format)) throw new UpscaleError('invalid_input', `Only PNG, JPEG and WebP images can be upscaled (got ${meta.format}).`);
    const { width, height } = meta.autoOrient;
    if (width * height > limit) {
      throw new UpscaleError('too_large', `${width}×${height} upscaled ×${factor} would be ${width * factor}×${height * factor}; at most ${(maxOutputPixels / 1024 / 1024).toFixed(0)} MP of output is allowed.`);
    }
    try {
      const { data, info } = await open().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 3 || info.width !== width || info.height !== height) throw new Error(`unexpected decoded layout ${info.width}×${info.height}×${info.channels}`);
      const alpha = meta.hasAlpha ? await open().extractChannel('alpha').resize(width * factor, height * factor, { kernel: 'lanczos3' }).raw().toBuffer() : null;
      // A buffer of its own, so it can be transferred to the worker without a copy.
      const rgb = new Uint8Array(data.length);
      rgb.set(data);
      return { rgb, width, height, alpha };
    } catch (cause) {
      throw new UpscaleError('invalid_input', `The image to upscale could not be decoded (${cause instanceof Error ? cause.message : String(cause)}).`, { cause });
    }
  };

  const encode = async (rgb: Uint8Array, width: number, height: number, alpha: Buffer | null): Promise<Buffer> => {
    let image = sharp(rgb, { raw: { width, height, channels: 3 }, limitInputPixels: false });
    if (alpha) image = image.joinChannel(alpha, { raw: { width, height, channels: 1 } });
    // Fast settings: callers re-encode (the media pipeline writes provenance metadata anyway).
    return image.png({ compressionLevel: 3, adaptiveFiltering: false }).toBuffer();
  };

  /** Runs one job on the worker; resolves with the RGB result, or undefined when it was canceled. */
  const runOnWorker = (job: Omit<UpscaleJobMessage, 'type' | 'id'>, onProgress: (fraction: number) => void): { done: Promise<{ rgb: Uint8Array; width: number; height: number } | undefined> } => {
    const id = nextId++;
    worker ??= startWorker();
    const w = worker;
    const done = new Promise<{ rgb: Uint8Array; width: number; height: number } | undefined>((resolve, reject) => {
      current = {
        id,
        onMessage: (m) => {
          if (m.type === 'progress') return onProgress(m.done / m.total);
          current = undefined;
          if (m.type === 'done') resolve({ rgb: m.rgb, width: m.width, height: m.height });
          else if (m.type === 'canceled') resolve(undefined);
          else if (m.type === 'failed') reject(new UpscaleError('failed', `Upscaling failed: ${m.message}`));
        },
        onCrash: (error) => {
          current = undefined;
          reject(error);
        },
      };
    });
    w.ref(); // a running job keeps the process alive; an idle worker does not
    w.postMessage({ type: 'upscale', id, ...job } satisfies UpscaleJobMessage, [job.rgb.buffer as ArrayBuffer]);
    return { done: done.finally(() => w.unref()) };
  };

  const run = async (input: Buffer, factor: UpscaleFactor, options: UpscaleOptions, settle: { resolve: (r: UpscaleResult) => void; reject: (e: unknown) => void; isSettled: () => boolean }) => {
    const { signal } = options;
    if (settle.isSettled()) return; // aborted while queued
    if (closed) return settle.reject(new UpscaleError('closed', 'The upscaler was closed.'));
    const decoded = await decode(input, factor);
    if (settle.isSettled()) return;
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(cancel, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const job = runOnWorker({ rgb: decoded.rgb, width: decoded.width, height: decoded.height, factor, tileSize, cancel }, (fraction) => {
        if (!settle.isSettled()) options.onProgress?.(Math.min(0.99, fraction));
      });
      const result = await job.done;
      if (!result || settle.isSettled()) return;
      const data = await encode(result.rgb, result.width, result.height, decoded.alpha);
      options.onProgress?.(1);
      settle.resolve({ data, width: result.width, height: result.height });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    upscale(input, factor, options = {}) {
      if (!FACTORS.includes(factor)) return Promise.reject(new UpscaleError('invalid_input', `The upscale factor must be 2 or 4 (got ${String(factor)}).`));
      if (closed) return Promise.reject(new UpscaleError('closed', 'The upscaler was closed.'));
      const { signal } = options;
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<UpscaleResult>((resolve, reject) => {
        let settled = false;
        const settle = {
          isSettled: () => settled,
          resolve: (r: UpscaleResult) => {
            if (settled) return;
            settled = true;
            resolve(r);
          },
          reject: (e: unknown) => {
            if (settled) return;
            settled = true;
            reject(e);
          },
        };
        // Aborting answers at once; the worker stops at its next tile boundary on its own time.
        signal?.addEventListener('abort', () => settle.reject(signal.reason), { once: true });
        tail = tail.then(() => run(input, factor, options, settle).catch((error: unknown) => settle.reject(error)));
      });
    },

    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      if (w) {
        w.removeAllListeners('exit');
        current?.onCrash(new UpscaleError('closed', 'The upscaler was closed.'));
        await w.terminate();
      }
    },
  };
}
