/**
 * Tiling for the upscaler: the image is cut into cores that cover it exactly once; each core is run
 * through the network with `context` pixels of the real image around it, and only the core's part of
 * the output is kept. The network is fully convolutional with a receptive field of 10 input pixels
 * either way (see CONTEXT_PIXELS), so with enough context every kept output pixel is computed from the
 * same inputs as in a single pass over the whole image: tiles cannot leave seams, and no blending is
 * needed. Memory is bounded by the tile size, not the image size (apart from the output itself).
 */

/**
 * How far an output pixel of the esrgan-slim RDN looks into its input, rounded up with a margin: nine
 * 3×3 and 5×5 convolutions before the upsampling (radius 1+1+1+1+1+2+1+1 = 9) plus the final 3×3
 * convolution after it (under one input pixel). Checked by the tiled-vs-single-pass test.
 */
export const CONTEXT_PIXELS = 12;

/** A core and the region the network is run on (the core plus context, clipped to the image). */
export interface Tile {
  /** The core: the part of the image this tile is responsible for. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The region given to the network. */
  inX: number;
  inY: number;
  inWidth: number;
  inHeight: number;
}

/** Cores of at most `size`×`size` pixels, row by row, with `context` pixels around each where the image has them. */
export function planTiles(width: number, height: number, size: number, context = CONTEXT_PIXELS): Tile[] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`image size must be positive whole numbers (got ${width}×${height})`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`tile size must be a positive whole number (got ${size})`);
  const tiles: Tile[] = [];
  for (let y = 0; y < height; y += size) {
    for (let x = 0; x < width; x += size) {
      const w = Math.min(size, width - x);
      const h = Math.min(size, height - y);
      const inX = Math.max(0, x - context);
      const inY = Math.max(0, y - context);
      tiles.push({ x, y, width: w, height: h, inX, inY, inWidth: Math.min(width, x + w + context) - inX, inHeight: Math.min(height, y + h + context) - inY });
    }
  }
  return tiles;
}

/** The tile's input region of an RGB image as float32 values 0..255, in the NHWC layout the network takes. */
export function readRegion(rgb: Uint8Array, imageWidth: number, tile: Tile): Float32Array {
  const out = new Float32Array(tile.inWidth * tile.inHeight * 3);
  const rowLength = tile.inWidth * 3;
  for (let row = 0; row < tile.inHeight; row++) {
    const from = ((tile.inY + row) * imageWidth + tile.inX) * 3;
    out.set(rgb.subarray(from, from + rowLength), row * rowLength);
  }
  return out;
}

/**
 * Copies the core's part of a tile's network output (`factor` times the input region, RGB float) into
 * the output image, rounded and clamped to 0..255 (the network overshoots slightly at hard edges).
 */
export function writeCore(output: Uint8Array, outputWidth: number, result: Float32Array | Int32Array | Uint8Array, tile: Tile, factor: number): void {
  const resultWidth = tile.inWidth * factor;
  const offsetX = (tile.x - tile.inX) * factor;
  const offsetY = (tile.y - tile.inY) * factor;
  const coreWidth = tile.width * factor;
  for (let row = 0; row < tile.height * factor; row++) {
    let from = ((offsetY + row) * resultWidth + offsetX) * 3;
    let to = ((tile.y * factor + row) * outputWidth + tile.x * factor) * 3;
    for (let i = 0; i < coreWidth * 3; i++) {
      const v = Math.round(result[from++]!);
      output[to++] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
