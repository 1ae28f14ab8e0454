/** Seeded randomness and colour for the offline engine. Pure functions: same input, same output. */

export type Rng = () => number;

/** mulberry32: tiny, fast, and good enough to place shapes; the same seed gives the same sequence everywhere. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length) % items.length] as T;
export const between = (rng: Rng, min: number, max: number): number => min + rng() * (max - min);

interface Hsl {
  h: number;
  s: number;
  l: number;
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`;
}

function toHsl(hex: string): Hsl {
  const [r, g, b] = hexToRgb(hex).map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return { h: 0, s: 0, l };
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return { h: h * 60, s, l };
}

export function hsl(h: number, s: number, l: number): string {
  const hue = (((h % 360) + 360) % 360) / 360;
  const sat = clamp01(s);
  const lig = clamp01(l);
  if (sat === 0) return rgbToHex(lig * 255, lig * 255, lig * 255);
  const q = lig < 0.5 ? lig * (1 + sat) : lig + sat - lig * sat;
  const p = 2 * lig - q;
  const channel = (t0: number): number => {
    const t = t0 < 0 ? t0 + 1 : t0 > 1 ? t0 - 1 : t0;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return rgbToHex(channel(hue + 1 / 3) * 255, channel(hue) * 255, channel(hue - 1 / 3) * 255);
}

/** The same hue, lighter (positive amount) or darker (negative). */
export function shade(hex: string, amount: number): string {
  const c = toHsl(hex);
  return hsl(c.h, c.s, c.l + amount);
}

/** A companion for a gradient: darker for light colours, lighter for dark ones, so the two differ. */
function companion(hex: string, amount: number): string {
  return shade(hex, toHsl(hex).l > 0.45 ? -amount : amount);
}

/** WCAG relative luminance, 0 (black) to 1 (white). */
export function luminance(hex: string): number {
  const [r, g, b] = hexToRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export interface Palette {
  /** Two stops of the background gradient. */
  background: [string, string];
  /** Colours for the soft shapes and geometry. */
  accents: string[];
  /** True when light ink reads better than dark ink on this background. */
  isDark: boolean;
}

const SCHEMES: readonly (readonly number[])[] = [
  [0, 28, -28], // analogous
  [0, 180, 24], // complementary
  [0, 120, 240], // triadic
  [0, 150, 210], // split complementary
];

function seededPalette(rng: Rng, baseHue?: number): Omit<Palette, 'isDark'> {
  const hue = baseHue ?? rng() * 360;
  const scheme = pick(rng, SCHEMES);
  const sat = between(rng, 0.45, 0.72);
  const isDarkMood = rng() < 0.55;
  const [bgL0, bgL1, accentL] = isDarkMood ? [between(rng, 0.12, 0.2), between(rng, 0.26, 0.36), 0.58] : [between(rng, 0.86, 0.93), between(rng, 0.7, 0.8), 0.6];
  return {
    background: [hsl(hue, sat * 0.85, bgL0), hsl(hue + (scheme[1] ?? 0) * 0.35, sat * 0.85, bgL1)],
    accents: scheme.map((offset) => hsl(hue + offset, sat + 0.15, accentL + between(rng, -0.08, 0.08))),
  };
}

/**
 * Colours named in the prompt are used as given (the first two make the background, all of them colour
 * the shapes) so they dominate the image; a single colour is extended with shades of its own hue rather
 * than other hues. Without colours the palette comes from the seed.
 */
export function buildPalette(colors: readonly string[], background: string | null, rng: Rng): Palette {
  let result: Omit<Palette, 'isDark'>;
  const [first, second] = colors;
  if (background !== null) {
    const accents = colors.length > 0 ? [...colors] : seededPalette(rng, toHsl(background).h).accents;
    result = { background: [background, companion(background, 0.08)], accents };
  } else if (first === undefined) {
    result = seededPalette(rng);
  } else if (second === undefined) {
    result = { background: [first, companion(first, 0.14)], accents: [shade(first, 0.14), shade(first, -0.1), first] };
  } else {
    result = { background: [first, second], accents: colors.length > 2 ? colors.slice(2).concat(first, second) : [first, second, shade(first, 0.12)] };
  }
  const isDark = (luminance(result.background[0]) + luminance(result.background[1])) / 2 < 0.36;
  return { ...result, isDark };
}
