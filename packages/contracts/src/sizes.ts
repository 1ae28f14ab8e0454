/** Aspect-ratio presets and the size rules shared by the studio and the server. */
export const ASPECT_RATIOS = ['1:1', '4:3', '3:4', '16:9', '9:16', '3:2', '2:3', '21:9'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const MAX_PIXELS = 4 * 1024 * 1024;
export const DEFAULT_TARGET_PIXELS = 1024 * 1024;

export interface SizeLimits {
  min_dimension: number;
  max_dimension: number;
  max_pixels: number;
  dimension_multiple: number;
}

/**
 * Width and height for an aspect ratio at about `targetPixels`, each a multiple of `multiple`.
 * Rounding happens on each side independently, so the ratio is as close as the multiple allows.
 */
export function sizeForAspectRatio(ratio: AspectRatio, targetPixels = DEFAULT_TARGET_PIXELS, multiple = 16): { width: number; height: number } {
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  const height = Math.sqrt((targetPixels * h) / w);
  const width = (height * w) / h;
  const round = (v: number) => Math.max(multiple, Math.round(v / multiple) * multiple);
  return { width: round(width), height: round(height) };
}

/** Human-readable problems with a width × height under some limits; empty when the size is valid. */
export function checkSize(width: number, height: number, limits: SizeLimits): { path: 'width' | 'height' | 'size'; message: string }[] {
  const problems: { path: 'width' | 'height' | 'size'; message: string }[] = [];
  for (const [path, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value)) problems.push({ path, message: `${path} must be a whole number of pixels` });
    else if (value < limits.min_dimension || value > limits.max_dimension)
      problems.push({ path, message: `${path} must be between ${limits.min_dimension} and ${limits.max_dimension} pixels (got ${value})` });
    else if (value % limits.dimension_multiple !== 0)
      problems.push({ path, message: `${path} must be a multiple of ${limits.dimension_multiple} (got ${value}; nearest valid: ${Math.round(value / limits.dimension_multiple) * limits.dimension_multiple})` });
  }
  if (problems.length === 0 && width * height > limits.max_pixels) {
    const mp = (limits.max_pixels / 1_000_000).toFixed(1);
    problems.push({ path: 'size', message: `${width}×${height} is ${((width * height) / 1_000_000).toFixed(2)} MP; this model allows at most ${mp} MP` });
  }
  return problems;
}
