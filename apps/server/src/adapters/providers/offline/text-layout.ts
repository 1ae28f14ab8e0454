import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import type { Font } from 'fontkit';

/**
 * Text to SVG paths. fontkit shapes each line with the font's own OpenType tables (kerning, ligatures,
 * combining marks, Arabic joining), and every glyph becomes a path, so the SVG rasteriser never picks a
 * font itself: the result is the same on every machine, whatever fonts the system has.
 */

const require = createRequire(import.meta.url);
const FONT_FILES = {
  bold: 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf',
  regular: 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
} as const;
export type FontWeight = keyof typeof FONT_FILES;

const fonts = new Map<FontWeight, Font>();

function loadFont(weight: FontWeight): Font {
  const cached = fonts.get(weight);
  if (cached) return cached;
  const opened = fontkit.create(readFileSync(require.resolve(FONT_FILES[weight])));
  if (!('layout' in opened)) throw new Error(`${FONT_FILES[weight]} is a font collection, expected a single font`);
  fonts.set(weight, opened);
  return opened;
}

/** Collects glyph outlines once per glyph; lines then place them with `<use>`. */
export class GlyphDefs {
  private readonly defs = new Map<string, string>();

  ref(weight: FontWeight, font: Font, glyphId: number): string | null {
    const id = `g${weight[0]}${glyphId}`;
    if (!this.defs.has(id)) {
      const d = font.getGlyph(glyphId).path.toSVG();
      this.defs.set(id, d === '' ? '' : `<path id="${id}" d="${d}"/>`);
    }
    return this.defs.get(id) === '' ? null : id;
  }

  toSvg(): string {
    return [...this.defs.values()].join('');
  }
}

/** The line's advance width in em, after shaping. */
export function measureLine(text: string, weight: FontWeight): number {
  const font = loadFont(weight);
  return font.layout(text).advanceWidth / font.unitsPerEm;
}

/** Vertical metrics in em: ascent above and descent below (positive) the baseline. */
export function verticalMetrics(weight: FontWeight): { ascent: number; descent: number } {
  const font = loadFont(weight);
  return { ascent: font.ascent / font.unitsPerEm, descent: -font.descent / font.unitsPerEm };
}

/**
 * SVG for one shaped line with its left end of the baseline at (x, baseline). Glyph outlines are in font
 * units with y pointing up, hence the negative vertical scale.
 */
export function renderLine(text: string, weight: FontWeight, x: number, baseline: number, size: number, fill: string, defs: GlyphDefs): string {
  const font = loadFont(weight);
  const run = font.layout(text);
  const scale = size / font.unitsPerEm;
  const uses: string[] = [];
  let pen = 0;
  run.glyphs.forEach((glyph, i) => {
    const pos = run.positions[i];
    if (!pos) return;
    const ref = defs.ref(weight, font, glyph.id);
    if (ref !== null) uses.push(`<use xlink:href="#${ref}" x="${round(pen + pos.xOffset)}" y="${round(pos.yOffset)}"/>`);
    pen += pos.xAdvance;
  });
  return `<g fill="${fill}" transform="translate(${round(x)} ${round(baseline)}) scale(${scale.toFixed(6)} ${(-scale).toFixed(6)})">${uses.join('')}</g>`;
}

const round = (v: number): string => (Math.round(v * 100) / 100).toString();

/**
 * Greedy word wrap of one paragraph at spaces, given the widest line in em. Words are split on single
 * spaces so runs of spaces survive inside a line: the text is rendered exactly as quoted. Widths are the
 * sum of word widths (kerning across a space is negligible); returns null when one word alone is too wide.
 */
export function wrapParagraph(
  paragraph: string,
  maxWidth: number,
  wordWidth: (word: string) => number,
  spaceWidth: number,
): { text: string; width: number }[] | null {
  const lines: { text: string; width: number }[] = [];
  let current: string[] = [];
  let currentWidth = 0;
  for (const word of paragraph.split(' ')) {
    const w = wordWidth(word);
    if (w > maxWidth) return null;
    const widthWith = current.length === 0 ? w : currentWidth + spaceWidth + w;
    if (current.length > 0 && widthWith > maxWidth) {
      lines.push({ text: current.join(' '), width: currentWidth });
      current = [word];
      currentWidth = w;
    } else {
      current.push(word);
      currentWidth = widthWith;
    }
  }
  lines.push({ text: current.join(' '), width: currentWidth });
  return lines;
}

/** Word widths in em, measured once per distinct word for the many wrap attempts of a size search. */
export function createWordMeasurer(weight: FontWeight): { wordWidth: (word: string) => number; spaceWidth: number } {
  const cache = new Map<string, number>();
  const wordWidth = (word: string): number => {
    let w = cache.get(word);
    if (w === undefined) {
      w = word === '' ? 0 : measureLine(word, weight);
      cache.set(word, w);
    }
    return w;
  };
  return { wordWidth, spaceWidth: measureLine(' ', weight) };
}
