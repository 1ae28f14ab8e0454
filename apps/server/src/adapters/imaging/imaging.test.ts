import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { createImaging, DIGITAL_SOURCE_TYPE, ImagingError } from './imaging.ts';
import type { ProvenanceMetadata } from './imaging.ts';

const imaging = createImaging();

const AI: ProvenanceMetadata = { engineLabel: 'Black Forest Labs API', modelId: 'flux-2-pro', isPreviewEngine: false };
const PREVIEW: ProvenanceMetadata = { engineLabel: 'Offline preview engine', modelId: 'offline', isPreviewEngine: true };

/** A small picture with some structure, so decoders and encoders have real work to do. */
function sample(width: number, height: number): Sharp {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="#10b981"/>
  </svg>`;
  return sharp(Buffer.from(svg));
}

const pngOf = (w: number, h: number) => sample(w, h).png().toBuffer();
const jpegOf = (w: number, h: number) => sample(w, h).jpeg().toBuffer();

async function expectImagingError(promise: Promise<unknown>, code: ImagingError['code']): Promise<void> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImagingError);
  expect((error as ImagingError).code).toBe(code);
}

describe('inspect', () => {
  it('reports format and size of PNG, JPEG and WebP', async () => {
    const png = await pngOf(320, 200);
    const jpeg = await jpegOf(64, 96);
    const webp = await sample(128, 80).webp().toBuffer();
    await expect(imaging.inspect(png)).resolves.toEqual({ format: 'png', width: 320, height: 200 });
    await expect(imaging.inspect(jpeg)).resolves.toEqual({ format: 'jpeg', width: 64, height: 96 });
    await expect(imaging.inspect(webp)).resolves.toEqual({ format: 'webp', width: 128, height: 80 });
  });

  it('reports the displayed size of a rotated JPEG', async () => {
    const rotated = await sample(300, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    await expect(imaging.inspect(rotated)).resolves.toEqual({ format: 'jpeg', width: 100, height: 300 });
  });

  it('rejects bytes that are not an image', async () => {
    await expectImagingError(imaging.inspect(Buffer.from('definitely not an image, just text')), 'unsupported_format');
    await expectImagingError(imaging.inspect(Buffer.alloc(0)), 'unsupported_format');
  });

  it('rejects an SVG, even though sharp could render it', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectImagingError(imaging.inspect(svg), 'unsupported_format');
    await expectImagingError(imaging.encode(svg, 'png', AI), 'unsupported_format');
  });

  it('rejects other formats sharp can read (GIF)', async () => {
    const gif = await sample(16, 16).gif().toBuffer();
    await expectImagingError(imaging.inspect(gif), 'unsupported_format');
  });

  it('rejects truncated images whose header is intact', async () => {
    const png = await pngOf(400, 400);
    const jpeg = await sample(400, 400).jpeg({ quality: 95 }).toBuffer();
    const webp = await sample(400, 400).webp({ quality: 95 }).toBuffer();
    await expectImagingError(imaging.inspect(png.subarray(0, Math.floor(png.length / 2))), 'corrupt');
    await expectImagingError(imaging.inspect(jpeg.subarray(0, Math.floor(jpeg.length / 2))), 'corrupt');
    await expectImagingError(imaging.inspect(webp.subarray(0, Math.floor(webp.length / 2))), 'corrupt');
  });

  it('rejects images over the pixel limit before decoding them', async () => {
    const small = createImaging({ maxInputPixels: 100 * 100 });
    await expect(small.inspect(await pngOf(100, 100))).resolves.toMatchObject({ width: 100 });
    await expectImagingError(small.inspect(await pngOf(101, 100)), 'too_large');
  });
});

describe('encode', () => {
  it.each(['jpeg', 'png', 'webp'] as const)('writes %s at the same size with trainedAlgorithmicMedia provenance', async (format) => {
    const out = await imaging.encode(await pngOf(240, 160), format, AI);
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([240, 160]);
    const xmp = meta.xmp?.toString('utf8') ?? '';
    expect(xmp).toContain(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(xmp).toContain('Atelier — Black Forest Labs API');
    expect(xmp).toContain('flux-2-pro');
  });

  it('labels the preview engine as algorithmic, not trained, media', async () => {
    const out = await imaging.encode(await pngOf(64, 64), 'png', PREVIEW);
    const xmp = (await sharp(out).metadata()).xmp?.toString('utf8') ?? '';
    expect(xmp).toContain(DIGITAL_SOURCE_TYPE.algorithmicMedia);
    expect(xmp).not.toContain('trainedAlgorithmicMedia');
    await expect(imaging.readProvenance(out)).resolves.toEqual({
      digitalSourceType: DIGITAL_SOURCE_TYPE.algorithmicMedia,
      creatorTool: 'Atelier — Offline preview engine',
      aiSystemUsed: 'offline',
    });
  });

  it('strips incoming EXIF and XMP (camera, author) from the output', async () => {
    const withExif = await sample(120, 80)
      .jpeg()
      .withExif({ IFD0: { Make: 'SecretCam', Artist: 'Jane Private', Copyright: 'jane@example.com' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:source="SecretCam"/></rdf:RDF></x:xmpmeta>')
      .toBuffer();
    const incoming = await sharp(withExif).metadata();
    expect(incoming.exif?.toString('latin1')).toContain('SecretCam');
    expect(incoming.xmp?.toString('utf8')).toContain('SecretCam');

    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const out = await imaging.encode(withExif, format, AI);
      const meta = await sharp(out).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.iptc).toBeUndefined();
      expect(out.toString('latin1')).not.toMatch(/SecretCam|Jane Private|jane@example\.com/);
    }
  });

  it('applies EXIF orientation before stripping it, so the picture stays upright', async () => {
    const rotated = await sample(300, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const meta = await sharp(await imaging.encode(rotated, 'png', AI)).metadata();
    expect([meta.width, meta.height]).toEqual([100, 300]);
    expect(meta.orientation).toBeUndefined();
  });

  it('escapes labels so they cannot break out of the XMP packet', async () => {
    const out = await imaging.encode(await pngOf(32, 32), 'png', { engineLabel: 'A "quoted" <b>&</b>', modelId: 'm', isPreviewEngine: false });
    await expect(imaging.readProvenance(out)).resolves.toMatchObject({ creatorTool: 'Atelier — A "quoted" <b>&</b>' });
  });
});

describe('thumbnail', () => {
  it('makes a WebP that fits inside maxSide, keeping the aspect ratio', async () => {
    const thumb = await imaging.thumbnail(await pngOf(1200, 600), 256);
    const meta = await sharp(thumb).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([256, 128]);
  });

  it('never enlarges a small image', async () => {
    const meta = await sharp(await imaging.thumbnail(await jpegOf(100, 50), 512)).metadata();
    expect([meta.width, meta.height]).toEqual([100, 50]);
  });
});

describe('convert', () => {
  it('keeps the provenance of the stored original in every format', async () => {
    const stored = await imaging.encode(await pngOf(200, 100), 'png', PREVIEW);
    for (const format of ['jpeg', 'webp', 'png'] as const) {
      const out = await imaging.convert(stored, format);
      const meta = await sharp(out).metadata();
      expect(meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([200, 100]);
      expect(meta.xmp?.toString('utf8')).toContain(DIGITAL_SOURCE_TYPE.algorithmicMedia);
      await expect(imaging.readProvenance(out)).resolves.toEqual(await imaging.readProvenance(stored));
    }
  });

  it('carries only the provenance fields, not other XMP the original had', async () => {
    const foreign = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <Iptc4xmpExt:DigitalSourceType>${DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia}</Iptc4xmpExt:DigitalSourceType>
      <dc:creator>user-1234 private@example.com</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const original = await sample(64, 64).png().withXmp(foreign).toBuffer();
    const out = await imaging.convert(original, 'webp');
    const xmp = (await sharp(out).metadata()).xmp?.toString('utf8') ?? '';
    expect(xmp).toContain(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(xmp).not.toContain('private@example.com');
  });

  it('writes no XMP for an original without provenance', async () => {
    const meta = await sharp(await imaging.convert(await pngOf(32, 32), 'jpeg')).metadata();
    expect(meta.xmp).toBeUndefined();
  });
});

describe('encodeWithInfo and thumbnails (the output pipeline)', () => {
  it('re-encodes with provenance and reports the size, then makes several thumbnails from one decode', async () => {
    const imaging = createImaging();
    const source = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#336699' } }).png().toBuffer();
    const encoded = await imaging.encodeWithInfo(source, 'jpeg', { engineLabel: 'Test engine', modelId: 'm', isPreviewEngine: false });
    expect([encoded.width, encoded.height]).toEqual([1200, 800]);
    expect((await sharp(encoded.bytes).metadata()).format).toBe('jpeg');
    const [small, large] = await imaging.thumbnails(encoded.bytes, [256, 768]);
    expect((await sharp(small!).metadata()).width).toBe(256);
    expect((await sharp(large!).metadata()).width).toBe(768);
    await expect(imaging.encodeWithInfo(source.subarray(0, source.length / 2), 'png', { engineLabel: 'x', modelId: 'm', isPreviewEngine: false })).rejects.toBeInstanceOf(ImagingError);
  });
});

describe('normalizeUpload', () => {
  const limits = { maxPixels: 40_000_000, maxSide: 8192 };

  it('re-encodes each format as itself, upright, with no metadata at all', async () => {
    const photo = await sample(300, 200)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withIccProfile('p3')
      .withExifMerge({ IFD0: { Make: 'Canon' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
      .toBuffer();
    const out = await imaging.normalizeUpload(photo, limits);
    expect(out).toMatchObject({ format: 'jpeg', width: 200, height: 300 });
    const meta = await sharp(out.bytes).metadata();
    expect([meta.width, meta.height, meta.exif, meta.icc, meta.xmp, meta.orientation]).toEqual([200, 300, undefined, undefined, undefined, undefined]);

    for (const format of ['png', 'webp'] as const) {
      const input = await sample(64, 48).toFormat(format).withExif({ IFD0: { Artist: 'someone' } }).toBuffer();
      const result = await imaging.normalizeUpload(input, limits);
      expect(result).toMatchObject({ format, width: 64, height: 48 });
      const m = await sharp(result.bytes).metadata();
      expect([m.format, m.exif]).toEqual([format, undefined]);
    }
  });

  it('refuses too many pixels or too long a side from the header, naming the size', async () => {
    const small = { maxPixels: 100 * 100, maxSide: 120 };
    await expect(imaging.normalizeUpload(await pngOf(100, 100), small)).resolves.toMatchObject({ width: 100 });
    const tooMany = await imaging.normalizeUpload(await pngOf(101, 100), small).catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ code: 'too_large', message: expect.stringContaining('101×100 pixels') });
    await expectImagingError(imaging.normalizeUpload(await pngOf(121, 10), small), 'too_large');
  });

  it('refuses what is not PNG, JPEG or WebP, and truncated data', async () => {
    await expectImagingError(imaging.normalizeUpload(Buffer.alloc(0), limits), 'unsupported_format');
    await expectImagingError(imaging.normalizeUpload(await sample(16, 16).gif().toBuffer(), limits), 'unsupported_format');
    const jpeg = await jpegOf(200, 200);
    await expectImagingError(imaging.normalizeUpload(jpeg.subarray(0, jpeg.length - 100), limits), 'corrupt');
  });
});

describe('fitWithin (references sized for engines)', () => {
  it('shrinks an image to the long-side limit in its own format, and leaves a small one untouched', async () => {
    const imaging = createImaging();
    const big = await sharp({ create: { width: 3000, height: 1500, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const fitted = await imaging.fitWithin({ bytes: big, format: 'jpeg', width: 3000, height: 1500 }, 2048);
    expect([fitted.width, fitted.height, fitted.format]).toEqual([2048, 1024, 'jpeg']);
    expect((await sharp(fitted.bytes).metadata()).width).toBe(2048);
    const small = { bytes: big, format: 'jpeg' as const, width: 1000, height: 500 };
    expect(await imaging.fitWithin(small, 2048)).toBe(small);
  });
});
