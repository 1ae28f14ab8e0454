import { once } from 'node:events';
import { ZipArchive } from 'archiver';
import type { OutputFormat, ZipManifest } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { Logger } from 'pino';
import type { MediaService } from '#src/modules/media/media.service.ts';

const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };
const PAGE = 100;

/** A file name that says what the image is, safe on every OS: "003-red-fox-in-snow-0193a1b2.png". */
export function zipEntryName(index: number, prompt: string, imageId: string, format: OutputFormat): string {
  const slug =
    prompt
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'image';
  return `${String(index + 1).padStart(3, '0')}-${slug}-${imageId.slice(-8)}.${EXTENSIONS[format]}`;
}

/**
 * Streams a ZIP of the user's images with manifest.json (prompt, model, seed, size, lineage per file).
 * Generations come in pages of ids (newest first); images are decrypted one at a time and each entry
 * is written before the next is read, so memory stays at about one image however large the download.
 */
export function createZipExport(deps: { db: Db; media: Pick<MediaService, 'read'>; logger: Logger }) {
  return {
    stream(opts: { userId: string; collection: { id: string; name: string } | null; pages: AsyncIterable<string[]>; format?: OutputFormat | undefined }): NodeJS.ReadableStream {
      const archive = new ZipArchive({ zlib: { level: 0 } }); // images are compressed already
      const manifest: ZipManifest = { created_at: new Date().toISOString(), collection: opts.collection, images: [] };
      const fill = async () => {
        let index = 0;
        for await (const ids of opts.pages) {
          if (ids.length === 0) continue;
          const rows = await deps.db
            .selectFrom('images as i')
            .innerJoin('generations as g', 'g.id', 'i.generation_id')
            .select(['i.id as image_id', 'i.width', 'i.height', 'i.format', 'g.id as generation_id', 'g.prompt', 'g.model_id', 'g.seed', 'g.parent_id', 'g.created_at'])
            .where('g.user_id', '=', opts.userId)
            .where('g.id', 'in', ids)
            .orderBy('g.id', 'desc')
            .orderBy('i.id')
            .execute();
          for (const row of rows) {
            const file = await deps.media.read(opts.userId, row.image_id, 'original', opts.format);
            const format = opts.format ?? row.format;
            const name = zipEntryName(index++, row.prompt, row.image_id, format);
            const written = once(archive, 'entry');
            archive.append(file.bytes, { name, date: row.created_at });
            await written; // backpressure: the entry is consumed before the next image is read
            manifest.images.push({
              file: name,
              image_id: row.image_id,
              generation_id: row.generation_id,
              prompt: row.prompt,
              model: row.model_id,
              seed: row.seed === null ? null : Number(row.seed),
              width: row.width,
              height: row.height,
              format,
              parent_id: row.parent_id,
              created_at: row.created_at.toISOString(),
            });
          }
        }
        archive.append(JSON.stringify(manifest, null, 2), { name: 'manifest.json' });
        await archive.finalize();
      };
      fill().catch((err: unknown) => {
        deps.logger.error({ err }, 'zip download failed part-way');
        archive.abort();
        archive.destroy(err instanceof Error ? err : new Error(String(err)));
      });
      return archive;
    },
  };
}

/** Pages of at most 100 ids from a fixed list, for `stream`. */
export async function* fixedPages(ids: readonly string[]): AsyncIterable<string[]> {
  for (let i = 0; i < ids.length; i += PAGE) yield ids.slice(i, i + PAGE);
}

/** Pages through a keyset-paged source of ids, newest first. */
export async function* keysetPages(next: (beforeId: string | null, limit: number) => Promise<string[]>): AsyncIterable<string[]> {
  let before: string | null = null;
  for (;;) {
    const ids = await next(before, PAGE);
    if (ids.length === 0) return;
    yield ids;
    if (ids.length < PAGE) return;
    before = ids.at(-1)!;
  }
}
