import { createWordMeasurer, measureLine, renderLine, verticalMetrics, wrapParagraph } from './text-layout.ts';
import type { FontWeight, GlyphDefs } from './text-layout.ts';

/**
 * Lays out the prompt's quoted texts as one centred card: the first quotation is the headline, later
 * ones follow in a smaller regular weight. The largest font size that fits the box wins; words are only
 * broken mid-word when keeping them whole would make the text too small to read.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type VerticalAlign = 'start' | 'center' | 'end';

export interface TextStyle {
  ink: string;
  card: string;
  cardOpacity: number;
}

const SECONDARY_SCALE = 0.56;
const LINE_HEIGHT = 1.22;
const MIN_SIZE = 4;

interface Block {
  weight: FontWeight;
  scale: number;
  paragraphs: string[];
  measure: ReturnType<typeof createWordMeasurer>;
}

interface Layout {
  base: number;
  pad: number;
  gap: number;
  lines: { text: string; weight: FontWeight; size: number }[][];
  height: number;
}

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Splits a word that is wider than the line into pieces that fit, at grapheme boundaries. */
function breakWord(word: string, maxWidth: number, wordWidth: (w: string) => number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const { segment } of segmenter.segment(word)) {
    if (current !== '' && wordWidth(current + segment) > maxWidth) {
      pieces.push(current);
      current = segment;
    } else current += segment;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

type Line = { text: string; width: number };

function wrap(paragraph: string, maxWidth: number, block: Block, breakWords: boolean): Line[] | null {
  const { wordWidth, spaceWidth } = block.measure;
  const lines = wrapParagraph(paragraph, maxWidth, wordWidth, spaceWidth);
  if (lines !== null || !breakWords) return lines;
  // Only reached for words wider than the box at the minimum size: e.g. a long URL or unspaced script.
  // Each piece of a broken word becomes its own line, so no space is invented between the pieces.
  const out: Line[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 0) out.push(...(wrapParagraph(run.join(' '), maxWidth, wordWidth, spaceWidth) ?? []));
    run = [];
  };
  for (const word of paragraph.split(' ')) {
    if (wordWidth(word) <= maxWidth) run.push(word);
    else {
      flush();
      out.push(...breakWord(word, maxWidth, wordWidth).map((piece) => ({ text: piece, width: wordWidth(piece) })));
    }
  }
  flush();
  return out;
}

function tryLayout(blocks: Block[], base: number, box: Box, breakWords: boolean): Layout | null {
  const pad = base * 0.55;
  const gap = base * 0.35;
  const innerWidth = box.width - 2 * pad;
  if (innerWidth <= 0) return null;
  const lines: Layout['lines'] = [];
  let height = 2 * pad + gap * (blocks.length - 1);
  for (const block of blocks) {
    const size = base * block.scale;
    const blockLines: Layout['lines'][number] = [];
    for (const paragraph of block.paragraphs) {
      const wrapped = wrap(paragraph, innerWidth / size, block, breakWords);
      if (wrapped === null) return null;
      for (const line of wrapped) {
        blockLines.push({ text: line.text, weight: block.weight, size });
      }
    }
    height += blockLines.length * size * LINE_HEIGHT;
    lines.push(blockLines);
  }
  if (height > box.height && !(breakWords && base <= MIN_SIZE)) return null;
  return { base, pad, gap, lines, height };
}

/** Binary search for the largest size in [MIN_SIZE, maxSize] that fits; sizes are searched to 0.25 px. */
function fit(blocks: Block[], box: Box, maxSize: number, breakWords: boolean): Layout | null {
  const atMax = tryLayout(blocks, maxSize, box, breakWords);
  if (atMax) return atMax;
  let best = tryLayout(blocks, MIN_SIZE, box, breakWords);
  if (!best) return null;
  let lo = MIN_SIZE;
  let hi = maxSize;
  while (hi - lo > 0.25) {
    const mid = (lo + hi) / 2;
    const layout = tryLayout(blocks, mid, box, breakWords);
    if (layout) {
      best = layout;
      lo = mid;
    } else hi = mid;
  }
  return best;
}

export function renderTextBlocks(texts: readonly string[], box: Box, align: VerticalAlign, maxSize: number, style: TextStyle, defs: GlyphDefs): string {
  if (texts.length === 0) return '';
  const measurers = { bold: createWordMeasurer('bold'), regular: createWordMeasurer('regular') };
  const blocks: Block[] = texts.map((text, i) => {
    const weight: FontWeight = i === 0 ? 'bold' : 'regular';
    return { weight, scale: i === 0 ? 1 : SECONDARY_SCALE, paragraphs: text.split(/\r\n|\r|\n/), measure: measurers[weight] };
  });
  const whole = fit(blocks, box, Math.max(MIN_SIZE, maxSize), false);
  // Breaking inside a word is ugly, but less so than a headline too small to read.
  const readable = Math.min(box.width, box.height) * 0.04;
  const layout = whole && whole.base >= readable ? whole : (fit(blocks, box, Math.max(MIN_SIZE, maxSize), true) ?? whole);
  if (!layout) return '';

  // The size search used summed word widths; centre each line on its real, shaped width.
  const lines = layout.lines.map((blockLines) => blockLines.map((line) => ({ ...line, width: measureLine(line.text, line.weight) * line.size })));
  const cardWidth = Math.max(...lines.flat().map((line) => line.width)) + 2 * layout.pad;
  const centreX = box.x + box.width / 2;
  const top = align === 'start' ? box.y : align === 'end' ? box.y + box.height - layout.height : box.y + (box.height - layout.height) / 2;
  const rect = (y: number, fill: string, opacity: number): string =>
    `<rect x="${fmt(centreX - cardWidth / 2)}" y="${fmt(y)}" width="${fmt(cardWidth)}" height="${fmt(layout.height)}" rx="${fmt(layout.base * 0.35)}" fill="${fill}" fill-opacity="${opacity}"/>`;
  const parts = [rect(top + layout.base * 0.12, '#000000', 0.12), rect(top, style.card, style.cardOpacity)];
  let y = top + layout.pad;
  lines.forEach((blockLines, i) => {
    if (i > 0) y += layout.gap;
    for (const line of blockLines) {
      const { ascent, descent } = verticalMetrics(line.weight);
      const lineHeight = line.size * LINE_HEIGHT;
      const baseline = y + (lineHeight - (ascent + descent) * line.size) / 2 + ascent * line.size;
      parts.push(renderLine(line.text, line.weight, centreX - line.width / 2, baseline, line.size, style.ink, defs));
      y += lineHeight;
    }
  });
  return parts.join('');
}
