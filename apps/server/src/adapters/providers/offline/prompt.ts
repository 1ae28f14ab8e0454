/**
 * What the offline engine takes from a prompt: the text to letter exactly, the palette, and where the
 * text goes. Plain prompts follow the FLUX.2 prompting guide (quote exact text, write colours as
 * #RRGGBB); a prompt that is one JSON object is read as a structured prompt, including BFL's documented
 * `color_palette` key.
 */

export const LAYOUTS = ['centered', 'top', 'bottom'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface PromptSpec {
  /** Each entry is one block of text, rendered exactly; the first is the headline. */
  texts: string[];
  /** Lower-case `#rrggbb`, in order of appearance, without duplicates. */
  colors: string[];
  background: string | null;
  layout: Layout;
}

const MAX_COLORS = 8;
const HEX = /#([0-9a-f]{6})(?![0-9a-z])/gi;

/**
 * Quotations, in the order they appear. Straight and typographic double quotes, guillemets and German
 * low-high quotes always count. Single quotes only count when they clearly open and close a quotation
 * (whitespace or an opening bracket before, whitespace or punctuation after) so "the cat's toy" and
 * "students' work" are not mistaken for text to render, while 'Don't stop' still is.
 */
const QUOTATION = new RegExp(
  [
    /"([^"]+)"/.source,
    /\u201C([^\u201D]+)\u201D/.source,
    /\u00AB\s?([^\u00BB]+?)\s?\u00BB/.source,
    /\u201E([^\u201C\u201D]+)[\u201C\u201D]/.source,
    /(?<=^|[\s([{:\u2014-])'(?!\s)(.+?)(?<!\s)'(?=$|[\s.,;:!?)\]}\u2014-])/.source,
    /(?<=^|[\s([{:\u2014-])\u2018(?!\s)(.+?)(?<!\s)\u2019(?=$|[\s.,;:!?)\]}\u2014-])/.source,
  ].join('|'),
  'gu',
);

export function extractQuotations(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(QUOTATION)) {
    const quoted = match.slice(1).find((group) => group !== undefined);
    if (quoted !== undefined && quoted.trim() !== '') found.push(quoted);
  }
  return found;
}

export function extractColors(text: string): string[] {
  return [...text.matchAll(HEX)].map((m) => `#${(m[1] ?? '').toLowerCase()}`);
}

function unique(values: string[]): string[] {
  return [...new Set(values)].slice(0, MAX_COLORS);
}

function layoutFromWords(prompt: string): Layout {
  if (/\b(?:at|on|along|across|near) the top\b|\btop of the (?:image|poster|frame|page)\b/i.test(prompt)) return 'top';
  if (/\b(?:at|on|along|across|near) the bottom\b|\bbottom of the (?:image|poster|frame|page)\b/i.test(prompt)) return 'bottom';
  return 'centered';
}

export function parsePrompt(prompt: string): PromptSpec {
  const structured = parseJsonObject(prompt);
  if (structured) return fromStructured(structured);
  return { texts: extractQuotations(prompt), colors: unique(extractColors(prompt)), background: null, layout: layoutFromWords(prompt) };
}

function parseJsonObject(prompt: string): Record<string, unknown> | null {
  const trimmed = prompt.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every string inside a JSON value, depth first, in document order. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isRecord(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

const LAYOUT_SYNONYMS: Record<string, Layout> = { center: 'centered', centre: 'centered', middle: 'centered' };

function readLayout(value: unknown): Layout | null {
  if (typeof value !== 'string') return null;
  const word = value.trim().toLowerCase();
  return LAYOUTS.find((l) => l === word) ?? LAYOUT_SYNONYMS[word] ?? null;
}

function fromStructured(json: Record<string, unknown>): PromptSpec {
  const paletteKeys = ['palette', 'colors', 'color_palette', 'colours'] as const;
  const explicitColors = paletteKeys.flatMap((key) => stringsIn(json[key]).flatMap(extractColors));
  const background = typeof json.background === 'string' ? (extractColors(json.background)[0] ?? null) : null;
  const colors = explicitColors.length > 0 ? explicitColors : stringsIn(json).flatMap(extractColors).filter((c) => c !== background);

  // An explicit `text` is taken verbatim; without one, quotations inside any description count, the
  // same as in a plain prompt ("scene": "a shop sign reading \"OPEN\"").
  const text = json.text;
  const texts =
    typeof text === 'string' ? [text] : Array.isArray(text) ? text.filter((t): t is string => typeof t === 'string') : stringsIn(json).flatMap(extractQuotations);

  const layout = readLayout(json.layout) ?? layoutFromWords(stringsIn(json).join(' '));
  return { texts: texts.filter((t) => t.trim() !== ''), colors: unique(colors), background, layout };
}
