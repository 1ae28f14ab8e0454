import { describe, expect, it } from 'vitest';
import { planTiles, readRegion, writeCore } from './tiles.ts';

describe('planTiles', () => {
  it('covers every pixel exactly once with cores, and gives each its context inside the image', () => {
    for (const [w, h, size] of [
      [40, 32, 16],
      [1, 1, 192],
      [500, 3, 64],
      [193, 385, 192],
    ] as const) {
      const hits = new Uint8Array(w * h);
      for (const t of planTiles(w, h, size, 12)) {
        expect(t.width).toBeLessThanOrEqual(size);
        expect(t.inX).toBe(Math.max(0, t.x - 12));
        expect(t.inY).toBe(Math.max(0, t.y - 12));
        expect(t.inX + t.inWidth).toBe(Math.min(w, t.x + t.width + 12));
        expect(t.inY + t.inHeight).toBe(Math.min(h, t.y + t.height + 12));
        for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) hits[y * w + x]!++;
      }
      expect(hits.every((n) => n === 1)).toBe(true);
    }
  });

  it('refuses sizes that are not positive whole numbers', () => {
    expect(() => planTiles(0, 10, 16)).toThrow(RangeError);
    expect(() => planTiles(10, 10, 0)).toThrow(RangeError);
    expect(() => planTiles(10.5, 10, 16)).toThrow(RangeError);
  });
});

describe('readRegion and writeCore', () => {
  it('round-trip a tile through an identity "network" at factor 1, clamping and rounding', () => {
    const w = 7;
    const h = 5;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const out = new Uint8Array(w * h * 3);
    for (const tile of planTiles(w, h, 3, 2)) {
      const region = readRegion(rgb, w, tile);
      expect(region.length).toBe(tile.inWidth * tile.inHeight * 3);
      writeCore(out, w, region, tile, 1);
    }
    expect(out).toEqual(rgb);
    const clamped = new Uint8Array(3);
    writeCore(clamped, 1, Float32Array.from([-4, 255.6, 127.5]), { x: 0, y: 0, width: 1, height: 1, inX: 0, inY: 0, inWidth: 1, inHeight: 1 }, 1);
    expect([...clamped]).toEqual([0, 255, 128]);
  });
});
