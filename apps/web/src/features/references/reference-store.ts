import { useSyncExternalStore } from 'react';
import { UPLOAD_LIMITS } from '@atelier/contracts';
import { describeError, isApiError } from '#/lib/api-client';
import { formatBytes } from '#/lib/format';
import { uploadReference } from './api';

/**
 * The reference tray of the generate panel: the images a generation is conditioned on, in order
 * ("image 1" … "image N"), plus the generation being refined. It lives outside React (like the draft) so
 * the history grid and the detail view can add to it, and ready references survive a reload in
 * sessionStorage. Files are uploaded the moment they are added; a tile tracks its upload.
 */
export interface ReferenceTile {
  /** Local and stable across reorders (React key); the server id arrives later for uploads. */
  key: string;
  kind: 'upload' | 'image';
  /** The upload or image id to send; null until the upload has finished. */
  id: string | null;
  /** Server thumbnail; empty while a file is still uploading. */
  thumbnailUrl: string;
  /** A blob: URL of the local file, shown at once instead of waiting for the server's thumbnail. */
  localUrl: string | null;
  name: string;
  status: 'uploading' | 'ready' | 'failed';
  progress: number;
  error: string | null;
  /** A network or server hiccup, worth another try; a refused file is not. */
  canRetry: boolean;
}

export interface RefineParent {
  id: string;
  thumbnailUrl: string;
  prompt: string;
}

export interface ReferenceTray {
  tiles: ReferenceTile[];
  parent: RefineParent | null;
}

const KEY = 'atelier.references';
const EMPTY: ReferenceTray = { tiles: [], parent: null };
const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

const files = new Map<string, File>();
const uploads = new Map<string, AbortController>();
let counter = 0;
const nextKey = () => `ref-${Date.now().toString(36)}-${++counter}`;

function load(): ReferenceTray {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return EMPTY;
    const stored = JSON.parse(raw) as { tiles?: Pick<ReferenceTile, 'kind' | 'id' | 'thumbnailUrl' | 'name'>[]; parent?: RefineParent | null };
    const tiles = (stored.tiles ?? [])
      .filter((t) => typeof t.id === 'string' && (t.kind === 'upload' || t.kind === 'image'))
      .map((t) => readyTile({ kind: t.kind, id: t.id!, thumbnailUrl: t.thumbnailUrl, name: t.name }));
    return { tiles, parent: stored.parent ?? null };
  } catch {
    return EMPTY;
  }
}

let tray = load();
const listeners = new Set<() => void>();

function commit(next: ReferenceTray): void {
  tray = next;
  try {
    // Only finished references can be sent after a reload; a half-uploaded file is gone with the page.
    const tiles = next.tiles.filter((t) => t.status === 'ready').map(({ kind, id, thumbnailUrl, name }) => ({ kind, id, thumbnailUrl, name }));
    sessionStorage.setItem(KEY, JSON.stringify({ tiles, parent: next.parent }));
  } catch {
    /* storage full or disabled: the tray lives for this page only */
  }
  listeners.forEach((l) => l());
}

function patchTile(key: string, patch: Partial<ReferenceTile>): void {
  if (!tray.tiles.some((t) => t.key === key)) return;
  commit({ ...tray, tiles: tray.tiles.map((t) => (t.key === key ? { ...t, ...patch } : t)) });
}

function readyTile(source: { kind: ReferenceTile['kind']; id: string; thumbnailUrl: string; name: string }): ReferenceTile {
  return { key: nextKey(), ...source, localUrl: null, status: 'ready', progress: 1, error: null, canRetry: false };
}

export function useReferenceTray(): ReferenceTray {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => tray,
  );
}

export function getReferenceTray(): ReferenceTray {
  return tray;
}

/** A reason to refuse a file before sending it, or null; the server has the final word (it checks content). */
function precheck(file: File): string | null {
  if (file.type && !file.type.startsWith('image/')) return 'Not an image. Use a PNG, JPEG or WebP file.';
  if (file.size > UPLOAD_LIMITS.maxBytes) return `${formatBytes(file.size)} is over the ${formatBytes(UPLOAD_LIMITS.maxBytes)} limit.`;
  if (file.size === 0) return 'The file is empty.';
  return null;
}

/** Adds files at the end of the tray (at most `limit` tiles in all) and starts uploading them at once. */
export function addReferenceFiles(list: readonly File[], limit: number): { added: number; refused: number } {
  const room = Math.max(0, limit - tray.tiles.length);
  const accepted = list.slice(0, room);
  const tiles = accepted.map((file): ReferenceTile => {
    const problem = precheck(file);
    const key = nextKey();
    if (!problem) files.set(key, file);
    return {
      key,
      kind: 'upload',
      id: null,
      thumbnailUrl: '',
      localUrl: problem || !ACCEPTED_TYPES.includes(file.type) ? null : URL.createObjectURL(file),
      name: file.name || 'Pasted image',
      status: problem ? 'failed' : 'uploading',
      progress: 0,
      error: problem,
      canRetry: false,
    };
  });
  commit({ ...tray, tiles: [...tray.tiles, ...tiles] });
  for (const tile of tiles) if (tile.status === 'uploading') void startUpload(tile.key);
  return { added: accepted.length, refused: list.length - accepted.length };
}

async function startUpload(key: string): Promise<void> {
  const file = files.get(key);
  if (!file) return;
  const controller = new AbortController();
  uploads.set(key, controller);
  try {
    const upload = await uploadReference(file, (progress) => patchTile(key, { progress }), controller.signal);
    files.delete(key);
    patchTile(key, { id: upload.id, thumbnailUrl: upload.thumbnail_url, status: 'ready', progress: 1, error: null, canRetry: false });
  } catch (error) {
    if (controller.signal.aborted) return;
    const retryable = isApiError(error) && (error.status === 0 || error.status >= 500 || error.status === 429);
    patchTile(key, { status: 'failed', error: describeError(error), canRetry: retryable });
  } finally {
    uploads.delete(key);
  }
}

export function retryReference(key: string): void {
  if (!files.has(key)) return;
  patchTile(key, { status: 'uploading', progress: 0, error: null, canRetry: false });
  void startUpload(key);
}

export type AddImageResult = { outcome: 'added' | 'duplicate'; position: number } | { outcome: 'full'; position: null };

/** Adds one of the user's generated images (no upload: the server already has it). */
export function addImageReference(image: { id: string; thumbnailUrl: string; name: string }, limit: number): AddImageResult {
  const existing = tray.tiles.findIndex((t) => t.id === image.id);
  if (existing !== -1) return { outcome: 'duplicate', position: existing + 1 };
  if (tray.tiles.length >= limit) return { outcome: 'full', position: null };
  commit({ ...tray, tiles: [...tray.tiles, readyTile({ kind: 'image', ...image })] });
  return { outcome: 'added', position: tray.tiles.length };
}

export interface ReadyReference {
  kind: ReferenceTile['kind'];
  id: string;
  thumbnailUrl: string;
  name: string;
}

/**
 * Adds references the server already has (from the library or a kit) at the end of the tray, in order:
 * ones already in the tray are skipped, and no more than `limit` tiles are kept in all.
 */
export function addReadyReferences(list: readonly ReadyReference[], limit: number): { added: number; duplicates: number; refused: number } {
  const present = new Set(tray.tiles.map((t) => t.id).filter(Boolean));
  const fresh = list.filter((ref, i) => !present.has(ref.id) && list.findIndex((r) => r.id === ref.id) === i);
  const room = Math.max(0, limit - tray.tiles.length);
  const accepted = fresh.slice(0, room);
  if (accepted.length > 0) commit({ ...tray, tiles: [...tray.tiles, ...accepted.map(readyTile)] });
  return { added: accepted.length, duplicates: list.length - fresh.length, refused: fresh.length - accepted.length };
}

/** Takes an upload out of the tray (it was deleted from the library). */
export function removeReferencesById(id: string): void {
  const gone = tray.tiles.filter((t) => t.id === id);
  if (gone.length === 0) return;
  gone.forEach(forget);
  commit({ ...tray, tiles: tray.tiles.filter((t) => t.id !== id) });
}

function forget(tile: ReferenceTile): void {
  uploads.get(tile.key)?.abort();
  uploads.delete(tile.key);
  files.delete(tile.key);
  if (tile.localUrl) URL.revokeObjectURL(tile.localUrl);
}

export function removeReference(key: string): void {
  const tile = tray.tiles.find((t) => t.key === key);
  if (!tile) return;
  forget(tile);
  commit({ ...tray, tiles: tray.tiles.filter((t) => t.key !== key) });
}

/** Moves a tile to `index` (clamped), shifting the others: the order is the "image N" numbering. */
export function moveReference(key: string, index: number): void {
  const from = tray.tiles.findIndex((t) => t.key === key);
  if (from === -1) return;
  const to = Math.max(0, Math.min(tray.tiles.length - 1, index));
  if (to === from) return;
  const tiles = tray.tiles.slice();
  const [tile] = tiles.splice(from, 1);
  tiles.splice(to, 0, tile!);
  commit({ ...tray, tiles });
}

/** Replaces the whole tray (reuse, refine) with references the server already has. */
export function setReferences(list: { kind: ReferenceTile['kind']; id: string; thumbnailUrl: string; name: string }[], parent: RefineParent | null): void {
  tray.tiles.forEach(forget);
  commit({ tiles: list.map(readyTile), parent });
}

export function clearRefineParent(): void {
  commit({ ...tray, parent: null });
}

export function clearReferences(): void {
  tray.tiles.forEach(forget);
  commit({ ...tray, tiles: [] });
}

/** Forgets everything (on sign-out: the next person on this tab must not see it). */
export function resetReferences(): void {
  tray.tiles.forEach(forget);
  tray = EMPTY;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* ignore */
  }
  listeners.forEach((l) => l());
}
