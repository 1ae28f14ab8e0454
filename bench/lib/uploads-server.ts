/**
 * What bench/uploads.ts runs inside the Atelier server process (lib/atelier-child.ts loads this module there),
 * next to the container:
 *
 *   'load'    { dir }                              reads the bench's JPEGs once
 *   'direct'  { userId, order, concurrency }       the real UploadService.create (validate, re-encode, thumbnail,
 *                                                  encrypt, store, insert), without HTTP
 *   'steps'   { userId, order }                    the same steps one at a time, timed each (sequential)
 *   'bare'    { order, concurrency, thumbnail }    sharp alone: decode + re-encode with the service's JPEG settings
 *                                                  (and, with `thumbnail`, the 256 px WebP from the same decode)
 *   'cleanup' { userId, ids }                      deletes uploads the bench made (rows and files), untimed
 *   'httpTime'                                     server-side time of POST /api/uploads so far, from the metrics histogram
 *
 * `order` lists file indexes; every answer carries one duration (ms) per entry, in that order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { UPLOAD_LIMITS } from '../../packages/contracts/src/uploads.ts';
import { createImaging } from '../../apps/server/src/adapters/imaging/imaging.ts';
import { createLocalKms, loadMasterKey } from '../../apps/server/src/adapters/kms/local-kms.ts';
import { createEncryptedStorage } from '../../apps/server/src/adapters/storage/encrypted-storage.ts';
import { createLocalStorage } from '../../apps/server/src/adapters/storage/local-storage.ts';
import { newId } from '../../apps/server/src/lib/ids.ts';
import { THUMBNAIL_SIDE } from '../../apps/server/src/modules/media/media.service.ts';
import { createUploadRepository } from '../../apps/server/src/modules/media/uploads.repository.ts';
import { sniffUpload } from '../../apps/server/src/modules/media/uploads.sniff.ts';
import type { Atelier } from './atelier.ts';
import type { ChildHandlers } from './atelier-child.ts';
import { runPool } from './latency.ts';

export const STEP_NAMES = ['sniff', 'normalize', 'thumbnail', 'encrypt', 'store', 'insert'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface TimedBatch {
  ms: number[];
  wallMs: number;
  ids: string[];
}

export type StepsBatch = { ms: number[]; steps: Record<StepName, number[]>; ids: string[] };

export function atelierChildHandlers(server: Atelier): ChildHandlers {
  const files: Buffer[] = [];
  const { container } = server;
  const config = container.config;
  // The same adapters the container builds (container.ts), on the same directories and master key.
  const imaging = createImaging();
  const kms = createLocalKms(loadMasterKey(config.masterKey, config.secretsDir));
  const storage = createEncryptedStorage(createLocalStorage(config.filesDir), kms);
  const discard = { put: async () => undefined, get: async () => undefined, delete: async () => undefined };
  const encryptOnly = createEncryptedStorage(discard, kms);
  const { db } = container.database;
  const repository = createUploadRepository(db);
  const quota = config.uploads.quota;
  const file = (i: number) => {
    const bytes = files[i];
    if (!bytes) throw new Error(`no file ${i} (load first)`);
    return bytes;
  };

  const timed = async (order: number[], concurrency: number, task: (bytes: Buffer) => Promise<string | null>): Promise<TimedBatch> => {
    const ids: string[] = [];
    const t0 = performance.now();
    const ms = await runPool(order.length, concurrency, async (k) => {
      const start = performance.now();
      const id = await task(file(order[k]!));
      const elapsed = performance.now() - start;
      if (id) ids.push(id);
      return elapsed;
    });
    return { ms, wallMs: performance.now() - t0, ids };
  };

  return {
    load: ({ dir }) => {
      const names = fs.readdirSync(String(dir)).filter((n) => n.endsWith('.jpg')).sort();
      files.length = 0;
      for (const name of names) files.push(fs.readFileSync(path.join(String(dir), name)));
      return files.length;
    },

    direct: ({ userId, order, concurrency }) => timed(order as number[], Number(concurrency), async (bytes) => (await container.uploads.create(String(userId), bytes)).id),

    bare: ({ order, concurrency, thumbnail }) =>
      timed(order as number[], Number(concurrency), async (bytes) => {
        // The service's upload settings (imaging.ts normalizeUpload → withFormat('jpeg')), with none of its checks.
        const decoded = sharp(bytes);
        const encode = decoded.clone().autoOrient().flatten({ background: '#ffffff' }).jpeg({ quality: 92, optimiseCoding: true }).toBuffer();
        if (!thumbnail) await encode;
        else {
          const thumb = decoded.clone().autoOrient().resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
          await Promise.all([encode, thumb]);
        }
        return null;
      }),

    steps: async ({ userId, order }): Promise<StepsBatch> => {
      const owner = String(userId);
      const steps = Object.fromEntries(STEP_NAMES.map((s) => [s, [] as number[]])) as Record<StepName, number[]>;
      const ms: number[] = [];
      const ids: string[] = [];
      for (const i of order as number[]) {
        const bytes = file(i);
        const t0 = performance.now();
        const sniffed = sniffUpload(bytes);
        if ('refused' in sniffed) throw new Error(sniffed.refused);
        const t1 = performance.now();
        const image = await imaging.normalizeUpload(bytes, UPLOAD_LIMITS);
        const t2 = performance.now();
        const [thumbnail] = (await imaging.thumbnails(image.bytes, [THUMBNAIL_SIDE])) as [Buffer];
        const t3 = performance.now();
        const id = newId();
        const keys = { original_key: `uploads/${id}/original`, thumbnail_key: `uploads/${id}/thumbnail` };
        const ctx = { ownerId: owner, purpose: 'upload' as const };
        // Encryption alone (into a store that drops the bytes), then the real encrypted write as the service does it.
        await Promise.all([encryptOnly.put(keys.original_key, image.bytes, ctx), encryptOnly.put(keys.thumbnail_key, thumbnail, ctx)]);
        const t4 = performance.now();
        await Promise.all([storage.put(keys.original_key, image.bytes, ctx), storage.put(keys.thumbnail_key, thumbnail, ctx)]);
        const t5 = performance.now();
        // As UploadService.create writes the row: under the user's upload lock, after the quota check, when a quota is set.
        const row = { id, user_id: owner, width: image.width, height: image.height, format: image.format, bytes: image.bytes.length, ...keys };
        if (quota.maxBytes === null && quota.maxCount === null) await repository.insert(db, row);
        else {
          await db.transaction().execute(async (trx) => {
            await repository.lockUser(trx, owner);
            await repository.usage(trx, owner);
            return repository.insert(trx, row);
          });
        }
        const t6 = performance.now();
        ids.push(id);
        steps.sniff.push(t1 - t0);
        steps.normalize.push(t2 - t1);
        steps.thumbnail.push(t3 - t2);
        steps.encrypt.push(t4 - t3);
        // The write includes a second encryption: what the service pays for encrypt + write together.
        steps.store.push(t5 - t4);
        steps.insert.push(t6 - t5);
        // The service's work, without the encrypt-only measurement.
        ms.push(t6 - t0 - (t4 - t3));
      }
      return { ms, steps, ids };
    },

    cleanup: async ({ userId, ids }) => {
      for (const id of ids as string[]) await container.uploads.delete(String(userId), id).catch(() => undefined);
      return (ids as string[]).length;
    },

    sizes: () => files.map((f) => f.length),

    /** Server-side time of POST /api/uploads so far (Fastify's reply.elapsedTime, from the metrics histogram), by status. */
    httpTime: async () => {
      const metric = await container.metrics.httpDuration.get();
      const out: Record<string, { sumS: number; count: number }> = {};
      for (const v of metric.values) {
        if (v.labels.method !== 'POST' || v.labels.route !== '/api/uploads') continue;
        const status = String(v.labels.status);
        const entry = (out[status] ??= { sumS: 0, count: 0 });
        if (v.metricName?.endsWith('_sum')) entry.sumS += v.value;
        else if (v.metricName?.endsWith('_count')) entry.count += v.value;
      }
      return out;
    },
  };
}
