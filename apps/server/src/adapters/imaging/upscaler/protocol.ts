/** Messages between the upscaler (main thread) and its worker thread. Types only. */

export type UpscaleFactor = 2 | 4;

export interface UpscaleJobMessage {
  type: 'upscale';
  id: number;
  /** RGB, 3 bytes per pixel, row by row; its buffer is transferred. */
  rgb: Uint8Array;
  width: number;
  height: number;
  factor: UpscaleFactor;
  /** Largest core of a tile, in input pixels. */
  tileSize: number;
  /** An Int32Array over a SharedArrayBuffer: the main thread stores 1 to stop the job at the next tile. */
  cancel: Int32Array;
}

export type WorkerMessage =
  /** Once, after start-up: which tfjs backend runs the model, and why it is not wasm when it is not. */
  | { type: 'ready'; backend: string; fallbackReason: string | null }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'done'; id: number; rgb: Uint8Array; width: number; height: number }
  | { type: 'canceled'; id: number }
  | { type: 'failed'; id: number; message: string };
