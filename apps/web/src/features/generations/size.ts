import { DEFAULT_TARGET_PIXELS, checkSize, sizeForAspectRatio, type AspectRatio, type Model } from '@atelier/contracts';

/** The size the server will render for a preset ratio on this model (the same rounding the server uses). */
export function presetSize(ratio: AspectRatio, model: Model | undefined): { width: number; height: number } {
  const target = Math.min(DEFAULT_TARGET_PIXELS, model?.max_pixels ?? DEFAULT_TARGET_PIXELS);
  return sizeForAspectRatio(ratio, target, model?.dimension_multiple ?? 16);
}

export type SizeProblems = Partial<Record<'width' | 'height' | 'size', string>>;

/** Parses typed width/height text and checks it against the model's limits with the shared `checkSize`. */
export function checkCustomSize(widthText: string, heightText: string, model: Model | undefined) {
  const width = widthText.trim() === '' ? NaN : Number(widthText);
  const height = heightText.trim() === '' ? NaN : Number(heightText);
  const problems: SizeProblems = {};
  if (Number.isNaN(width)) problems.width = 'enter a width';
  if (Number.isNaN(height)) problems.height = 'enter a height';
  if (model && !problems.width && !problems.height) {
    for (const p of checkSize(width, height, model)) problems[p.path] ??= p.message;
  }
  const multiple = model?.dimension_multiple ?? 16;
  const snap = (v: number) => {
    const lo = model?.min_dimension ?? multiple;
    const hi = model?.max_dimension ?? Infinity;
    return Math.min(Math.floor(hi / multiple) * multiple, Math.max(Math.ceil(lo / multiple) * multiple, Math.round(v / multiple) * multiple));
  };
  const snapped = Number.isFinite(width) && Number.isFinite(height) ? { width: snap(width), height: snap(height) } : null;
  return { width, height, problems, snapped, isValid: Object.keys(problems).length === 0 };
}
