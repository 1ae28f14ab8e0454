import { describe, expect, it } from 'vitest';
import { ASPECT_RATIOS, MAX_PIXELS, checkSize, sizeForAspectRatio } from './sizes.ts';

const limits = { min_dimension: 64, max_dimension: 2048, max_pixels: MAX_PIXELS, dimension_multiple: 16 };

describe('sizeForAspectRatio', () => {
  it.each(ASPECT_RATIOS)('%s gives a valid ~1 MP size close to the ratio', (ratio) => {
    const { width, height } = sizeForAspectRatio(ratio);
    const [w, h] = ratio.split(':').map(Number) as [number, number];
    expect(width % 16).toBe(0);
    expect(height % 16).toBe(0);
    expect(Math.abs(width / height - w / h) / (w / h)).toBeLessThan(0.02);
    expect(width * height).toBeGreaterThan(0.9 * 1024 * 1024);
    expect(width * height).toBeLessThan(1.1 * 1024 * 1024);
    expect(checkSize(width, height, limits)).toEqual([]);
  });

  it('gives the familiar sizes', () => {
    expect(sizeForAspectRatio('1:1')).toEqual({ width: 1024, height: 1024 });
    expect(sizeForAspectRatio('16:9')).toEqual({ width: 1360, height: 768 });
    expect(sizeForAspectRatio('9:16')).toEqual({ width: 768, height: 1360 });
  });
});

describe('checkSize', () => {
  it('accepts exactly 4 MP and refuses one row more', () => {
    expect(checkSize(2048, 2048, limits)).toEqual([]);
    expect(checkSize(2048, 2064, limits).map((p) => p.path)).toEqual(['height']);
    expect(checkSize(2064, 2048, { ...limits, max_dimension: 4096 })).toEqual([{ path: 'size', message: '2064×2048 is 4.23 MP; this model allows at most 4.2 MP' }]);
  });

  it('names each bad side with the nearest valid value', () => {
    const problems = checkSize(1000, 48, limits);
    expect(problems).toEqual([
      { path: 'width', message: 'width must be a multiple of 16 (got 1000; nearest valid: 1008)' },
      { path: 'height', message: 'height must be between 64 and 2048 pixels (got 48)' },
    ]);
  });

  it('refuses fractional pixels', () => {
    expect(checkSize(512.5, 512, limits)[0]).toMatchObject({ path: 'width', message: expect.stringContaining('whole number') });
  });
});
