import { sql, type Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB } from '#src/db/schema.ts';

/** A generation's inputs: its reference images (the user's uploads or earlier outputs) and its parent. */
export interface ReferenceRef {
  kind: 'upload' | 'image';
  id: string;
}

export type ReferencesRepository = ReturnType<typeof createReferencesRepository>;

export function createReferencesRepository(db: Db) {
  return {
    /** Which of these ids are the user's uploads or images; the rest are not theirs (or do not exist). */
    async resolveOwned(userId: string, ids: readonly string[]): Promise<Map<string, ReferenceRef['kind']>> {
      if (ids.length === 0) return new Map();
      const [uploads, images] = await Promise.all([
        db.selectFrom('uploads').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute(),
        db.selectFrom('images').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute(),
      ]);
      return new Map([...uploads.map((u) => [u.id, 'upload'] as const), ...images.map((i) => [i.id, 'image'] as const)]);
    },

    /** The stored size of one of the user's uploads or images (an upscale's source); undefined when it is neither. */
    async sizeOf(userId: string, id: string | undefined): Promise<{ width: number; height: number } | undefined> {
      if (id === undefined) return undefined;
      const [upload, image] = await Promise.all([
        db.selectFrom('uploads').select(['width', 'height']).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst(),
        db.selectFrom('images').select(['width', 'height']).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst(),
      ]);
      return upload ?? image;
    },

    async insert(trx: Transaction<DB>, generationId: string, refs: readonly ReferenceRef[]): Promise<void> {
      if (refs.length === 0) return;
      await trx
        .insertInto('generation_references')
        .values(refs.map((ref, position) => ({ generation_id: generationId, position, upload_id: ref.kind === 'upload' ? ref.id : null, image_id: ref.kind === 'image' ? ref.id : null })))
        .execute();
    },

    /** Each generation's references in order; null where the referenced upload or image has since been deleted. */
    async listFor(generationIds: readonly string[]): Promise<Map<string, (ReferenceRef | null)[]>> {
      const byGeneration = new Map<string, (ReferenceRef | null)[]>();
      if (generationIds.length === 0) return byGeneration;
      const rows = await db.selectFrom('generation_references').selectAll().where('generation_id', 'in', generationIds).orderBy('generation_id').orderBy('position').execute();
      for (const row of rows) {
        const list = byGeneration.get(row.generation_id) ?? [];
        list.push(row.upload_id ? { kind: 'upload', id: row.upload_id } : row.image_id ? { kind: 'image', id: row.image_id } : null);
        byGeneration.set(row.generation_id, list);
      }
      return byGeneration;
    },

    /**
     * The version graph a generation belongs to: up the parent links to the root, then every descendant
     * of that root — only the user's own generations.
     */
    async versionGraph(userId: string, generationId: string): Promise<{ id: string; parent_id: string | null }[]> {
      const result = await sql<{ id: string; parent_id: string | null }>`
        with recursive up(id, parent_id, depth) as (
          select id, parent_id, 0 from generations where id = ${generationId} and user_id = ${userId}
          union all
          select g.id, g.parent_id, up.depth + 1 from generations g join up on g.id = up.parent_id where g.user_id = ${userId} and up.depth < 1000
        ),
        root as (select id from up order by depth desc limit 1),
        down(id, parent_id, depth) as (
          select g.id, g.parent_id, 0 from generations g join root on g.id = root.id
          union all
          select g.id, g.parent_id, down.depth + 1 from generations g join down on g.parent_id = down.id where g.user_id = ${userId} and down.depth < 1000
        )
        select id, parent_id from down order by id`.execute(db);
      return result.rows;
    },
  };
}
