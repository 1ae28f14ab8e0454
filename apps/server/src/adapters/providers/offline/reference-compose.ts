import { backgroundGradient, colourFields, f, previewMark, svgOpen, textBox, textStyle, VIGNETTE_DEF } from './compose.ts';
import type { Canvas } from './compose.ts';
import { buildPalette, createRng } from './palette.ts';
import type { Palette, Rng } from './palette.ts';
import type { PromptSpec } from './prompt.ts';
import type { Panel, ReferenceLayout } from './reference-layout.ts';
import { renderTextBlocks } from './text-block.ts';
import type { TextStyle } from './text-block.ts';
import { GlyphDefs, measureLine, renderLine } from './text-layout.ts';

/**
 * The SVG layers around composited reference images. The references themselves are resized and placed
 * by sharp (reference-render.ts); these are the layers below and above them:
 *
 * - one reference: the reference fills the canvas, then a tint layer on top: the seeded (or prompted)
 *   palette as a translucent gradient and soft glows, the vignette, the prompt's quoted text and the
 *   preview mark;
 * - a collage: a backdrop (the seeded gradient and colour fields, soft shadows under the panels), the
 *   panels, then a layer with the "image N" labels, the quoted text and the preview mark.
 *
 * Palette and backdrop come from the seed's main stream exactly as for a picture without references, so
 * a prompt with the same seed keeps its colours whether or not references are attached.
 */

export interface Scene {
  rng: Rng;
  palette: Palette;
  /** The prompt names colours: they are then applied more strongly over a reference. */
  prompted: boolean;
}

export function sceneFor(spec: PromptSpec, seed: number): Scene {
  const rng = createRng(seed);
  return { rng, palette: buildPalette(spec.colors, spec.background, rng), prompted: spec.colors.length > 0 || spec.background !== null };
}

/** Text cards over photographs are a little more opaque than over the engine's own soft backgrounds. */
function cardStyle(dark: boolean): TextStyle {
  const base = textStyle(dark);
  return { ...base, cardOpacity: dark ? 0.62 : 0.8 };
}

function textAndMark(spec: PromptSpec, canvas: Canvas, dark: boolean, glyphs: GlyphDefs): string {
  const { box, align } = textBox(spec, canvas.width, canvas.height);
  const text = renderTextBlocks(spec.texts, box, align, Math.min(canvas.width, canvas.height) * 0.15, cardStyle(dark), glyphs);
  return text + previewMark(canvas.width, canvas.height, glyphs);
}

/**
 * The layer over a single reference: a translucent gradient of the palette's two background colours at
 * a seeded angle, soft glows of its accents, the vignette, the quoted text and the preview mark. `dark`
 * says whether the reference is dark (light text card ink) or light.
 */
export function tintOverlaySvg(spec: PromptSpec, canvas: Canvas, scene: Scene, dark: boolean): string {
  const { width, height } = canvas;
  const { rng, palette, prompted } = scene;
  const strength = prompted ? 0.34 : 0.2;
  // The same gradient geometry as the picture without references, at a tint's opacity.
  const gradient = backgroundGradient(rng, width, height, palette.background, [strength, strength * 0.55]);
  const fields = colourFields(rng, width, height, palette.accents, prompted ? 0.28 : 0.22);
  const glyphs = new GlyphDefs();
  const top = textAndMark(spec, canvas, dark, glyphs);
  return (
    svgOpen(width, height) +
    `<defs>${gradient}${fields.defs}${VIGNETTE_DEF}${glyphs.toSvg()}</defs>` +
    `<rect width="${width}" height="${height}" fill="url(#bg)"/>${fields.body}` +
    `<rect width="${width}" height="${height}" fill="url(#vignette)"/>${top}</svg>`
  );
}

/** A panel's own corner radius: the layout's, but never more than a fifth of the panel's short side. */
export function panelRadius(panel: Panel, layout: ReferenceLayout): number {
  const r = Math.min(layout.radius, Math.min(panel.width, panel.height) * 0.2);
  return r < 0.5 ? 0 : r;
}

/**
 * A soft drop shadow without a blur filter (which would be slow at 2048 px): a few stacked, growing,
 * faint rounded rectangles, shifted down a little. Mostly hidden under the panel; the rim is the shadow.
 */
function shadow(panel: Panel, layout: ReferenceLayout): string {
  const radius = panelRadius(panel, layout);
  const spread = Math.max(1, layout.gap * 0.55);
  const drop = layout.gap * 0.25;
  const steps = 6;
  let out = '';
  for (let k = steps; k >= 1; k--) {
    const e = (spread * k) / steps;
    out += `<rect x="${f(panel.x - e)}" y="${f(panel.y - e + drop)}" width="${f(panel.width + 2 * e)}" height="${f(panel.height + 2 * e)}" rx="${f(radius + e)}"/>`;
  }
  return out;
}

function shadows(panels: readonly Panel[], layout: ReferenceLayout): string {
  return `<g fill="#000000" fill-opacity="0.045">${panels.map((p) => shadow(p, layout)).join('')}</g>`;
}

/** The collage's backdrop: the seeded gradient, its colour fields, the vignette, and shadows under the layer-0 panels. */
export function collageBackdropSvg(canvas: Canvas, scene: Scene, layout: ReferenceLayout): string {
  const { width, height } = canvas;
  const { rng, palette } = scene;
  const background = backgroundGradient(rng, width, height, palette.background);
  const fields = colourFields(rng, width, height, palette.accents);
  return (
    svgOpen(width, height) +
    `<defs>${background}${fields.defs}${VIGNETTE_DEF}</defs>` +
    `<rect width="${width}" height="${height}" fill="url(#bg)"/>${fields.body}` +
    `<rect width="${width}" height="${height}" fill="url(#vignette)"/>` +
    `${shadows(
      layout.panels.filter((p) => p.layer === 0),
      layout,
    )}</svg>`
  );
}

/** Shadows for the insets (layer 1), which fall on panel 0 and so go above it; null when there are none. */
export function insetShadowsSvg(canvas: Canvas, layout: ReferenceLayout): string | null {
  const insets = layout.panels.filter((p) => p.layer === 1);
  if (insets.length === 0) return null;
  return `${svgOpen(canvas.width, canvas.height)}${shadows(insets, layout)}</svg>`;
}

/** The small "image N" pill in a panel's corner; empty when the panel is too small to carry a legible one. */
function panelLabel(n: number, panel: Panel, layout: ReferenceLayout, shortSide: number, glyphs: GlyphDefs): string {
  const text = `image ${n}`;
  const natural = measureLine(text, 'regular');
  const size = Math.min(Math.max(shortSide * 0.016, 8), Math.min(panel.width, panel.height) * 0.1, (panel.width * 0.45) / natural);
  if (size < 4) return '';
  const padX = size * 0.5;
  const pillHeight = size * 1.5;
  const pillWidth = natural * size + 2 * padX;
  const offset = Math.max(size * 0.5, panelRadius(panel, layout) * 0.45);
  const x = panel.labelCorner.endsWith('left') ? panel.x + offset : panel.x + panel.width - offset - pillWidth;
  const y = panel.labelCorner.startsWith('top') ? panel.y + offset : panel.y + panel.height - offset - pillHeight;
  return (
    `<rect x="${f(x)}" y="${f(y)}" width="${f(pillWidth)}" height="${f(pillHeight)}" rx="${f(pillHeight / 2)}" fill="#000000" fill-opacity="0.4"/>` +
    `<g fill-opacity="0.9">${renderLine(text, 'regular', x + padX, y + pillHeight / 2 + size * 0.36, size, '#ffffff', glyphs)}</g>`
  );
}

/** Above the panels: a thin light frame round each inset, the "image N" labels, the quoted text and the preview mark. */
export function collageOverlaySvg(spec: PromptSpec, canvas: Canvas, layout: ReferenceLayout, dark: boolean): string {
  const { width, height } = canvas;
  const shortSide = Math.min(width, height);
  const glyphs = new GlyphDefs();
  const stroke = Math.max(1, layout.gap * 0.22);
  const frames = layout.panels
    .filter((p) => p.layer === 1)
    .map(
      (p) =>
        `<rect x="${f(p.x)}" y="${f(p.y)}" width="${f(p.width)}" height="${f(p.height)}" rx="${f(panelRadius(p, layout))}" fill="none" stroke="#ffffff" stroke-opacity="0.85" stroke-width="${f(stroke)}"/>`,
    )
    .join('');
  const labels = layout.panels.map((p, i) => panelLabel(i + 1, p, layout, shortSide, glyphs)).join('');
  const top = textAndMark(spec, canvas, dark, glyphs);
  return `${svgOpen(width, height)}<defs>${glyphs.toSvg()}</defs>${frames}${labels}${top}</svg>`;
}

/** A white rounded rectangle: composited with `dest-in`, it rounds a panel's corners. */
export function roundedMaskSvg(width: number, height: number, radius: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" rx="${f(radius)}" ry="${f(radius)}" fill="#ffffff"/></svg>`;
}
