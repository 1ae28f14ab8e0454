import { useSyncExternalStore } from 'react';
import { ASPECT_RATIOS, MAX_VARIATIONS, parseStructuredPrompt, type AspectRatio, type Generation, type Image, type Model, type OutputFormat } from '@atelier/contracts';
import { INITIAL_PROMPT_DRAFT, restorePromptDraft, structuredToForm, type PromptDraft } from '#/features/prompting/prompt-draft';
import { setReferences } from '#/features/references/reference-store';

/**
 * What is in the generate panel. It lives outside React so "Reuse prompt" in the detail view can fill it,
 * and in sessionStorage so a half-written prompt survives a reload or a trip to Settings.
 */
export interface Draft extends PromptDraft {
  /** The plain-text prompt (Text mode); typography and palette are added to it when sent. */
  prompt: string;
  modelId: string | null;
  sizeMode: 'ratio' | 'custom';
  aspectRatio: AspectRatio;
  /** Kept as typed text so "10" on the way to "1024" is not rejected mid-typing. */
  width: string;
  height: string;
  seed: string;
  /** null: the model's default format. */
  outputFormat: OutputFormat | null;
  /** How many variations one Generate makes (1 … MAX_VARIATIONS). */
  count: number;
}

const KEY = 'atelier.draft';
const initial: Draft = {
  prompt: '',
  modelId: null,
  sizeMode: 'ratio',
  aspectRatio: '1:1',
  width: '1024',
  height: '1024',
  seed: '',
  outputFormat: null,
  count: 1,
  ...INITIAL_PROMPT_DRAFT,
};

function load(): Draft {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return initial;
    const stored = JSON.parse(raw) as Partial<Draft>;
    const draft = { ...initial, ...stored, ...restorePromptDraft(stored) };
    if (!ASPECT_RATIOS.includes(draft.aspectRatio)) draft.aspectRatio = initial.aspectRatio;
    if (!Number.isInteger(draft.count) || draft.count < 1 || draft.count > MAX_VARIATIONS) draft.count = 1;
    return draft;
  } catch {
    return initial;
  }
}

let draft = load();
const listeners = new Set<() => void>();
const focusListeners = new Set<() => void>();

export function updateDraft(patch: Partial<Draft>): void {
  draft = { ...draft, ...patch };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(draft));
  } catch {
    /* storage full or disabled: the draft lives for this page only */
  }
  listeners.forEach((l) => l());
}

export function useDraft(): Draft {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => draft,
  );
}

/** The draft as it is now, for event handlers that must not re-render on every keystroke. */
export function getDraft(): Draft {
  return draft;
}

/** The model the panel uses: the one chosen, else the first the server offers. */
export function selectedModel(models: readonly Model[], modelId: string | null): Model | undefined {
  return models.find((m) => m.id === modelId) ?? models[0];
}

/**
 * The prompt as it was sent. Typography and palette were compiled into it, so the panels start empty
 * (they would otherwise be added twice); a structured prompt with only BFL's fields opens in the form.
 */
function promptOf(g: Generation): Partial<Draft> {
  const cleared = { typography: [], palette: [], structuredJson: null };
  const structured = g.prompt.trim().startsWith('{') ? parseStructuredPrompt(g.prompt) : null;
  if (structured?.ok) return { ...cleared, promptMode: 'structured', structured: structuredToForm(structured.value, draft.structured) };
  return { ...cleared, promptMode: 'text', prompt: g.prompt };
}

function settingsOf(g: Generation): Partial<Draft> {
  const ratio = ASPECT_RATIOS.find((r) => r === g.aspect_ratio);
  return {
    ...promptOf(g),
    modelId: g.model,
    sizeMode: ratio ? 'ratio' : 'custom',
    aspectRatio: ratio ?? draft.aspectRatio,
    width: String(g.width),
    height: String(g.height),
    outputFormat: g.output_format,
  };
}

/**
 * Fills the panel from an earlier generation (everything needed to reproduce it: settings, seed and its
 * reference images, in order) and focuses the prompt.
 */
export function reuseGeneration(g: Generation): void {
  updateDraft({ ...settingsOf(g), seed: g.seed === null ? '' : String(g.seed) });
  setReferences(
    g.references.map((r, i) => ({ kind: r.kind, id: r.id, thumbnailUrl: r.thumbnail_url, name: `Reference ${i + 1} of the reused image` })),
    null,
  );
  requestPromptFocus();
}

/**
 * Starts an edit of a finished image: its prompt and settings, the image itself as reference 1 and the
 * generation as the parent, so the result becomes its next version. A fresh seed: the point is a new take.
 */
export function refineGeneration(g: Generation, image: Image, modelId: string): void {
  updateDraft({ ...settingsOf(g), modelId, seed: '' });
  setReferences([{ kind: 'image', id: image.id, thumbnailUrl: image.thumbnail_url, name: 'The image being refined' }], {
    id: g.id,
    thumbnailUrl: image.thumbnail_url,
    prompt: g.prompt,
  });
  requestPromptFocus();
}

export function requestPromptFocus(): void {
  // After the detail dialog has closed and returned focus, otherwise it would steal focus back.
  setTimeout(() => focusListeners.forEach((l) => l()), 50);
}

export function onPromptFocusRequest(listener: () => void): () => void {
  focusListeners.add(listener);
  return () => focusListeners.delete(listener);
}

/** Forgets the draft (on sign-out: the next person on this tab must not see it). */
export function resetDraft(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* ignore */
  }
  draft = initial;
  listeners.forEach((l) => l());
}
