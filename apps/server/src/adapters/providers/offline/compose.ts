import { between, buildPalette, createRng, pick } from './palette.ts';
import type { Rng } from './palette.ts';
import type { PromptSpec } from './prompt.ts';
import { renderTextBlocks } from './text-block.ts';
import type { Box, TextStyle, VerticalAlign } from './text-block.ts';
import { GlyphDefs, measureLine, renderLine } from './text-layout.ts';

/**
 * The offline engine's picture, as SVG: a seeded gradient, soft colour fields, a little crisp geometry,
 * the prompt's quoted text on a card, and a small "Atelier offline preview" mark so nobody mistakes it
 * for a model's output. Soft edges come from radial gradients rather than blur filters, which keeps a
 * 2048 × 2048 render cheap. Everything random comes from the seed alone, so two prompts with the same
 * seed share their background and differ only where their text and colours differ.
 */

export const PREVIEW_MARK = 'Atelier offline preview';

export interface Canvas {
  width: number;
  height: number;
  seed: number;
}

export const f = (v: number): string => (Math.round(v * 100) / 100).toString();

const opacity = (v: number | undefined): string => (v === undefined ? '' : ` stop-opacity="${f(v)}"`);

/** The background gradient at a seeded angle, `id="bg"`; `opacities` makes it translucent (a tint). */
export function backgroundGradient(rng: Rng, width: number, height: number, stops: [string, string], opacities?: [number, number]): string {
  const angle = rng() * Math.PI * 2;
  const cx = width / 2;
  const cy = height / 2;
  const reach = Math.hypot(width, height) / 2;
  const dx = Math.cos(angle) * reach;
  const dy = Math.sin(angle) * reach;
  return (
    `<linearGradient id="bg" gradientUnits="userSpaceOnUse" x1="${f(cx - dx)}" y1="${f(cy - dy)}" x2="${f(cx + dx)}" y2="${f(cy + dy)}">` +
    `<stop offset="0" stop-color="${stops[0]}"${opacity(opacities?.[0])}/><stop offset="1" stop-color="${stops[1]}"${opacity(opacities?.[1])}/></linearGradient>`
  );
}

/** Large, soft-edged colour fields: radial gradients fading to transparent; `strength` scales their opacity. */
export function colourFields(rng: Rng, width: number, height: number, accents: readonly string[], strength = 1): { defs: string; body: string } {
  const count = 3 + Math.floor(rng() * 3);
  const longSide = Math.max(width, height);
  let defs = '';
  let body = '';
  for (let i = 0; i < count; i++) {
    const colour = accents[i % accents.length] ?? '#888888';
    const peak = between(rng, 0.55, 0.85) * strength;
    defs +=
      `<radialGradient id="field${i}"><stop offset="0" stop-color="${colour}" stop-opacity="${f(peak)}"/>` +
      `<stop offset="0.55" stop-color="${colour}" stop-opacity="${f(peak * 0.45)}"/><stop offset="1" stop-color="${colour}" stop-opacity="0"/></radialGradient>`;
    const r = between(rng, 0.28, 0.6) * longSide;
    body += `<circle cx="${f(between(rng, -0.1, 1.1) * width)}" cy="${f(between(rng, -0.1, 1.1) * height)}" r="${f(r)}" fill="url(#field${i})"/>`;
  }
  return { defs, body };
}

/** A few crisp, quiet shapes (rings, rounded tiles, a fan of lines) for structure at thumbnail size. */
function geometry(rng: Rng, width: number, height: number, accents: readonly string[], line: string): string {
  const shortSide = Math.min(width, height);
  const stroke = Math.max(1, shortSide * 0.006);
  const shapes: string[] = [];
  const count = 2 + Math.floor(rng() * 3);
  for (let i = 0; i < count; i++) {
    const cx = between(rng, 0.05, 0.95) * width;
    const cy = between(rng, 0.05, 0.95) * height;
    const size = between(rng, 0.12, 0.38) * shortSide;
    const kind = pick(rng, ['ring', 'tile', 'fan'] as const);
    if (kind === 'ring') {
      shapes.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(size / 2)}" fill="none" stroke="${line}" stroke-opacity="0.28" stroke-width="${f(stroke)}"/>`);
    } else if (kind === 'tile') {
      const colour = pick(rng, accents);
      const angle = between(rng, -35, 35);
      shapes.push(
        `<rect x="${f(cx - size / 2)}" y="${f(cy - size / 2)}" width="${f(size)}" height="${f(size)}" rx="${f(size * 0.18)}" ` +
          `transform="rotate(${f(angle)} ${f(cx)} ${f(cy)})" fill="${colour}" fill-opacity="0.32"/>`,
      );
    } else {
      const start = rng() * 360;
      const rays = Array.from({ length: 7 }, (_, k) => {
        const a = ((start + k * 9) * Math.PI) / 180;
        return `M${f(cx)} ${f(cy)}L${f(cx + Math.cos(a) * size)} ${f(cy + Math.sin(a) * size)}`;
      }).join('');
      shapes.push(`<path d="${rays}" stroke="${line}" stroke-opacity="0.22" stroke-width="${f(stroke)}" stroke-linecap="round"/>`);
    }
  }
  return shapes.join('');
}

/** The preview mark: small, bottom-right, on a translucent pill so it reads on any background. */
export function previewMark(width: number, height: number, defs: GlyphDefs): string {
  const shortSide = Math.min(width, height);
  const naturalWidth = measureLine(PREVIEW_MARK, 'regular');
  const size = Math.min(Math.max(shortSide * 0.018, 9), (width * 0.4) / naturalWidth);
  const textWidth = naturalWidth * size;
  const padX = size * 0.55;
  const pillHeight = size * 1.6;
  const margin = Math.max(2, shortSide * 0.018);
  const x = width - margin - textWidth - 2 * padX;
  const y = height - margin - pillHeight;
  return (
    `<rect x="${f(x)}" y="${f(y)}" width="${f(textWidth + 2 * padX)}" height="${f(pillHeight)}" rx="${f(pillHeight / 2)}" fill="#000000" fill-opacity="0.32"/>` +
    `<g fill-opacity="0.85">${renderLine(PREVIEW_MARK, 'regular', x + padX, y + pillHeight / 2 + size * 0.36, size, '#ffffff', defs)}</g>`
  );
}

export function textBox(spec: PromptSpec, width: number, height: number): { box: Box; align: VerticalAlign } {
  const x = width * 0.08;
  const w = width * 0.84;
  switch (spec.layout) {
    case 'top':
      return { box: { x, y: height * 0.07, width: w, height: height * 0.42 }, align: 'start' };
    case 'bottom':
      return { box: { x, y: height * 0.48, width: w, height: height * 0.39 }, align: 'end' };
    case 'centered':
      return { box: { x, y: height * 0.14, width: w, height: height * 0.72 }, align: 'center' };
  }
}

export const svgOpen = (width: number, height: number): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`;

/** A gentle darkening towards the edges; fill a full-canvas rect with `url(#vignette)`. */
export const VIGNETTE_DEF =
  '<radialGradient id="vignette" cx="0.5" cy="0.5" r="0.75"><stop offset="0.55" stop-color="#000000" stop-opacity="0"/><stop offset="1" stop-color="#000000" stop-opacity="0.22"/></radialGradient>';

/** The text card's colours on a light or a dark background. */
export function textStyle(dark: boolean): TextStyle {
  return dark ? { ink: '#ffffff', card: '#0b0b14', cardOpacity: 0.5 } : { ink: '#101018', card: '#ffffff', cardOpacity: 0.72 };
}

export function composeSvg(spec: PromptSpec, canvas: Canvas): string {
  const { width, height } = canvas;
  const rng = createRng(canvas.seed);
  const palette = buildPalette(spec.colors, spec.background, rng);
  const line = palette.isDark ? '#ffffff' : '#101018';
  const glyphs = new GlyphDefs();

  const background = backgroundGradient(rng, width, height, palette.background);
  const fields = colourFields(rng, width, height, palette.accents);
  const shapes = geometry(rng, width, height, palette.accents, line);
  const { box, align } = textBox(spec, width, height);
  const style = textStyle(palette.isDark);
  const text = renderTextBlocks(spec.texts, box, align, Math.min(width, height) * 0.15, style, glyphs);
  const mark = previewMark(width, height, glyphs);

  return (
    svgOpen(width, height) +
    `<defs>${background}${fields.defs}` +
    VIGNETTE_DEF +
    `${glyphs.toSvg()}</defs>` +
    `<rect width="${width}" height="${height}" fill="url(#bg)"/>${fields.body}${shapes}` +
    `<rect width="${width}" height="${height}" fill="url(#vignette)"/>${text}${mark}</svg>`
  );
}
