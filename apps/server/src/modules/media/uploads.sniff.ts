import type { OutputFormat } from '@atelier/contracts';

/**
 * What an uploaded file is, from its bytes alone: never its name or declared Content-Type. Only PNG,
 * JPEG and WebP go on to the decoder; everything else is refused here, named when we recognise it, so
 * libvips never parses an SVG (which can reference other files), a PDF or a TIFF on a user's behalf.
 */
export type SniffResult = { format: OutputFormat } | { refused: string };

const ACCEPTED = 'upload a PNG, JPEG or WebP image';

const startsWith = (bytes: Buffer, signature: readonly number[], at = 0) => signature.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Buffer, text: string, at = 0) => bytes.length >= at + text.length && bytes.toString('latin1', at, at + text.length) === text;

/** Binary signatures of formats people (or attackers) send instead of an image. */
const KNOWN_BINARY: { name: string; test: (b: Buffer) => boolean }[] = [
  { name: 'GIF images', test: (b) => ascii(b, 'GIF87a') || ascii(b, 'GIF89a') },
  { name: 'TIFF images', test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { name: 'BMP images', test: (b) => ascii(b, 'BM') && b.length >= 14 && b.readUInt32LE(2) > 0 && b.readUInt16LE(6) === 0 },
  { name: 'ICO icons', test: (b) => startsWith(b, [0x00, 0x00, 0x01, 0x00]) },
  { name: 'HEIC/AVIF images', test: (b) => ascii(b, 'ftyp', 4) && /^(heic|heix|hevc|mif1|msf1|avif|avis)$/.test(b.toString('latin1', 8, 12)) },
  { name: 'JPEG 2000 images', test: (b) => startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) },
  { name: 'JPEG XL images', test: (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) },
  { name: 'Photoshop documents', test: (b) => ascii(b, '8BPS') },
  { name: 'PDF documents', test: (b) => ascii(b, '%PDF-') },
  { name: 'PostScript documents', test: (b) => ascii(b, '%!PS') },
  { name: 'ZIP archives', test: (b) => ascii(b, 'PK\x03\x04') || ascii(b, 'PK\x05\x06') },
  { name: 'gzip archives', test: (b) => startsWith(b, [0x1f, 0x8b]) },
  { name: 'RAR archives', test: (b) => ascii(b, 'Rar!\x1a\x07') },
  { name: '7-Zip archives', test: (b) => startsWith(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { name: 'Linux executables (ELF)', test: (b) => ascii(b, '\x7fELF') },
  { name: 'Windows executables (PE)', test: (b) => ascii(b, 'MZ') },
  { name: 'macOS executables (Mach-O)', test: (b) => [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe], [0xca, 0xfe, 0xba, 0xbe]].some((s) => startsWith(b, s)) },
  { name: 'Scripts', test: (b) => ascii(b, '#!') },
  { name: 'WebAssembly modules', test: (b) => ascii(b, '\0asm') },
  { name: 'RIFF files other than WebP (e.g. WAV, AVI)', test: (b) => ascii(b, 'RIFF') && !ascii(b, 'WEBP', 8) },
];

/** Markup, found after an optional byte-order mark, whitespace and comments. */
function sniffMarkup(bytes: Buffer): string | undefined {
  const head = bytes.toString('utf8', 0, Math.min(bytes.length, 4096)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (!head.startsWith('<')) return undefined;
  if (/<svg[\s>/]/.test(head) || head.startsWith('<!doctype svg')) return 'SVG images';
  if (/^<!doctype html|<(html|head|body|script|iframe|meta|div)[\s>/]/.test(head)) return 'HTML documents';
  if (head.startsWith('<?xml')) return 'XML documents';
  return undefined;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * libpng decodes a PNG whose last chunks are missing as long as the pixel data is complete; a file
 * cut short is still not the file the user meant to send. Walks the chunk lengths to IEND (bytes after
 * it, such as an appended ZIP, are dropped by the re-encode, not refused).
 */
function isPngComplete(bytes: Buffer): boolean {
  let at = PNG_SIGNATURE.length;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    if (length > 0x7fffffff) return false;
    if (ascii(bytes, 'IEND', at + 4)) return at + 12 + length <= bytes.length;
    at += 12 + length;
  }
  return false;
}

export function sniffUpload(bytes: Buffer): SniffResult {
  if (bytes.length === 0) return { refused: `The file is empty: ${ACCEPTED}.` };
  if (startsWith(bytes, PNG_SIGNATURE)) {
    return isPngComplete(bytes) ? { format: 'png' } : { refused: 'The PNG file is truncated: it ends before its last chunk (IEND).' };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpeg' };
  if (ascii(bytes, 'RIFF') && ascii(bytes, 'WEBP', 8)) return { format: 'webp' };
  const known = KNOWN_BINARY.find((k) => k.test(bytes))?.name ?? sniffMarkup(bytes);
  if (known) return { refused: `${known} are not accepted: ${ACCEPTED}.` };
  return { refused: `The file is not a PNG, JPEG or WebP image (its content matches none of them): ${ACCEPTED}.` };
}
