import sharp from 'sharp';
import type { FakeOutputFormat } from './fake-bfl-spec.ts';

export const CONTENT_TYPES: Readonly<Record<FakeOutputFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/**
 * A real, decodable image of exactly the requested size and format, so callers can run it through the
 * same pipeline as a real BFL sample. The colour is derived from the seed so different seeds differ.
 */
export async function renderSample(width: number, height: number, format: FakeOutputFormat, seed: number): Promise<Buffer> {
  const hue = Math.abs(seed) % 360;
  const [r, g, b] = hslToRgb(hue / 360, 0.55, 0.5);
  const stripe = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect x="0" y="${Math.floor(height / 3)}" width="${width}" height="${Math.max(1, Math.floor(height / 3))}" fill="white" fill-opacity="0.35"/></svg>`;
  const base = sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .composite([{ input: Buffer.from(stripe), top: 0, left: 0 }]);
  switch (format) {
    case 'jpeg': return base.jpeg({ quality: 80 }).toBuffer();
    case 'png': return base.png({ compressionLevel: 6 }).toBuffer();
    case 'webp': return base.webp({ quality: 80 }).toBuffer();
  }
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h * 12) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}
