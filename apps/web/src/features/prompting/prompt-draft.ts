import {
  MAX_PALETTE_COLORS,
  MAX_TEXT_ELEMENTS,
  TEXT_SIZES,
  checkStructuredPrompt,
  compilePrompt,
  compileStructuredPrompt,
  paletteEntrySchema,
  parseStructuredPrompt,
  pruneStructuredPrompt,
  structuredToText,
  textElementSchema,
  type PaletteEntry,
  type PromptIssue,
  type StructuredPrompt,
  type TextElement,
  type TextSize,
} from '@atelier/contracts';

/**
 * The prompt-building part of the generate panel's draft: typography, palette and the structured (JSON)
 * prompt, kept as the user typed it (a hex half typed, a subject without a description yet) so nothing
 * is lost mid-edit. `compileDraft` validates it with the shared schemas and builds the exact prompt.
 */
export type PromptMode = 'text' | 'structured';

export interface TypographyItem {
  /** Local, stable across reorders (React key). */
  key: string;
  text: string;
  font_style: string;
  size: TextSize;
  placement: string;
  /** null: no colour asked for. */
  color: string | null;
}

export interface PaletteItem {
  key: string;
  /** As typed in the hex field; validated on compile. */
  hex: string;
  name: string;
  object: string;
}

export interface SubjectItem {
  key: string;
  description: string;
  position: string;
  action: string;
}

export const STRUCTURED_TEXT_FIELDS = ['scene', 'style', 'lighting', 'mood', 'background', 'composition'] as const;
export type StructuredTextField = (typeof STRUCTURED_TEXT_FIELDS)[number];
export const CAMERA_FIELDS = ['angle', 'lens', 'depth_of_field'] as const;
export type CameraField = (typeof CAMERA_FIELDS)[number];

export type StructuredForm = Record<StructuredTextField, string> & {
  subjects: SubjectItem[];
  camera: Record<CameraField, string>;
  /** Only editable in the JSON view (the Palette section is the everyday way to add colours). */
  color_palette: string[];
};

export interface PromptDraft {
  promptMode: PromptMode;
  typography: TypographyItem[];
  palette: PaletteItem[];
  structured: StructuredForm;
  /** The JSON view's text while it differs from the form (being edited, or invalid); null when in sync. */
  structuredJson: string | null;
}

export const EMPTY_STRUCTURED: StructuredForm = {
  scene: '',
  subjects: [],
  style: '',
  lighting: '',
  mood: '',
  background: '',
  composition: '',
  camera: { angle: '', lens: '', depth_of_field: '' },
  color_palette: [],
};

export const INITIAL_PROMPT_DRAFT: PromptDraft = { promptMode: 'text', typography: [], palette: [], structured: EMPTY_STRUCTURED, structuredJson: null };

let counter = 0;
export const newKey = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

export function newTextElement(index: number): TypographyItem {
  // The first element is usually the headline; later ones step down the hierarchy.
  const size = TEXT_SIZES[Math.min(index, 2)]!;
  return { key: newKey('text'), text: '', font_style: index === 0 ? 'bold sans-serif' : 'regular sans-serif', size, placement: index === 0 ? 'top center' : 'bottom center', color: null };
}

/** Colours offered for a new swatch, in order, skipping ones already in the palette. */
const STARTER_COLORS = ['#e4572e', '#17bebb', '#ffc914', '#2e282a', '#76b041'];
export function newPaletteItem(existing: readonly PaletteItem[]): PaletteItem {
  const used = new Set(existing.map((c) => c.hex.toLowerCase()));
  return { key: newKey('color'), hex: STARTER_COLORS.find((c) => !used.has(c)) ?? '#808080', name: '', object: '' };
}

export function newSubject(): SubjectItem {
  return { key: newKey('subject'), description: '', position: '', action: '' };
}

// ---------------------------------------------------------------------------------------------------
// Storage: a draft from sessionStorage may be from an older studio, or edited by hand.

const str = (v: unknown, max = 5000): string => (typeof v === 'string' ? v.slice(0, max) : '');
const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function restorePromptDraft(stored: Partial<Record<keyof PromptDraft, unknown>>): PromptDraft {
  const typography = list(stored.typography)
    .slice(0, MAX_TEXT_ELEMENTS)
    .map((raw, i): TypographyItem => {
      const v = record(raw);
      const size = TEXT_SIZES.find((s) => s === v.size) ?? newTextElement(i).size;
      return { key: str(v.key) || newKey('text'), text: str(v.text), font_style: str(v.font_style), size, placement: str(v.placement), color: typeof v.color === 'string' ? v.color : null };
    });
  const palette = list(stored.palette)
    .slice(0, MAX_PALETTE_COLORS)
    .map((raw): PaletteItem => {
      const v = record(raw);
      return { key: str(v.key) || newKey('color'), hex: str(v.hex, 20), name: str(v.name), object: str(v.object) };
    });
  return {
    promptMode: stored.promptMode === 'structured' ? 'structured' : 'text',
    typography,
    palette,
    structured: restoreForm(record(stored.structured)),
    structuredJson: typeof stored.structuredJson === 'string' ? stored.structuredJson : null,
  };
}

function restoreForm(v: Record<string, unknown>): StructuredForm {
  const camera = record(v.camera);
  return {
    ...(Object.fromEntries(STRUCTURED_TEXT_FIELDS.map((f) => [f, str(v[f])])) as Record<StructuredTextField, string>),
    subjects: list(v.subjects).map((raw) => {
      const s = record(raw);
      return { key: str(s.key) || newKey('subject'), description: str(s.description), position: str(s.position), action: str(s.action) };
    }),
    camera: Object.fromEntries(CAMERA_FIELDS.map((f) => [f, str(camera[f])])) as Record<CameraField, string>,
    color_palette: list(v.color_palette).filter((c): c is string => typeof c === 'string'),
  };
}

// ---------------------------------------------------------------------------------------------------
// Form ⇄ structured prompt

/** The form as a structured prompt (blank fields left out). */
export function formToStructured(form: StructuredForm): StructuredPrompt {
  const value = {
    ...Object.fromEntries(STRUCTURED_TEXT_FIELDS.map((f) => [f, form[f]])),
    subjects: form.subjects.map(({ description, position, action }) => ({ description, position, action })),
    color_palette: form.color_palette,
    camera: form.camera,
  };
  return pruneStructuredPrompt(value as StructuredPrompt) ?? {};
}

/** A structured prompt in the form; subjects keep their keys by position, so focus stays put. */
export function structuredToForm(value: StructuredPrompt, previous: StructuredForm): StructuredForm {
  return {
    ...(Object.fromEntries(STRUCTURED_TEXT_FIELDS.map((f) => [f, value[f] ?? ''])) as Record<StructuredTextField, string>),
    subjects: (value.subjects ?? []).map((s, i) => ({ key: previous.subjects[i]?.key ?? newKey('subject'), description: s.description, position: s.position ?? '', action: s.action ?? '' })),
    camera: { angle: value.camera?.angle ?? '', lens: value.camera?.lens ?? '', depth_of_field: value.camera?.depth_of_field ?? '' },
    color_palette: value.color_palette ?? [],
  };
}

export function isFormEmpty(form: StructuredForm): boolean {
  return Object.keys(formToStructured(form)).length === 0;
}

/** What the JSON view shows: the text being edited, else the form, pretty-printed. */
export function structuredJsonText(draft: Pick<PromptDraft, 'structured' | 'structuredJson'>): string {
  if (draft.structuredJson !== null) return draft.structuredJson;
  const value = formToStructured(draft.structured);
  return JSON.stringify(Object.keys(value).length > 0 ? value : { scene: '', subjects: [], style: '' }, null, 2);
}

/** An edit in the JSON view: kept as typed; when it is valid, the form follows. */
export function editStructuredJson(draft: Pick<PromptDraft, 'structured'>, json: string): Pick<PromptDraft, 'structured' | 'structuredJson'> {
  const parsed = parseStructuredPrompt(json);
  return { structuredJson: json, structured: parsed.ok ? structuredToForm(parsed.value, draft.structured) : draft.structured };
}

/**
 * Switching between Text and Structured keeps both: each mode's content stays in the draft. The one
 * switched to is filled from the other only when it is empty (text becomes the scene; the structured
 * fields become prose), so a switch never throws work away.
 */
export function switchPromptMode(draft: PromptDraft & { prompt: string }, mode: PromptMode): Partial<PromptDraft & { prompt: string }> {
  if (mode === draft.promptMode) return {};
  if (mode === 'structured') {
    const text = draft.prompt.trim();
    if (!text || draft.structuredJson !== null || !isFormEmpty(draft.structured)) return { promptMode: mode };
    const asJson = text.startsWith('{') ? parseStructuredPrompt(text) : null;
    const structured = asJson?.ok ? structuredToForm(asJson.value, draft.structured) : { ...draft.structured, scene: text };
    return { promptMode: mode, structured };
  }
  if (draft.prompt.trim()) return { promptMode: mode };
  const current = currentStructured(draft);
  return { promptMode: mode, prompt: current.ok ? structuredToText(current.value) : '' };
}

function currentStructured(draft: Pick<PromptDraft, 'structured' | 'structuredJson'>): { ok: true; value: StructuredPrompt } | { ok: false; errors: PromptIssue[] } {
  if (draft.structuredJson !== null) {
    const parsed = parseStructuredPrompt(draft.structuredJson);
    return parsed.ok ? { ok: true, value: pruneStructuredPrompt(parsed.value) ?? {} } : parsed;
  }
  return checkStructuredPrompt(formToStructured(draft.structured));
}

// ---------------------------------------------------------------------------------------------------
// Compiling

type FieldErrors<K extends string> = Partial<Record<K, string>>;

export interface CompiledDraft {
  /** Exactly what will be sent as `prompt` (may be empty). */
  prompt: string;
  /** True when the prompt is built (typography, palette or structured) rather than the text as typed. */
  isBuilt: boolean;
  /** Why Generate is blocked by the prompt builder, as short sentences; empty when it is not. */
  problems: string[];
  typographyErrors: Record<string, FieldErrors<'text' | 'font_style' | 'placement' | 'color' | 'size'>>;
  paletteErrors: Record<string, FieldErrors<'hex' | 'name' | 'object'>>;
  structuredErrors: PromptIssue[];
}

export function compileDraft(draft: PromptDraft & { prompt: string }): CompiledDraft {
  const problems: string[] = [];
  const typographyErrors: CompiledDraft['typographyErrors'] = {};
  const typography: TextElement[] = [];
  draft.typography.forEach((item, i) => {
    const parsed = textElementSchema.safeParse({ text: item.text, font_style: item.font_style, size: item.size, placement: item.placement, color: item.color ?? undefined });
    if (parsed.success) {
      typography.push(parsed.data);
      return;
    }
    const errors: FieldErrors<'text' | 'font_style' | 'placement' | 'color' | 'size'> = {};
    for (const issue of parsed.error.issues) errors[String(issue.path[0]) as keyof typeof errors] ??= issue.message;
    typographyErrors[item.key] = errors;
    problems.push(`Text ${i + 1}: ${Object.values(errors)[0]}.`);
  });

  const paletteErrors: CompiledDraft['paletteErrors'] = {};
  const palette: PaletteEntry[] = [];
  draft.palette.forEach((item, i) => {
    const parsed = paletteEntrySchema.safeParse({ hex: item.hex.trim(), name: item.name.trim() || undefined, object: item.object.trim() || undefined });
    if (parsed.success) {
      palette.push(parsed.data);
      return;
    }
    const errors: FieldErrors<'hex' | 'name' | 'object'> = {};
    for (const issue of parsed.error.issues) errors[String(issue.path[0]) as keyof typeof errors] ??= issue.message;
    paletteErrors[item.key] = errors;
    problems.push(`Colour ${i + 1}: ${Object.values(errors)[0]}.`);
  });

  if (draft.promptMode === 'text') {
    const prompt = compilePrompt({ text: draft.prompt, typography, palette });
    return { prompt, isBuilt: typography.length + palette.length > 0, problems, typographyErrors, paletteErrors, structuredErrors: [] };
  }

  const structured = currentStructured(draft);
  if (!structured.ok) {
    const first = structured.errors[0]!;
    problems.push(`Structured prompt${first.path ? ` (${first.path})` : ''}: ${first.message}${structured.errors.length > 1 ? ` (and ${structured.errors.length - 1} more)` : ''}.`);
    return { prompt: '', isBuilt: true, problems, typographyErrors, paletteErrors, structuredErrors: structured.errors };
  }
  const isEmpty = Object.keys(structured.value).length === 0 && typography.length === 0;
  const prompt = isEmpty ? '' : compileStructuredPrompt(structured.value, { typography, palette });
  return { prompt, isBuilt: true, problems, typographyErrors, paletteErrors, structuredErrors: [] };
}
