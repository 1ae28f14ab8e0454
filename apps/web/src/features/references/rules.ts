import type { Model } from '@atelier/contracts';
import type { ReferenceTray } from './reference-store';

/** What the tray holds against what the model takes: the reason Generate must wait, or null. */
export function referenceProblem(tray: ReferenceTray, model: Model | undefined): string | null {
  const count = tray.tiles.length;
  if (!model || count === 0) return null;
  const max = model.max_reference_images;
  if (max === 0) return `${model.label} takes no reference images. Remove them, or choose a model that edits images.`;
  if (count > max) {
    const extra = count - max;
    return `${model.label} takes up to ${max} reference ${max === 1 ? 'image' : 'images'}: remove ${extra} (marked “over limit”).`;
  }
  const failed = tray.tiles.filter((t) => t.status === 'failed').length;
  if (failed > 0) return failed === 1 ? 'One reference could not be uploaded: remove it or try again.' : `${failed} references could not be uploaded: remove them or try again.`;
  return null;
}

export function isUploading(tray: ReferenceTray): boolean {
  return tray.tiles.some((t) => t.status === 'uploading');
}

/** The highest "image N" the prompt mentions, to warn when it points past the last reference. */
export function highestMention(prompt: string): number {
  let max = 0;
  for (const match of prompt.matchAll(/\bimage\s*#?(\d{1,2})\b/gi)) max = Math.max(max, Number(match[1]));
  return max;
}

/** Drag payload of a history image dragged onto the panel. */
export const IMAGE_DRAG_TYPE = 'application/x-atelier-image';
/** Drag payload of a tile being reordered inside the tray. */
export const TILE_DRAG_TYPE = 'application/x-atelier-reference';
