import { describe, expect, it } from 'vitest';
import { gridCells, layoutReferences } from './reference-layout.ts';
import type { LayoutKind, Rect } from './reference-layout.ts';

const CANVASES = [
  [64, 64],
  [512, 512],
  [1344, 768],
  [768, 1344],
  [2048, 880],
  [880, 2048],
  [2048, 2048],
] as const;
const SEEDS = Array.from({ length: 24 }, (_, i) => i * 7919 + 3);
const ASPECTS = [1, 1.5, 0.66, 16 / 9, 0.5, 1.33, 2.4, 0.8, 1, 3];

const overlaps = (a: Rect, b: Rect): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const contains = (r: Rect, x: number, y: number): boolean => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
const inside = (inner: Rect, outer: Rect): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

describe('reference layout', () => {
  it('one reference fills the canvas; none gives no panels', () => {
    expect(layoutReferences([0.5], 1344, 768, 1)).toEqual({ kind: 'full', panels: [{ x: 0, y: 0, width: 1344, height: 768, layer: 0, labelCorner: 'top-left' }], radius: 0, gap: 0 });
    expect(layoutReferences([], 512, 512, 1).panels).toEqual([]);
  });

  it('gives every reference a whole-pixel panel on the canvas, none hiding another', () => {
    for (const [width, height] of CANVASES) {
      const canvas: Rect = { x: 0, y: 0, width, height };
      for (let n = 2; n <= 10; n++) {
        for (const seed of SEEDS) {
          const layout = layoutReferences(ASPECTS.slice(0, n), width, height, seed);
          const where = `${n} on ${width}×${height}, seed ${seed} (${layout.kind})`;
          expect(layout.panels, where).toHaveLength(n);
          for (const p of layout.panels) {
            expect([p.x, p.y, p.width, p.height].every(Number.isInteger), where).toBe(true);
            expect(p.width >= 1 && p.height >= 1 && inside(p, canvas), where).toBe(true);
          }
          const flat = layout.panels.filter((p) => p.layer === 0);
          const insets = layout.panels.filter((p) => p.layer === 1);
          for (let i = 0; i < flat.length; i++) for (let j = i + 1; j < flat.length; j++) expect(overlaps(flat[i]!, flat[j]!), where).toBe(false);
          for (let i = 0; i < insets.length; i++) for (let j = i + 1; j < insets.length; j++) expect(overlaps(insets[i]!, insets[j]!), where).toBe(false);

          if (layout.kind === 'inset') {
            expect(n, where).toBeLessThanOrEqual(4);
            const main = layout.panels[0]!;
            expect(main.layer).toBe(0);
            expect(insets).toHaveLength(n - 1);
            for (const inset of insets) {
              expect(inside(inset, main), where).toBe(true);
              // Image 1's centre stays visible, and the preview mark's corner stays clear.
              expect(contains(inset, main.x + main.width / 2, main.y + main.height / 2), where).toBe(false);
              expect(overlaps(inset, { x: width * 0.8, y: height * 0.8, width: width * 0.2, height: height * 0.2 }), where).toBe(false);
            }
            // In the references' order: left to right, or top to bottom in a column.
            for (let i = 1; i < insets.length; i++) {
              const [a, b] = [insets[i - 1]!, insets[i]!];
              expect(main.width >= main.height ? b.x > a.x && b.y === a.y : b.y > a.y && b.x === a.x, where).toBe(true);
            }
          } else {
            expect(insets, where).toHaveLength(0);
          }

          if (width >= 512 && height >= 512) {
            // Panels big enough to see, and most of the canvas is pictures rather than backdrop.
            for (const p of layout.panels) expect((p.width * p.height) / (width * height), where).toBeGreaterThan(0.008);
            const covered = flat.reduce((sum, p) => sum + p.width * p.height, 0) / (width * height);
            expect(covered, where).toBeGreaterThan(0.45);
          }
        }
      }
    }
  });

  it('is deterministic, and the seed chooses among grid, feature and inset layouts', () => {
    expect(layoutReferences(ASPECTS.slice(0, 5), 1024, 1024, 99)).toEqual(layoutReferences(ASPECTS.slice(0, 5), 1024, 1024, 99));
    const kinds = (n: number): Set<LayoutKind> => new Set(SEEDS.map((seed) => layoutReferences(ASPECTS.slice(0, n), 1024, 1024, seed).kind));
    expect(kinds(3)).toEqual(new Set(['grid', 'feature', 'inset']));
    expect(kinds(7)).toEqual(new Set(['grid', 'feature']));
    const gaps = new Set(SEEDS.map((seed) => layoutReferences(ASPECTS.slice(0, 4), 1024, 1024, seed).gap));
    expect(gaps.size).toBeGreaterThan(10);
  });

  it('puts image 1 in the big panel of a feature layout', () => {
    for (const seed of SEEDS) {
      const layout = layoutReferences(ASPECTS.slice(0, 6), 1344, 768, seed);
      if (layout.kind !== 'feature') continue;
      const [main, ...rest] = layout.panels;
      for (const p of rest) expect(main!.width * main!.height).toBeGreaterThan(2 * p.width * p.height);
      // Landscape: side by side, full height.
      expect(main!.height).toBeGreaterThan(768 * 0.8);
    }
  });

  it('grid: the column count fits the aspect ratio, and a short last row is centred', () => {
    const area: Rect = { x: 0, y: 0, width: 1000, height: 1000 };
    const three = gridCells(3, area, 10, 1);
    expect(three).toHaveLength(3);
    expect(three[0]!.y).toBe(three[1]!.y);
    expect(three[2]!.y).toBeGreaterThan(three[0]!.y);
    expect(three[2]!.x + three[2]!.width / 2).toBeCloseTo(500);
    // Wide references in a wide area go in one row; tall ones in a tall area in one column.
    expect(new Set(gridCells(4, { x: 0, y: 0, width: 2000, height: 400 }, 10, 1.2).map((c) => c.y)).size).toBe(1);
    expect(new Set(gridCells(4, { x: 0, y: 0, width: 400, height: 2000 }, 10, 0.8).map((c) => c.x)).size).toBe(1);
  });
});
