import { between, createRng, pick } from './palette.ts';
import type { Rng } from './palette.ts';

/**
 * Where the offline engine puts reference images: pure geometry, in whole pixels, from the number of
 * references, their aspect ratios, the canvas and the seed. One reference fills the canvas
 * (image-to-image); two to ten become a collage, in the user's order, in one of three seeded layouts:
 *
 * - grid:    equal cells in rows; the column count is the one whose cells best match the references'
 *            typical aspect ratio (fewer empty cells break ties); a short last row is centred.
 * - feature: image 1 large on one side (left/right on landscape and square canvases, top/bottom on
 *            portrait ones), the others in a grid in the remaining strip.
 * - inset:   (2–4 references) image 1 fills the frame, the others are small pictures-in-picture in a
 *            row (landscape and square) or column (portrait) from a seeded corner, never over image 1's
 *            centre and never in the bottom-right corner, where the "Atelier offline preview" mark sits.
 *
 * Panels never overlap, except insets, which lie inside image 1 (layer 1 above layer 0).
 */

export const MAX_REFERENCES = 10;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface Panel extends Rect {
  /** 0: side by side on the backdrop; 1: an inset lying on top of panel 0. */
  layer: 0 | 1;
  /** Where the panel's "image N" label goes. */
  labelCorner: Corner;
}

export type LayoutKind = 'full' | 'grid' | 'feature' | 'inset';

export interface ReferenceLayout {
  kind: LayoutKind;
  /** One per reference, in the references' order. */
  panels: Panel[];
  /** Corner radius in pixels (before clamping to a panel's own size); 0 for a full-bleed reference. */
  radius: number;
  /** Gap between panels in pixels; shadows and labels are sized from it. */
  gap: number;
}

/** A stream of its own, so the layout and the background (drawn from the seed's main stream) vary independently. */
const LAYOUT_STREAM = 0x51ed_270b;

/** Typical aspect ratio of the references: the geometric mean, kept within 1:2 … 2:1. */
function typicalAspect(aspects: readonly number[]): number {
  const valid = aspects.filter((a) => Number.isFinite(a) && a > 0);
  if (valid.length === 0) return 1;
  const mean = Math.exp(valid.reduce((sum, a) => sum + Math.log(a), 0) / valid.length);
  return Math.min(2, Math.max(0.5, mean));
}

/** Float rectangles to whole pixels by snapping both edges, so gaps stay gaps and nothing leaves the canvas. */
function snap(r: Rect, width: number, height: number): Rect {
  const x0 = Math.min(width - 1, Math.max(0, Math.round(r.x)));
  const y0 = Math.min(height - 1, Math.max(0, Math.round(r.y)));
  const x1 = Math.min(width, Math.max(x0 + 1, Math.round(r.x + r.width)));
  const y1 = Math.min(height, Math.max(y0 + 1, Math.round(r.y + r.height)));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** `count` equal cells in `area`, row by row; the column count whose cells best fit `aspect` wins. */
export function gridCells(count: number, area: Rect, gap: number, aspect: number): Rect[] {
  let best: { cols: number; rows: number; score: number } | null = null;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const w = (area.width - (cols - 1) * gap) / cols;
    const h = (area.height - (rows - 1) * gap) / rows;
    if (w <= 0 || h <= 0) continue;
    const score = Math.abs(Math.log(w / h / aspect)) + (0.6 * (rows * cols - count)) / count;
    if (best === null || score < best.score - 1e-9) best = { cols, rows, score };
  }
  const { cols, rows } = best ?? { cols: count, rows: 1 };
  const w = Math.max(0, (area.width - (cols - 1) * gap) / cols);
  const h = Math.max(0, (area.height - (rows - 1) * gap) / rows);
  const cells: Rect[] = [];
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    const inRow = row === rows - 1 ? count - row * cols : cols;
    const offset = ((cols - inRow) * (w + gap)) / 2;
    cells.push({ x: area.x + offset + col * (w + gap), y: area.y + row * (h + gap), width: w, height: h });
  }
  return cells;
}

function featureLayout(rng: Rng, aspects: readonly number[], inner: Rect, gap: number, landscape: boolean): Rect[] {
  const share = aspects.length === 2 ? between(rng, 0.55, 0.62) : between(rng, 0.58, 0.68);
  const mainFirst = rng() < 0.5;
  const rest = aspects.slice(1);
  const restAspect = typicalAspect(rest);
  let main: Rect;
  let strip: Rect;
  if (landscape) {
    const mainWidth = (inner.width - gap) * share;
    const stripWidth = inner.width - gap - mainWidth;
    main = { x: mainFirst ? inner.x : inner.x + stripWidth + gap, y: inner.y, width: mainWidth, height: inner.height };
    strip = { x: mainFirst ? inner.x + mainWidth + gap : inner.x, y: inner.y, width: stripWidth, height: inner.height };
  } else {
    const mainHeight = (inner.height - gap) * share;
    const stripHeight = inner.height - gap - mainHeight;
    main = { x: inner.x, y: mainFirst ? inner.y : inner.y + stripHeight + gap, width: inner.width, height: mainHeight };
    strip = { x: inner.x, y: mainFirst ? inner.y + mainHeight + gap : inner.y, width: inner.width, height: stripHeight };
  }
  return [main, ...gridCells(rest.length, strip, gap, restAspect)];
}

const INSET_CORNERS = ['top-left', 'top-right', 'bottom-left'] as const;

function insetLayout(rng: Rng, aspects: readonly number[], main: Rect, gap: number): { rects: Rect[]; mainLabel: Corner } {
  const corner = pick(rng, INSET_CORNERS);
  // A row along the top or bottom edge of a landscape frame, a column down the left or right edge of a portrait one.
  const horizontal = main.width >= main.height;
  const ratios = aspects.slice(1).map((a) => Math.min(1.5, Math.max(2 / 3, Number.isFinite(a) && a > 0 ? a : 1)));
  // Each inset's length along the row per unit of the row's thickness.
  const lengths = ratios.map((a) => (horizontal ? a : 1 / a));
  const along = horizontal ? main.width : main.height;
  const across = horizontal ? main.height : main.width;
  const pad = gap * 1.4;
  const spacing = gap;
  const rowLength = (t: number): number => lengths.reduce((sum, k) => sum + k * t, 0) + spacing * (lengths.length - 1);
  // Thickness: a share of the frame's short side, then shrunk until the row stays clear of the frame's
  // centre and runs at most three quarters of the way along (clear of the preview mark's corner).
  let thickness = Math.min(main.width, main.height) * (lengths.length === 1 ? between(rng, 0.26, 0.32) : between(rng, 0.2, 0.26));
  thickness = Math.min(thickness, across / 2 - pad - gap);
  const available = (along - 2 * pad) * 0.75;
  if (rowLength(thickness) > available) thickness = (available - spacing * (lengths.length - 1)) / lengths.reduce((sum, k) => sum + k, 0);
  thickness = Math.max(1, thickness);

  const nearAcross = horizontal ? corner.startsWith('top') : corner.endsWith('left');
  const nearAlong = horizontal ? corner.endsWith('left') : corner.startsWith('top');
  const acrossAt = nearAcross ? pad : across - pad - thickness;
  // In the references' order (left to right, top to bottom), whichever corner the row starts from.
  let alongAt = nearAlong ? pad : along - pad - rowLength(thickness);
  const rects: Rect[] = [];
  for (const k of lengths) {
    const length = k * thickness;
    rects.push(
      horizontal
        ? { x: main.x + alongAt, y: main.y + acrossAt, width: length, height: thickness }
        : { x: main.x + acrossAt, y: main.y + alongAt, width: thickness, height: length },
    );
    alongAt += length + spacing;
  }
  // Image 1's own label goes to a corner the insets leave free.
  const mainLabel: Corner = horizontal ? (nearAcross ? 'bottom-left' : 'top-left') : nearAcross ? 'top-right' : 'top-left';
  return { rects, mainLabel };
}

/**
 * The panels for `aspects.length` references (width ÷ height each) on a `width` × `height` canvas.
 * Deterministic: the same arguments always give the same layout.
 */
export function layoutReferences(aspects: readonly number[], width: number, height: number, seed: number): ReferenceLayout {
  const count = aspects.length;
  if (count === 0) return { kind: 'full', panels: [], radius: 0, gap: 0 };
  if (count === 1) return { kind: 'full', panels: [{ x: 0, y: 0, width, height, layer: 0, labelCorner: 'top-left' }], radius: 0, gap: 0 };

  const rng = createRng((seed ^ LAYOUT_STREAM) >>> 0);
  const shortSide = Math.min(width, height);
  const gap = Math.max(1, shortSide * between(rng, 0.018, 0.03));
  const margin = Math.max(2, gap * between(rng, 1.5, 2.2));
  const radius = shortSide * between(rng, 0.016, 0.036);
  const inner: Rect = { x: margin, y: margin, width: width - 2 * margin, height: height - 2 * margin };
  const kind = pick(rng, count <= 4 ? (['grid', 'feature', 'inset'] as const) : (['grid', 'feature'] as const));

  const toPanels = (rects: Rect[], layerOf: (i: number) => 0 | 1, cornerOf: (i: number) => Corner): Panel[] =>
    rects.map((r, i) => ({ ...snap(r, width, height), layer: layerOf(i), labelCorner: cornerOf(i) }));

  switch (kind) {
    case 'grid':
      return { kind, panels: toPanels(gridCells(count, inner, gap, typicalAspect(aspects)), () => 0, () => 'top-left'), radius, gap };
    case 'feature':
      return { kind, panels: toPanels(featureLayout(rng, aspects, inner, gap, width >= height), () => 0, () => 'top-left'), radius, gap };
    case 'inset': {
      const { rects, mainLabel } = insetLayout(rng, aspects, inner, gap);
      return { kind, panels: toPanels([inner, ...rects], (i) => (i === 0 ? 0 : 1), (i) => (i === 0 ? mainLabel : 'top-left')), radius, gap };
    }
  }
}
