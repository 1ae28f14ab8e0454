import { WORKFLOWS, type Generation } from '@atelier/contracts';

/**
 * The history's search and filters. They live in the URL (`/?q=fox&favorite=true`) so a search can be
 * linked, survives a reload and Back undoes it; this module is the one place that reads and writes them.
 */
export type Workflow = (typeof WORKFLOWS)[number];
export const DATE_PRESETS = ['today', '7d', '30d'] as const;
export type DatePreset = (typeof DATE_PRESETS)[number];

export interface HistoryFilters {
  /** Words from the prompt; '' for none. */
  q: string;
  model: string | null;
  workflow: Workflow | null;
  /** A range relative to today, kept relative in links ("the last 7 days" stays the last 7 days). */
  date: DatePreset | null;
  /** A custom range of local calendar days (YYYY-MM-DD), both ends included. */
  from: string | null;
  to: string | null;
  favorite: boolean;
  collection: string | null;
}

export const NO_FILTERS: HistoryFilters = { q: '', model: null, workflow: null, date: null, from: null, to: null, favorite: false, collection: null };

export const WORKFLOW_LABELS: Record<Workflow, string> = {
  'text-to-image': 'Text to image',
  'image-to-image': 'Image to image',
  'multi-reference': 'Multi-reference',
  upscale: 'Upscale',
};

export const DATE_PRESET_LABELS: Record<DatePreset, string> = { today: 'Today', '7d': 'Last 7 days', '30d': 'Last 30 days' };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_Q = 200;

function isDay(v: string | null): v is string {
  return v !== null && DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00`));
}

/** Reads filters from a URL; anything malformed is dropped rather than sent to the server to fail. */
export function parseFilters(params: URLSearchParams): HistoryFilters {
  const workflow = params.get('workflow');
  const date = params.get('date');
  const collection = params.get('collection');
  let from = params.get('from');
  let to = params.get('to');
  if (!isDay(from)) from = null;
  if (!isDay(to)) to = null;
  if (from && to && from > to) [from, to] = [to, from];
  const model = params.get('model')?.trim() ?? '';
  return {
    q: (params.get('q') ?? '').trim().slice(0, MAX_Q),
    model: model && model.length <= 100 ? model : null,
    workflow: WORKFLOWS.find((w) => w === workflow) ?? null,
    // A preset and a custom range are alternatives; the custom range wins when a URL has both.
    date: from || to ? null : (DATE_PRESETS.find((d) => d === date) ?? null),
    from,
    to,
    favorite: params.get('favorite') === 'true',
    collection: collection && UUID.test(collection) ? collection.toLowerCase() : null,
  };
}

/** The URL form, in a fixed order (so equal filters give equal strings: it doubles as the cache key). */
export function filtersToParams(f: HistoryFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (f.q) params.set('q', f.q);
  if (f.favorite) params.set('favorite', 'true');
  if (f.collection) params.set('collection', f.collection);
  if (f.model) params.set('model', f.model);
  if (f.workflow) params.set('workflow', f.workflow);
  if (f.date) params.set('date', f.date);
  if (f.from) params.set('from', f.from);
  if (f.to) params.set('to', f.to);
  return params;
}

export function filtersKey(f: HistoryFilters): string {
  return filtersToParams(f).toString();
}

export function isFiltered(f: HistoryFilters): boolean {
  return filtersKey(f) !== '';
}

export function countActive(f: HistoryFilters): number {
  return [f.q !== '', f.favorite, f.collection !== null, f.model !== null, f.workflow !== null, f.date !== null || f.from !== null || f.to !== null].filter(Boolean).length;
}

function startOfLocalDay(day: Date): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate());
}

function localDay(v: string): Date {
  const [y, m, d] = v.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d);
}

function addDays(day: Date, n: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + n);
}

/**
 * The instants a date filter covers, [start, end), in the user's own time zone: "today" is their today,
 * not UTC's (the server reads a bare date as a UTC day, so bounds are sent as instants).
 */
export function dateBounds(f: HistoryFilters, now: Date = new Date()): { start: Date | null; end: Date | null } {
  const today = startOfLocalDay(now);
  if (f.date === 'today') return { start: today, end: null };
  if (f.date === '7d') return { start: addDays(today, -6), end: null };
  if (f.date === '30d') return { start: addDays(today, -29), end: null };
  return { start: f.from ? localDay(f.from) : null, end: f.to ? addDays(localDay(f.to), 1) : null };
}

/** The query string of `GET /api/generations` for these filters (without cursor and limit). */
export function filtersToApiParams(f: HistoryFilters, now: Date = new Date()): URLSearchParams {
  const params = new URLSearchParams();
  if (f.q) params.set('q', f.q);
  if (f.model) params.set('model', f.model);
  if (f.workflow) params.set('workflow', f.workflow);
  if (f.favorite) params.set('favorite', 'true');
  if (f.collection) params.set('collection', f.collection);
  const { start, end } = dateBounds(f, now);
  if (start) params.set('from', start.toISOString());
  if (end) params.set('to', end.toISOString());
  return params;
}

/**
 * Whether a generation can belong in a list with these filters, judged only on what the client can check
 * exactly. The prompt search is the server's (word prefixes, its own tokenizer), so with `q` set a
 * generation that passes the rest is only "maybe": the list has to ask the server.
 */
export function couldMatch(f: HistoryFilters, g: Generation, now: Date = new Date()): boolean {
  if (f.favorite && !g.favorite) return false;
  if (f.collection && !g.collection_ids.includes(f.collection)) return false;
  if (f.model && g.model !== f.model) return false;
  if (f.workflow && g.workflow !== f.workflow) return false;
  const { start, end } = dateBounds(f, now);
  const created = new Date(g.created_at);
  if (start && created < start) return false;
  if (end && created >= end) return false;
  return true;
}

/** "today", "12 Mar – 20 Mar": the date filter as a chip says it. */
export function describeDate(f: HistoryFilters): string | null {
  if (f.date) return DATE_PRESET_LABELS[f.date];
  if (!f.from && !f.to) return null;
  const fmt = (v: string) => localDay(v).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  if (f.from && f.to) return f.from === f.to ? fmt(f.from) : `${fmt(f.from)} – ${fmt(f.to)}`;
  return f.from ? `Since ${fmt(f.from)}` : `Until ${fmt(f.to!)}`;
}

/** YYYY-MM-DD of a local day, for <input type="date">. */
export function toDayString(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
