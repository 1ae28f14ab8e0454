/**
 * Photo-like JPEGs for upload benchmarks, made with sharp and a seeded generator (the same bytes every run):
 * smooth colour gradients (sky, light falloff), mid-frequency texture (foliage, fabric), hard-edged shapes
 * (buildings, objects) and per-pixel sensor noise, saved as a camera would: baseline JPEG at the given
 * quality with 4:2:0 chroma and an EXIF block (make, model, exposure, date, GPS). A flat or purely synthetic
 * image compresses far better and decodes faster than a photo, which would flatter the pipeline.
 */
import sharp from 'sharp';

/** mulberry32: small, fast, seedable. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random RGB pixels at a small size, upscaled smoothly to width×height: a field of that frequency. */
async function field(random: () => number, width: number, height: number, cellsX: number, blur: number): Promise<Buffer> {
  const cellsY = Math.max(2, Math.round((cellsX * height) / width));
  const small = Buffer.alloc(cellsX * cellsY * 3);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(random() * 256);
  let image = sharp(small, { raw: { width: cellsX, height: cellsY, channels: 3 } }).resize(width, height, { kernel: 'cubic', fit: 'fill' });
  if (blur > 0.3) image = sharp(await image.raw().toBuffer(), { raw: { width, height, channels: 3 } }).blur(blur);
  return image.raw().toBuffer();
}

function shapesSvg(random: () => number, width: number, height: number): Buffer {
  const parts: string[] = [];
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  for (let i = 0; i < 14; i++) {
    const x = random() * width;
    const y = random() * height;
    const w = 40 + random() * width * 0.3;
    const h = 40 + random() * height * 0.4;
    const opacity = (0.35 + random() * 0.5).toFixed(2);
    if (random() < 0.5) parts.push(`<rect x="${x.toFixed(0)}" y="${y.toFixed(0)}" width="${w.toFixed(0)}" height="${h.toFixed(0)}" fill="${colour()}" fill-opacity="${opacity}" transform="rotate(${(random() * 30 - 15).toFixed(1)} ${x.toFixed(0)} ${y.toFixed(0)})"/>`);
    else parts.push(`<ellipse cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" rx="${(w / 2).toFixed(0)}" ry="${(h / 2).toFixed(0)}" fill="${colour()}" fill-opacity="${opacity}"/>`);
  }
  for (let i = 0; i < 30; i++) {
    parts.push(`<line x1="${(random() * width).toFixed(0)}" y1="${(random() * height).toFixed(0)}" x2="${(random() * width).toFixed(0)}" y2="${(random() * height).toFixed(0)}" stroke="${colour()}" stroke-width="${(1 + random() * 4).toFixed(1)}" stroke-opacity="0.7"/>`);
  }
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`);
}

export interface PhotoJpegOptions {
  width: number;
  height: number;
  quality: number;
  seed: number;
}

export async function makePhotoJpeg({ width, height, quality, seed }: PhotoJpegOptions): Promise<Buffer> {
  const random = rng(seed);
  const [low, mid, fine] = await Promise.all([field(random, width, height, 6, 0), field(random, width, height, 90, 1.5), field(random, width, height, Math.round(width / 3), 0.6)]);
  // RGBA: the shapes' colours, and where they are (alpha).
  const shapes = await sharp(shapesSvg(random, width, height)).resize(width, height).ensureAlpha().raw().toBuffer();
  const pixels = Buffer.alloc(width * height * 3);
  // Sensor noise: roughly Gaussian (sum of three uniforms), σ ≈ 4 levels, stronger in the shadows as in a real sensor.
  for (let p = 0, i = 0; p < width * height; p++) {
    const a = shapes[p * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++, i++) {
      const base = 0.55 * low[i]! + 0.3 * mid[i]! + 0.15 * fine[i]!;
      const mixed = base * (1 - 0.6 * a) + 0.6 * a * shapes[p * 4 + c]!;
      const noise = (random() + random() + random() - 1.5) * (mixed < 80 ? 11 : 7);
      pixels[i] = Math.max(0, Math.min(255, Math.round(mixed + noise)));
    }
  }
  const when = new Date(Date.UTC(2026, 5, 1 + (seed % 28), 9 + (seed % 9), seed % 60, 0));
  const stamp = when.toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', ':');
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .withExif({
      IFD0: { Make: 'Atelier Bench', Model: 'Synthetic 2MP', Software: 'bench/lib/photo-jpegs.ts', DateTime: stamp, Artist: 'Bench User', Copyright: 'CC0' },
      IFD2: { ExposureTime: '1/125', FNumber: '28/10', ISOSpeedRatings: '200', DateTimeOriginal: stamp, FocalLength: '35/1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 700/100' },
    })
    .toBuffer();
}

/** `count` distinct photo-like JPEGs (seeds 1..count). */
export async function makePhotoJpegs(count: number, opts: Omit<PhotoJpegOptions, 'seed'>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let seed = 1; seed <= count; seed++) out.push(await makePhotoJpeg({ ...opts, seed }));
  return out;
}
