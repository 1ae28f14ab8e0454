import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import type { OutputFormat } from '@atelier/contracts';
import { buildXmpPacket, DIGITAL_SOURCE_TYPE, parseXmpProvenance } from './xmp.ts';
import type { ProvenanceFields } from './xmp.ts';

export { DIGITAL_SOURCE_TYPE } from './xmp.ts';
export type { ProvenanceFields } from './xmp.ts';

/**
 * The media pipeline's only door to sharp: validate uploads and engine output, re-encode with provenance,
 * make thumbnails, convert downloads. Every output is stripped of incoming metadata (EXIF GPS, camera
 * serials, editing history); the only metadata we write is the provenance packet from `xmp.ts`.
 */

export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

export interface ImageInfo {
  format: OutputFormat;
  /** After EXIF orientation, i.e. as the image is displayed and as `encode` will write it. */
  width: number;
  height: number;
}

export interface ProvenanceMetadata {
  /** Human-readable engine name, e.g. "Black Forest Labs API" or "Offline preview engine". */
  engineLabel: string;
  modelId: string;
  /** True for the offline engine, which is an algorithm but not a trained model. */
  isPreviewEngine: boolean;
}

export type ImagingErrorCode = 'unsupported_format' | 'too_large' | 'corrupt';

export class ImagingError extends Error {
  readonly code: ImagingErrorCode;

  constructor(code: ImagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImagingError';
    this.code = code;
  }
}

export interface Imaging {
  inspect(bytes: Buffer): Promise<ImageInfo>;
  /**
   * Decodes fully (a truncated or corrupt image fails here), re-encodes in `format` with provenance XMP
   * and nothing else, and reports the result's size: validation and encoding in one decode.
   */
  encode(bytes: Buffer, format: OutputFormat, metadata: ProvenanceMetadata): Promise<Buffer>;
  encodeWithInfo(bytes: Buffer, format: OutputFormat, metadata: ProvenanceMetadata): Promise<{ bytes: Buffer; width: number; height: number }>;
  thumbnail(bytes: Buffer, maxSide: number): Promise<Buffer>;
  /** Several WebP thumbnails from one decode. */
  thumbnails(bytes: Buffer, maxSides: readonly number[]): Promise<Buffer[]>;
  /** An image no larger than maxSide on its long side, in its own format (unchanged when it already fits). */
  fitWithin(image: { bytes: Buffer; format: OutputFormat; width: number; height: number }, maxSide: number): Promise<{ bytes: Buffer; format: OutputFormat; width: number; height: number }>;
  /** Re-encodes in `format`, keeping only provenance; `width` downsizes (never enlarges) keeping the aspect ratio. */
  convert(bytes: Buffer, format: OutputFormat, opts?: { width?: number | undefined }): Promise<Buffer>;
  /** The provenance fields of an image Atelier wrote, or null when it carries none. */
  readProvenance(bytes: Buffer): Promise<ProvenanceFields | null>;
  /**
   * A user's upload made safe: size limits checked from the header before any pixel is decoded, then a
   * full decode (truncated or corrupt data fails) and a re-encode in the same format, upright, with no
   * metadata at all (EXIF, GPS, XMP, ICC, text chunks) and nothing of the original bytes carried over.
   */
  normalizeUpload(bytes: Buffer, limits: UploadSizeLimits): Promise<ImageInfo & { bytes: Buffer }>;
  /** A `side` px square WebP cut from the middle of the image (profile pictures). */
  square(bytes: Buffer, side: number): Promise<Buffer>;
}

export interface UploadSizeLimits {
  maxPixels: number;
  maxSide: number;
}

const ACCEPTED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp'] satisfies OutputFormat[];
const isAccepted = (format: string): format is OutputFormat => ACCEPTED_FORMATS.includes(format);

export function provenanceFields(metadata: ProvenanceMetadata): ProvenanceFields {
  return {
    digitalSourceType: metadata.isPreviewEngine ? DIGITAL_SOURCE_TYPE.algorithmicMedia : DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
    creatorTool: `Atelier — ${metadata.engineLabel}`,
    aiSystemUsed: metadata.modelId,
  };
}

export function createImaging(opts: { maxInputPixels?: number } = {}): Imaging {
  const maxInputPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;

  // failOn 'error' rejects truncated and broken data but tolerates the benign libjpeg warnings
  // ("extraneous bytes before marker") that many real cameras produce.
  const open = (bytes: Buffer): Sharp => sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'error' });

  /**
   * Header checks before any pixel work. Every operation runs them, not just inspect(): libvips would
   * happily rasterise an SVG (which can reference other files) or a TIFF if one reached encode().
   */
  async function readHeader(bytes: Buffer): Promise<Metadata & { format: OutputFormat }> {
    if (bytes.length === 0) throw new ImagingError('unsupported_format', 'The file is empty.');
    const meta = await open(bytes)
      .metadata()
      .catch((cause: unknown) => {
        throw classify(cause);
      });
    if (!isAccepted(meta.format)) {
      throw new ImagingError('unsupported_format', `Images must be PNG, JPEG or WebP (got ${meta.format}).`);
    }
    if (meta.width * meta.height > maxInputPixels) {
      throw new ImagingError('too_large', `The image is ${meta.width}×${meta.height}; at most ${maxInputPixels} pixels are accepted.`);
    }
    return { ...meta, format: meta.format };
  }

  async function inspect(bytes: Buffer): Promise<ImageInfo> {
    const meta = await readHeader(bytes);
    // The header can be fine while the pixel data is not: decode everything. stats() streams through the
    // image without materialising it, so a large upload costs CPU but not its full raw size in memory.
    await open(bytes)
      .stats()
      .catch((cause: unknown) => {
        throw classify(cause);
      });
    return { format: meta.format, width: meta.autoOrient.width, height: meta.autoOrient.height };
  }

  async function encodeWithInfo(bytes: Buffer, format: OutputFormat, metadata: ProvenanceMetadata): Promise<{ bytes: Buffer; width: number; height: number }> {
    await readHeader(bytes);
    try {
      const { data, info } = await withFormat(open(bytes).autoOrient(), format).withXmp(buildXmpPacket(provenanceFields(metadata))).toBuffer({ resolveWithObject: true });
      return { bytes: data, width: info.width, height: info.height };
    } catch (cause) {
      throw classify(cause);
    }
  }

  async function encode(bytes: Buffer, format: OutputFormat, metadata: ProvenanceMetadata): Promise<Buffer> {
    return (await encodeWithInfo(bytes, format, metadata)).bytes;
  }

  async function thumbnails(bytes: Buffer, maxSides: readonly number[]): Promise<Buffer[]> {
    for (const side of maxSides) if (!Number.isInteger(side) || side < 1) throw new RangeError(`maxSide must be a positive integer (got ${side})`);
    await readHeader(bytes);
    const base = open(bytes).autoOrient();
    return Promise.all(maxSides.map((side) => run(base.clone().resize(side, side, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }))));
  }

  async function square(bytes: Buffer, side: number): Promise<Buffer> {
    await readHeader(bytes);
    return run(open(bytes).autoOrient().resize(side, side, { fit: 'cover', position: 'attention' }).webp({ quality: 85 }));
  }

  async function thumbnail(bytes: Buffer, maxSide: number): Promise<Buffer> {
    if (!Number.isInteger(maxSide) || maxSide < 1) throw new RangeError(`maxSide must be a positive integer (got ${maxSide})`);
    await readHeader(bytes);
    return run(
      open(bytes)
        .autoOrient()
        .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 }),
    );
  }

  async function readProvenance(bytes: Buffer): Promise<ProvenanceFields | null> {
    const meta = await readHeader(bytes);
    return meta.xmp ? parseXmpProvenance(meta.xmp.toString('utf8')) : null;
  }

  async function convert(bytes: Buffer, format: OutputFormat, opts: { width?: number | undefined } = {}): Promise<Buffer> {
    // Rebuilt from the parsed fields rather than copied, so nothing but provenance survives the trip.
    const provenance = await readProvenance(bytes);
    const oriented = open(bytes).autoOrient();
    const pipeline = withFormat(opts.width ? oriented.resize({ width: opts.width, withoutEnlargement: true, kernel: 'lanczos3' }) : oriented, format);
    return run(provenance ? pipeline.withXmp(buildXmpPacket(provenance)) : pipeline);
  }

  async function normalizeUpload(bytes: Buffer, limits: UploadSizeLimits): Promise<ImageInfo & { bytes: Buffer }> {
    if (bytes.length === 0) throw new ImagingError('unsupported_format', 'The file is empty.');
    const maxPixels = Math.min(limits.maxPixels, maxInputPixels);
    // Header only, so sharp's own pixel limit is lifted here: nothing is decoded yet, and this way the
    // refusal can say how large the image claims to be. The decode below runs under the limit again.
    const meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error' })
      .metadata()
      .catch((cause: unknown) => {
        throw classify(cause);
      });
    if (!isAccepted(meta.format)) throw new ImagingError('unsupported_format', `Images must be PNG, JPEG or WebP (got ${meta.format}).`);
    const { width, height } = meta;
    if (width > limits.maxSide || height > limits.maxSide || width * height > maxPixels) {
      throw new ImagingError(
        'too_large',
        `The image is ${width}×${height} pixels (${megapixels(width * height)} MP); at most ${limits.maxSide} pixels per side and ${megapixels(maxPixels)} MP are accepted.`,
      );
    }
    try {
      // sharp writes no metadata unless asked to, and converts to sRGB when it drops an ICC profile.
      const { data, info } = await withFormat(sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).autoOrient(), meta.format).toBuffer({ resolveWithObject: true });
      return { bytes: data, format: meta.format, width: info.width, height: info.height };
    } catch (cause) {
      throw classify(cause);
    }
  }

  async function fitWithin(image: { bytes: Buffer; format: OutputFormat; width: number; height: number }, maxSide: number) {
    if (Math.max(image.width, image.height) <= maxSide) return image;
    await readHeader(image.bytes);
    try {
      const { data, info } = await withFormat(open(image.bytes).autoOrient().resize(maxSide, maxSide, { fit: 'inside' }), image.format).toBuffer({ resolveWithObject: true });
      return { bytes: data, format: image.format, width: info.width, height: info.height };
    } catch (cause) {
      throw classify(cause);
    }
  }

  return { inspect, encode, encodeWithInfo, thumbnail, thumbnails, fitWithin, convert, readProvenance, normalizeUpload, square };
}

const megapixels = (pixels: number) => String(Math.round(pixels / 100_000) / 10);

function withFormat(image: Sharp, format: OutputFormat): Sharp {
  switch (format) {
    case 'jpeg':
      // JPEG has no alpha: composite onto white rather than letting transparent pixels turn black.
      // libjpeg-turbo with optimised Huffman tables: mozjpeg's trellis search cost 3–7× the time for ~10 % fewer bytes.
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: 92, optimiseCoding: true });
    case 'webp':
      return image.webp({ quality: 90 });
    case 'png':
      return image.png({ compressionLevel: 6 });
  }
}

async function run(image: Sharp): Promise<Buffer> {
  try {
    return await image.toBuffer();
  } catch (cause) {
    throw classify(cause);
  }
}

/** sharp reports everything as a plain Error; its messages are the only way to tell the cases apart. */
function classify(cause: unknown): ImagingError {
  if (cause instanceof ImagingError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/unsupported image format/i.test(message)) {
    return new ImagingError('unsupported_format', 'Images must be PNG, JPEG or WebP.', { cause });
  }
  if (/pixel limit/i.test(message)) {
    return new ImagingError('too_large', 'The image has too many pixels.', { cause });
  }
  return new ImagingError('corrupt', 'The image data is damaged or incomplete.', { cause });
}
