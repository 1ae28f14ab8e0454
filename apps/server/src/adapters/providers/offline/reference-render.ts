import sharp from 'sharp';
import type { OverlayOptions, Sharp } from 'sharp';
import type { ReferenceImage } from '#src/adapters/providers/engine.ts';
import type { Canvas } from './compose.ts';
import type { PromptSpec } from './prompt.ts';
import { collageBackdropSvg, collageOverlaySvg, insetShadowsSvg, panelRadius, roundedMaskSvg, sceneFor, tintOverlaySvg } from './reference-compose.ts';
import { layoutReferences } from './reference-layout.ts';
import type { Panel, ReferenceLayout } from './reference-layout.ts';

/**
 * Composites reference images with sharp: each reference is decoded once, cover-fitted (centred) to its
 * own panel and only then kept, so memory grows with the canvas, not with the references. References
 * are processed one after another, so ten 4 MP references on a 2048 × 2048 canvas hold at most one
 * decoded reference (~16 MB) plus the finished panels (together at most the canvas, ~16 MB of RGBA).
 */

/** Defence in depth: the media pipeline already limits references far below this. */
export const MAX_REFERENCE_PIXELS = 16_777_216;

/** A reference that cannot be decoded: the request is at fault, so it is rejected for good. */
export class ReferenceDecodeError extends Error {
  override readonly name = 'ReferenceDecodeError';
  readonly index: number;

  constructor(index: number, cause: unknown) {
    super(`image ${index + 1} could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.index = index;
  }
}

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
  /** Mean relative luma, 0–1, from a sample of pixels. */
  luma: number;
}

function meanLuma(data: Buffer, channels: number): number {
  const pixels = data.length / channels;
  const step = Math.max(1, Math.floor(pixels / 4096));
  let sum = 0;
  let n = 0;
  for (let p = 0; p < pixels; p += step) {
    const i = p * channels;
    // Transparent corners of a rounded panel do not count.
    if (channels === 4 && (data[i + 3] ?? 0) < 128) continue;
    sum += 0.2126 * (data[i] ?? 0) + 0.7152 * (data[i + 1] ?? 0) + 0.0722 * (data[i + 2] ?? 0);
    n++;
  }
  return n === 0 ? 0.5 : sum / n / 255;
}

/**
 * One reference, decoded (EXIF orientation applied), cover-fitted to `width` × `height` around its
 * centre, flattened onto `matte` where it is transparent, in 8-bit sRGB; with `radius`, its corners are
 * rounded (RGBA), else RGB.
 */
async function fitReference(ref: ReferenceImage, index: number, width: number, height: number, matte: string, radius: number): Promise<Pixels> {
  try {
    let image = sharp(ref.bytes, { autoOrient: true, limitInputPixels: MAX_REFERENCE_PIXELS })
      .resize(width, height, { fit: 'cover', position: 'centre' })
      .flatten({ background: matte })
      .toColourspace('srgb');
    if (radius > 0) image = image.ensureAlpha().composite([{ input: Buffer.from(roundedMaskSvg(width, height, radius)), blend: 'dest-in' }]);
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    if ((info.channels !== 3 && info.channels !== 4) || info.width !== width || info.height !== height) {
      throw new Error(`unexpected ${info.width}×${info.height}×${info.channels} pixels`);
    }
    return { data, width, height, channels: info.channels, luma: meanLuma(data, info.channels) };
  } catch (cause) {
    throw new ReferenceDecodeError(index, cause);
  }
}

/** One reference: image-to-image. It fills the canvas; the palette tints it; text and mark go on top. */
async function imageToImage(spec: PromptSpec, canvas: Canvas, ref: ReferenceImage): Promise<Sharp> {
  const scene = sceneFor(spec, canvas.seed);
  const base = await fitReference(ref, 0, canvas.width, canvas.height, scene.palette.background[0], 0);
  const overlay = tintOverlaySvg(spec, canvas, scene, base.luma < 0.5);
  return sharp(base.data, { raw: { width: base.width, height: base.height, channels: base.channels } }).composite([{ input: Buffer.from(overlay) }]);
}

function placed(pixels: Pixels, panel: Panel): OverlayOptions {
  return { input: pixels.data, raw: { width: pixels.width, height: pixels.height, channels: pixels.channels }, left: panel.x, top: panel.y };
}

/** Two or more references: a seeded collage of panels in the user's order over the seeded backdrop. */
async function collage(spec: PromptSpec, canvas: Canvas, refs: readonly ReferenceImage[], layout: ReferenceLayout): Promise<Sharp> {
  const scene = sceneFor(spec, canvas.seed);
  const backdrop = collageBackdropSvg(canvas, scene, layout);
  const panels: Pixels[] = [];
  for (const [i, ref] of refs.entries()) {
    const panel = layout.panels[i]!;
    panels.push(await fitReference(ref, i, panel.width, panel.height, scene.palette.background[0], panelRadius(panel, layout)));
  }
  // The card's style follows what lies under it: mostly the panels, weighted by their area.
  const area = panels.reduce((sum, p) => sum + p.width * p.height, 0);
  const luma = panels.reduce((sum, p) => sum + p.luma * p.width * p.height, 0) / Math.max(1, area);

  const layers: OverlayOptions[] = [];
  layout.panels.forEach((panel, i) => {
    if (panel.layer === 0) layers.push(placed(panels[i]!, panel));
  });
  const insetShadows = insetShadowsSvg(canvas, layout);
  if (insetShadows !== null) layers.push({ input: Buffer.from(insetShadows) });
  layout.panels.forEach((panel, i) => {
    if (panel.layer === 1) layers.push(placed(panels[i]!, panel));
  });
  layers.push({ input: Buffer.from(collageOverlaySvg(spec, canvas, layout, luma < 0.5)) });
  return sharp(Buffer.from(backdrop), { density: 72 }).composite(layers);
}

/** The layout a request's references get (exported for tests and for anyone explaining the picture). */
export function referenceLayout(refs: readonly Pick<ReferenceImage, 'width' | 'height'>[], canvas: Canvas): ReferenceLayout {
  return layoutReferences(
    refs.map((r) => r.width / r.height),
    canvas.width,
    canvas.height,
    canvas.seed,
  );
}

/** The picture for a request with references, before encoding (it may carry an alpha channel). */
export async function composeWithReferences(spec: PromptSpec, canvas: Canvas, refs: readonly ReferenceImage[]): Promise<Sharp> {
  if (refs.length === 1) return imageToImage(spec, canvas, refs[0]!);
  return collage(spec, canvas, refs, referenceLayout(refs, canvas));
}
