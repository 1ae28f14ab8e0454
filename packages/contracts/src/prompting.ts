import { z } from 'zod';
import { MAX_PROMPT_LENGTH } from './generations.ts';

/**
 * Prompt building for FLUX.2-class models, shared by the studio (live preview) and anyone composing a
 * prompt for the API. It follows BFL's prompting guidance: exact text in quotes, with font style, size
 * hierarchy and placement, early in the prompt; colours as #RRGGBB plus a name, bound to an object; and
 * the documented JSON prompt schema, which FLUX.2 accepts as the prompt string itself.
 * Everything here is pure: the server stores whatever prompt string it is sent.
 */

export const MAX_TEXT_ELEMENTS = 6;
export const MAX_TEXT_LENGTH = 200;
export const MAX_PALETTE_COLORS = 5;
export const MAX_STRUCTURED_COLORS = 8;
export const MAX_SUBJECTS = 10;

export const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

/** A `#RRGGBB` colour. */
export const hexColorSchema = z
  .string({ error: 'use a hex colour like #02eb3c' })
  .regex(HEX_COLOR, { error: (issue) => `${JSON.stringify(issue.input)} is not a hex colour: use #RRGGBB, e.g. #02eb3c` });

// ---------------------------------------------------------------------------------------------------
// Typography

export const TEXT_SIZES = ['headline', 'subheading', 'body', 'caption'] as const;
export type TextSize = (typeof TEXT_SIZES)[number];
export const TEXT_SIZE_LABELS: Record<TextSize, string> = { headline: 'Headline', subheading: 'Subheading', body: 'Body', caption: 'Caption' };
/** How each level of the size hierarchy is described to the model. */
const SIZE_PHRASES: Record<TextSize, string> = {
  headline: 'a large headline',
  subheading: 'a medium subheading',
  body: 'small body text',
  caption: 'a small caption',
};

/** Suggestions in the studio; any description is accepted. */
export const FONT_STYLE_PRESETS = [
  'bold sans-serif',
  'bold condensed sans-serif',
  'thin uppercase sans-serif',
  'classic serif',
  'high-contrast Didone serif',
  'slab serif',
  'elegant calligraphic script',
  'casual brush script',
  'handwritten marker',
  'monospace',
  'retro display lettering',
  'neon sign lettering',
] as const;

/** Suggestions in the studio; any description ("above the door") is accepted. */
export const PLACEMENT_PRESETS = [
  'top left',
  'top center',
  'top right',
  'center left',
  'centered',
  'center right',
  'bottom left',
  'bottom center',
  'bottom right',
] as const;

const shortText = (max: number, what: string) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .min(1, `describe the ${what}`)
    .max(max, `the ${what} must be at most ${max} characters`);

export const textElementSchema = z
  .object({
    text: z
      .string({ error: 'the text must be a string' })
      .max(MAX_TEXT_LENGTH, `the text must be at most ${MAX_TEXT_LENGTH} characters`)
      .refine((t) => t.trim() !== '', 'type the exact text to render'),
    font_style: shortText(80, 'font style'),
    size: z.enum(TEXT_SIZES, { error: `the size must be one of ${TEXT_SIZES.join(', ')}` }),
    placement: shortText(80, 'placement'),
    color: hexColorSchema.optional(),
  })
  .strict();
export type TextElement = z.infer<typeof textElementSchema>;

export const typographySchema = z.array(textElementSchema).max(MAX_TEXT_ELEMENTS, `at most ${MAX_TEXT_ELEMENTS} text elements`);

// ---------------------------------------------------------------------------------------------------
// Palette

export const paletteEntrySchema = z
  .object({
    hex: hexColorSchema,
    name: z.string().trim().max(40, 'the colour name must be at most 40 characters').optional(),
    /** What the colour is bound to, e.g. "the vase". */
    object: z.string().trim().max(120, 'what the colour applies to must be at most 120 characters').optional(),
  })
  .strict();
export type PaletteEntry = z.infer<typeof paletteEntrySchema>;

/** 1–5 colours when a palette is used (BFL: 3–5 work best); empty means no palette. */
export const paletteSchema = z.array(paletteEntrySchema).max(MAX_PALETTE_COLORS, `at most ${MAX_PALETTE_COLORS} colours`);

// ---------------------------------------------------------------------------------------------------
// Structured (JSON) prompt: BFL's documented base schema

const optionalText = (max: number, what: string) =>
  z
    .string({ error: `${what} must be text (in double quotes)` })
    .trim()
    .max(max, `${what} must be at most ${max} characters`)
    .optional();

export const structuredSubjectSchema = z
  .object({
    description: z
      .string({ error: (issue) => (issue.input === undefined ? 'describe the subject: add "description"' : 'description must be text (in double quotes)') })
      .trim()
      .min(1, 'describe the subject')
      .max(1000, 'description must be at most 1000 characters'),
    position: optionalText(200, 'position'),
    action: optionalText(300, 'action'),
  })
  .strict();
export type StructuredSubject = z.infer<typeof structuredSubjectSchema>;

export const structuredCameraSchema = z
  .object({
    angle: optionalText(200, 'angle'),
    lens: optionalText(200, 'lens'),
    depth_of_field: optionalText(200, 'depth_of_field'),
  })
  .strict();

export const STRUCTURED_FIELDS = ['scene', 'subjects', 'style', 'color_palette', 'lighting', 'mood', 'background', 'composition', 'camera'] as const;

export const structuredPromptSchema = z
  .object({
    scene: optionalText(2000, 'scene'),
    subjects: z
      .array(structuredSubjectSchema, { error: 'subjects must be a list: [{ "description": "…" }]' })
      .max(MAX_SUBJECTS, `at most ${MAX_SUBJECTS} subjects`)
      .optional(),
    style: optionalText(500, 'style'),
    color_palette: z
      .array(hexColorSchema, { error: 'color_palette must be a list of hex colours: ["#02eb3c", …]' })
      .max(MAX_STRUCTURED_COLORS, `at most ${MAX_STRUCTURED_COLORS} colours`)
      .optional(),
    lighting: optionalText(500, 'lighting'),
    mood: optionalText(300, 'mood'),
    background: optionalText(500, 'background'),
    composition: optionalText(500, 'composition'),
    camera: structuredCameraSchema.optional(),
  })
  .strict();
export type StructuredPrompt = z.infer<typeof structuredPromptSchema>;

export interface PromptIssue {
  /** Where in the JSON: `subjects[0].description`; empty for the document as a whole. */
  path: string;
  message: string;
}

export type ParseStructuredResult = { ok: true; value: StructuredPrompt } | { ok: false; errors: PromptIssue[] };

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** Validates a structured prompt object, with messages a person can act on. */
export function checkStructuredPrompt(value: unknown): ParseStructuredResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ path: '', message: 'the structured prompt must be one JSON object: { "scene": "…", … }' }] };
  }
  const parsed = structuredPromptSchema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.flatMap((issue): PromptIssue[] => {
    const at = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const allowed = at === 'camera' ? 'angle, lens, depth_of_field' : /^subjects\[\d+\]$/.test(at) ? 'description, position, action' : STRUCTURED_FIELDS.join(', ');
      return issue.keys.map((key) => ({ path: at ? `${at}.${key}` : key, message: `"${key}" is not a field here; use ${allowed}` }));
    }
    return [{ path: at, message: issue.message }];
  });
  return { ok: false, errors };
}

/** Parses the JSON view of the structured prompt editor. */
export function parseStructuredPrompt(json: string): ParseStructuredResult {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, errors: [{ path: '', message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  return checkStructuredPrompt(value);
}

/** Drops empty strings, empty lists and empty objects, so the form's blank fields are not sent. */
export function pruneStructuredPrompt(value: StructuredPrompt): StructuredPrompt {
  return prune(value) as StructuredPrompt;
}

function prune(value: unknown): unknown {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (Array.isArray(value)) {
    const items = value.map(prune).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, prune(v)] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Colour names (BFL: write "#RRGGBB (name)", never the hex alone)

function toHsl(hex: string): { h: number; s: number; l: number } {
  const n = parseInt(hex.slice(1), 16);
  const r = ((n >> 16) & 255) / 255;
  const g = ((n >> 8) & 255) / 255;
  const b = (n & 255) / 255;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return { h: 0, s: 0, l };
  const s = d / (1 - Math.abs(2 * l - 1));
  const h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return { h: h * 60, s, l };
}

const HUES: readonly [upTo: number, name: string][] = [
  [12, 'red'],
  [38, 'orange'],
  [52, 'golden yellow'],
  [66, 'yellow'],
  [90, 'lime green'],
  [150, 'green'],
  [172, 'teal'],
  [195, 'cyan'],
  [210, 'sky blue'],
  [245, 'blue'],
  [265, 'indigo'],
  [290, 'violet'],
  [318, 'magenta'],
  [345, 'pink'],
  [360, 'red'],
];

/**
 * An approximate English name for a colour, for the "#02eb3c (bright green)" form the guidance asks
 * for. Coarse on purpose: the hex carries the exact value, the name only anchors it.
 */
export function nameColor(hex: string): string {
  if (!HEX_COLOR.test(hex)) return 'colour';
  const { h, s, l } = toHsl(hex);
  if (l >= 0.97) return 'white';
  if (l <= 0.06) return 'black';
  if (s < 0.15 || (s < 0.2 && (l < 0.2 || l > 0.85))) {
    if (l < 0.2) return 'near black';
    if (l < 0.4) return 'dark gray';
    if (l < 0.65) return 'gray';
    if (l < 0.9) return 'light gray';
    return 'off-white';
  }
  const hue = HUES.find(([upTo]) => h < upTo)?.[1] ?? 'red';
  // Some hues change their everyday name with lightness: dark orange is brown, dark lime is olive,
  // dark cyan is teal, light red is coral then pink, very light warm hues are cream or beige.
  const isWarm = hue === 'orange' || hue === 'golden yellow' || hue === 'yellow';
  if ((hue === 'orange' || hue === 'golden yellow' || (hue === 'red' && h < 30)) && l < 0.42 && s < 0.85) return l < 0.22 ? 'dark brown' : 'brown';
  if (isWarm && l > 0.9) return 'cream';
  if (isWarm && l > 0.8 && s < 0.75) return 'beige';
  if (hue === 'lime green' && l < 0.4) return 'olive green';
  if (hue === 'cyan' && l < 0.35) return 'teal';
  if (hue === 'red' && l > 0.8) return 'light pink';
  if (hue === 'red' && l > 0.62) return 'coral';
  if (l < 0.22) return `dark ${hue}`;
  if (l < 0.36) return s < 0.35 ? `muted dark ${hue}` : `deep ${hue}`;
  if (l > 0.82) return `pale ${hue}`;
  if (l > 0.68) return `light ${hue}`;
  if (s < 0.35) return `muted ${hue}`;
  if (s > 0.75 && l >= 0.4 && l <= 0.62) return `bright ${hue}`;
  return hue;
}

/** "#02eb3c (bright green)": lower-case hex plus a name. */
export function describeColor(hex: string, name?: string): string {
  return `${hex.toLowerCase()} (${name?.trim() || nameColor(hex)})`;
}

// ---------------------------------------------------------------------------------------------------
// Compiling

/**
 * The exact text between quotation marks. Straight double quotes, unless the text contains one: then
 * typographic ones (or guillemets), so the string still reads back verbatim from between the marks.
 */
export function quoteExact(text: string): string {
  if (!text.includes('"')) return `"${text}"`;
  if (!/[\u201C\u201D]/.test(text)) return `\u201C${text}\u201D`;
  if (!/[\u00AB\u00BB]/.test(text)) return `\u00AB${text}\u00BB`;
  return `"${text}"`;
}

function placementPhrase(placement: string): string {
  const p = placement.trim();
  const preset = PLACEMENT_PRESETS.find((x) => x === p.toLowerCase());
  if (!preset) return p;
  if (preset === 'centered') return 'centered';
  return `at the ${preset}`;
}

function describeTextElement(el: TextElement): { sentence: string; fields: Record<string, string> } {
  const size = SIZE_PHRASES[el.size];
  const font = el.font_style.trim();
  const placement = placementPhrase(el.placement);
  const color = el.color ? `in color ${describeColor(el.color)}` : undefined;
  const sentence = `The text ${quoteExact(el.text)} appears as ${size} in ${font}, ${placement}${color ? `, ${color}` : ''}.`;
  const fields: Record<string, string> = { text: quoteExact(el.text), font_style: font, size: size.replace(/^an? /, ''), placement };
  if (el.color) fields.color = describeColor(el.color);
  return { sentence, fields };
}

function paletteSentences(palette: readonly PaletteEntry[]): string[] {
  const bound = palette.filter((c) => c.object?.trim());
  const free = palette.filter((c) => !c.object?.trim());
  const out: string[] = [];
  if (bound.length > 0) {
    const parts = bound.map((c) => `${c.object!.trim()} in color ${describeColor(c.hex, c.name)}`);
    const first = parts[0]!;
    parts[0] = first.charAt(0).toUpperCase() + first.slice(1);
    out.push(`${parts.join(', ')}.`);
  }
  if (free.length > 0) out.push(`Color palette: ${free.map((c) => describeColor(c.hex, c.name)).join(', ')}.`);
  return out;
}

export interface PromptParts {
  text: string;
  typography?: readonly TextElement[];
  palette?: readonly PaletteEntry[];
}

/**
 * The plain-text prompt: text elements first (each quoted exactly, with font style, size, placement and
 * colour), then the description, then the palette bound to its objects. Without typography or palette
 * the description is returned as it is. Check the result against MAX_PROMPT_LENGTH (promptLengthProblem).
 */
export function compilePrompt({ text, typography = [], palette = [] }: PromptParts): string {
  if (typography.length === 0 && palette.length === 0) return text;
  const parts = typography.map((el) => describeTextElement(el).sentence);
  const description = text.trim();
  if (description) parts.push(/[.!?…)"”»]$/.test(description) ? description : `${description}.`);
  parts.push(...paletteSentences(palette));
  return parts.join(' ');
}

/**
 * The JSON prompt string: BFL's schema, with the text elements first under `typography` (each exact
 * string quoted inside its value, as in a plain prompt) and the palette merged into `color_palette`;
 * colours bound to objects are spelled out in `color_usage`. Empty fields are left out. Indented: the
 * model ignores the whitespace, and the prompt stays readable in the history and its downloads.
 */
export function compileStructuredPrompt(structured: StructuredPrompt, { typography = [], palette = [] }: Omit<PromptParts, 'text'> = {}): string {
  const s = pruneStructuredPrompt(structured) ?? {};
  const colors = [...new Set([...(s.color_palette ?? []), ...palette.map((c) => c.hex)].map((c) => c.toLowerCase()))];
  const usage = palette.filter((c) => c.object?.trim()).map((c) => `${c.object!.trim()} in color ${describeColor(c.hex, c.name)}`);
  const out: Record<string, unknown> = {};
  if (typography.length > 0) out.typography = typography.map((el) => describeTextElement(el).fields);
  for (const key of STRUCTURED_FIELDS) {
    if (key === 'color_palette') {
      if (colors.length > 0) out.color_palette = colors;
      if (usage.length > 0) out.color_usage = usage;
    } else if (s[key] !== undefined) {
      out[key] = s[key];
    }
  }
  return JSON.stringify(out, null, 2);
}

/** Flowing prose from a structured prompt, for switching the editor back to plain text. */
export function structuredToText(structured: StructuredPrompt): string {
  const s = pruneStructuredPrompt(structured) ?? {};
  const sentence = (v: string | undefined) => (v ? (/[.!?]$/.test(v) ? v : `${v}.`) : undefined);
  const subjects = (s.subjects ?? []).map((x) => sentence([x.description, x.action, x.position].filter(Boolean).join(', ')));
  const camera = s.camera ? [s.camera.angle, s.camera.lens, s.camera.depth_of_field].filter(Boolean).join(', ') : '';
  const capital = (v: string | undefined, prefix: string) => (v ? sentence(`${prefix}${v}`) : undefined);
  return [
    sentence(s.scene),
    ...subjects,
    capital(s.style, 'Style: '),
    capital(s.lighting, 'Lighting: '),
    capital(s.mood, 'Mood: '),
    capital(s.background, 'Background: '),
    capital(s.composition, 'Composition: '),
    capital(camera || undefined, 'Camera: '),
    s.color_palette?.length ? `Color palette: ${s.color_palette.map((c) => describeColor(c)).join(', ')}.` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Why a compiled prompt cannot be sent, or undefined. */
export function promptLengthProblem(prompt: string): string | undefined {
  if (prompt.trim() === '') return 'the prompt must not be empty';
  if (prompt.length > MAX_PROMPT_LENGTH) return `the prompt is ${prompt.length - MAX_PROMPT_LENGTH} characters over the limit of ${MAX_PROMPT_LENGTH}`;
  return undefined;
}
