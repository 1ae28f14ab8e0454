import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadUsageSchema, type Upload } from '@atelier/contracts';
import { createImaging } from '#src/adapters/imaging/imaging.ts';
import { createLocalKms } from '#src/adapters/kms/local-kms.ts';
import { createEncryptedStorage } from '#src/adapters/storage/encrypted-storage.ts';
import { createLocalStorage } from '#src/adapters/storage/local-storage.ts';
import type { AppError } from '#src/lib/errors.ts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import type { UploadQuota } from './uploads.limits.ts';
import { createUploadRepository } from './uploads.repository.ts';
import { createUploadService } from './uploads.service.ts';

/**
 * Per-user upload quota (bytes and count) and per-minute upload limit: configured from the environment,
 * refused with what the limit is, what is used and what to do, before the body is read where possible,
 * exact when uploads race for the last of a quota, and leaving nothing behind when refused.
 */
const QUOTA_COUNT = 4;
const RATE = 8;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ work: false, env: { UPLOAD_QUOTA_COUNT: String(QUOTA_COUNT), UPLOAD_QUOTA_BYTES: String(50 * 1024 * 1024), UPLOAD_RATE_LIMIT: String(RATE) } });
});
afterAll(() => server?.close());

/** A PNG of random pixels: its re-encoded size is stable for a given seed and large enough to measure. */
function noisePng(seed: number, side = 96): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

function form(data: Buffer): { payload: Buffer; boundary: string } {
  const boundary = `----quota${crypto.randomBytes(6).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="ref.png"\r\ncontent-type: image/png\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, boundary };
}

const post = (headers: Record<string, string>, data: Buffer, prefix = '/api') => {
  const { payload, boundary } = form(data);
  return server.app.inject({ method: 'POST', url: `${prefix}/uploads`, headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
};
const countUploads = async (userId: string) =>
  Number((await server.container.database.db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
const filesUnder = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length : 0);

describe('the upload quota and rate limit, as configured', () => {
  it('refuses the upload past UPLOAD_QUOTA_COUNT with 413, saying how to free space, before reading the body', async () => {
    const user = await signUp(server.app);
    const headers = studio(user.cookie);
    for (let i = 0; i < QUOTA_COUNT; i++) expect((await post(headers, await noisePng(i, 32))).statusCode).toBe(201);
    const filesBefore = filesUnder(path.join(server.dataDir, 'files'));

    // Not even an image: the quota answers first, so the server never read or decoded it.
    const res = await post(headers, Buffer.from('not an image at all'));
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    const { error } = res.json<{ error: { code: string; message: string; details: Record<string, unknown> } }>();
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toMatch(new RegExp(`^Upload quota reached: you have ${QUOTA_COUNT} uploads, the most one account can keep \\(${QUOTA_COUNT}\\)\\. Delete uploads you no longer need to free space`));
    expect(error.details).toMatchObject({ quota_count: QUOTA_COUNT, used_count: QUOTA_COUNT, quota_bytes: 50 * 1024 * 1024 });
    expect(await countUploads(user.userId)).toBe(QUOTA_COUNT);
    expect(filesUnder(path.join(server.dataDir, 'files'))).toBe(filesBefore);

    // Deleting one frees a place.
    const [oldest] = (await server.app.inject({ method: 'GET', url: '/api/uploads', headers })).json<{ data: Upload[] }>().data.slice(-1);
    expect((await server.app.inject({ method: 'DELETE', url: oldest!.url, headers })).statusCode).toBe(204);
    expect((await post(headers, await noisePng(99, 32))).statusCode).toBe(201);
    expect(await countUploads(user.userId)).toBe(QUOTA_COUNT);
  });

  it('reports usage against the quota', async () => {
    const user = await signUp(server.app);
    const headers = studio(user.cookie);
    const first = (await post(headers, await noisePng(1, 40))).json<Upload>();
    const second = (await post(headers, await noisePng(2, 40))).json<Upload>();
    const usage = uploadUsageSchema.parse((await server.app.inject({ method: 'GET', url: '/api/uploads/usage', headers })).json());
    expect(usage).toEqual({ used_bytes: first.bytes + second.bytes, used_count: 2, quota_bytes: 50 * 1024 * 1024, quota_count: QUOTA_COUNT, rate_limit_per_minute: RATE });
  });

  it('allows UPLOAD_RATE_LIMIT attempts a minute per account, across the studio and the API, then answers 429 with Retry-After', async () => {
    const user = await signUp(server.app);
    const { key } = await server.container.apiKeys.create(user.userId, { name: 'rate test', scopes: ['read', 'generate'] });
    const junk = Buffer.from('still not an image'); // refused attempts count too: each one is work for the server
    for (let i = 0; i < RATE; i++) {
      const res = i % 2 ? await post(studio(user.cookie), junk) : await post({ authorization: `Bearer ${key}` }, junk, '/v1');
      expect(res.statusCode).toBe(415);
    }
    const res = await post(studio(user.cookie), await noisePng(7, 32));
    expect(res.statusCode).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const { error } = res.json<{ error: { code: string; message: string; details: Record<string, unknown> } }>();
    expect(error).toMatchObject({ code: 'rate_limited', details: { limit: RATE, window_seconds: 60, retry_after_seconds: retryAfter } });
    expect(error.message).toBe(`Too many uploads: at most ${RATE} a minute per account. Try again in ${retryAfter} ${retryAfter === 1 ? 'second' : 'seconds'}.`);
    expect((await post({ authorization: `Bearer ${key}` }, await noisePng(7, 32), '/v1')).statusCode).toBe(429);
    expect(await countUploads(user.userId)).toBe(0);

    // Someone else is not held back.
    const other = await signUp(server.app);
    expect((await post(studio(other.cookie), await noisePng(8, 32))).statusCode).toBe(201);
  });
});

describe('the quota is exact', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-quota-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The upload service on the test database with its own storage directory and this quota; decodes run side by side so uploads really race. */
  const serviceWith = (quota: UploadQuota) => {
    const storage = createEncryptedStorage(createLocalStorage(dir), createLocalKms(crypto.randomBytes(32)));
    const db = server.container.database.db;
    return createUploadService({ db, repository: createUploadRepository(db), storage, imaging: createImaging(), quota, concurrency: 8 });
  };
  const storedFor = async (userId: string) => {
    const rows = await server.container.database.db.selectFrom('uploads').select('id').where('user_id', '=', userId).execute();
    return rows.reduce((n, r) => n + filesUnder(path.join(dir, 'uploads', r.id)), 0);
  };

  it('refuses the image that would pass UPLOAD_QUOTA_BYTES, naming usage, limit and its size', async () => {
    const sizeOf = (await serviceWith({ maxBytes: null, maxCount: null }).create((await signUp(server.app)).userId, await noisePng(5))).bytes;
    const user = (await signUp(server.app)).userId;
    const uploads = serviceWith({ maxBytes: Math.floor(sizeOf * 2.5), maxCount: null });
    await uploads.create(user, await noisePng(5));
    await uploads.create(user, await noisePng(5));
    const refusal = await uploads.create(user, await noisePng(5)).then(
      () => null,
      (error: AppError) => error,
    );
    expect(refusal).toMatchObject({ code: 'payload_too_large', details: { used_bytes: sizeOf * 2, quota_bytes: Math.floor(sizeOf * 2.5), used_count: 2 } });
    expect(refusal!.message).toMatch(/^Upload quota reached: your uploads use [\d.]+ KB of your [\d.]+ KB and this image needs [\d.]+ KB\. Delete uploads/);
    expect(await countUploads(user)).toBe(2);
    expect(await storedFor(user)).toBe(4); // two uploads, original and thumbnail each; the refused one left no file
    // Already over: refused before the body is even read.
    await expect(serviceWith({ maxBytes: sizeOf * 2, maxCount: null }).admit(user)).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  it('lets exactly as many parallel uploads through as places are left (count)', async () => {
    const user = (await signUp(server.app)).userId;
    const uploads = serviceWith({ maxBytes: null, maxCount: 4 });
    await uploads.create(user, await noisePng(1));
    await uploads.create(user, await noisePng(2));
    const image = await noisePng(10); // the same bytes each time, so the six finish decoding together and race to the insert
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => uploads.create(user, image)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(4).fill('payload_too_large'));
    expect(await countUploads(user)).toBe(4);
    expect(await storedFor(user)).toBe(8);
  });

  it('lets exactly as many parallel uploads through as the bytes left allow', async () => {
    const sizeOf = (await serviceWith({ maxBytes: null, maxCount: null }).create((await signUp(server.app)).userId, await noisePng(5))).bytes;
    const user = (await signUp(server.app)).userId;
    const uploads = serviceWith({ maxBytes: sizeOf * 3 + 10, maxCount: null });
    await uploads.create(user, await noisePng(5));
    const image = await noisePng(5); // the same bytes each time: each needs exactly sizeOf
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => uploads.create(user, image)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(await countUploads(user)).toBe(3);
    expect(await storedFor(user)).toBe(6);
  });
});
