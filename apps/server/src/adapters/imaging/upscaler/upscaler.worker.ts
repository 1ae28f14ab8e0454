import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { fileSystemModel, modelDirectory } from './model-files.ts';
import type { UpscaleFactor, UpscaleJobMessage, WorkerMessage } from './protocol.ts';
import { planTiles, readRegion, writeCore } from './tiles.ts';

/**
 * The upscaler's worker thread: runs the network tile by tile, so the server's event loop never waits
 * for it. One job at a time (the main thread queues them); between tiles it reports progress and looks
 * at the job's cancel flag.
 *
 * Backend: tfjs's WebAssembly backend (XNNPACK, SIMD), about 25× faster than the plain JavaScript cpu
 * backend on this kind of network. Its .wasm binaries are read from the installed package on disk. It
 * runs single-threaded in Node (tfjs does not enable wasm threads there), which suits a 2-core server:
 * one core upscales, the other keeps serving. Should wasm fail to start, the cpu backend takes over, and
 * the main thread logs that it did and why.
 */

const port = parentPort;
if (!port) throw new Error('upscaler.worker.ts must run in a worker thread');
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function startBackend(): Promise<{ backend: string; fallbackReason: string | null }> {
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(`${wasmDir}${path.sep}`);
  let reason: string | null = null;
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return { backend: 'wasm', fallbackReason: null };
    }
    reason = 'the wasm backend did not initialise';
  } catch (error) {
    reason = error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? error);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', fallbackReason: reason };
}

const models = new Map<UpscaleFactor, Promise<LayersModel>>();
const modelFor = (factor: UpscaleFactor) => {
  let model = models.get(factor);
  if (!model) {
    model = loadLayersModel(fileSystemModel(modelDirectory(factor)));
    models.set(factor, model);
  }
  return model;
};

async function upscale(job: UpscaleJobMessage): Promise<void> {
  const { id, rgb, width, height, factor } = job;
  const model = await modelFor(factor);
  const tiles = planTiles(width, height, job.tileSize);
  const outWidth = width * factor;
  const output = new Uint8Array(outWidth * height * factor * 3);
  for (const [i, tile] of tiles.entries()) {
    if (Atomics.load(job.cancel, 0) !== 0) return post({ type: 'canceled', id });
    const input = tf.tensor4d(readRegion(rgb, width, tile), [1, tile.inHeight, tile.inWidth, 3]);
    const result = model.predict(input) as tf.Tensor;
    try {
      writeCore(output, outWidth, (await result.data()) as Float32Array, tile, factor);
    } finally {
      tf.dispose([input, result]);
    }
    post({ type: 'progress', id, done: i + 1, total: tiles.length });
  }
  post({ type: 'done', id, rgb: output, width: outWidth, height: height * factor }, [output.buffer]);
}

const ready = startBackend().then((info) => {
  post({ type: 'ready', ...info });
});

// Jobs run one after another even if the main thread sent several.
let queue: Promise<void> = ready;
port.on('message', (job: UpscaleJobMessage) => {
  queue = queue.then(() =>
    upscale(job).catch((error: unknown) => {
      post({ type: 'failed', id: job.id, message: error instanceof Error ? error.message : String(error) });
    }),
  );
});
