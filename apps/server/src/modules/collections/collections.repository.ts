import { sql, type Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { CollectionRow, DB } from '#src/db/schema.ts';

type Executor = Db | Transaction<DB>;

export interface CollectionSummary extends CollectionRow {
  count: number;
  cover_image_id: string | null;
}

/** SQL for collections (boards) and their items. Every read and write is scoped by user_id. */
export type CollectionsRepository = ReturnType<typeof createCollectionsRepository>;

export function createCollectionsRepository(db: Db) {
  const summaries = (ex: Executor, userId: string) =>
    ex
      .selectFrom('collections as c')
      .selectAll('c')
      .select((eb) => [
        eb.selectFrom('collection_items as ci').whereRef('ci.collection_id', '=', 'c.id').select(eb.fn.countAll<string>().as('n')).as('count'),
        // The newest image of the most recently added generation that has one: items newest first
        // (collection_items_added_idx), each probing its images by index, stopping at the first hit.
        sql<string | null>`(select i.id from collection_items ci
            cross join lateral (select id from images where generation_id = ci.generation_id order by id desc limit 1) i
            where ci.collection_id = c.id order by ci.added_at desc, ci.generation_id desc limit 1)`.as('cover_image_id'),
      ])
      .where('c.user_id', '=', userId);

  const toSummary = (r: CollectionRow & { count: string | number | bigint | null; cover_image_id: string | null }): CollectionSummary => ({ ...r, count: Number(r.count ?? 0) });

  return {
    async list(userId: string): Promise<CollectionSummary[]> {
      const rows = await summaries(db, userId).orderBy(sql`lower(c.name)`).orderBy('c.id').execute();
      return rows.map(toSummary);
    },

    async get(userId: string, id: string, ex: Executor = db): Promise<CollectionSummary | undefined> {
      const row = await summaries(ex, userId).where('c.id', '=', id).executeTakeFirst();
      return row && toSummary(row);
    },

    /** Whether the collection is the user's: the cheap check, for filters and bulk actions. */
    async owns(userId: string, id: string): Promise<boolean> {
      return (await db.selectFrom('collections').select('id').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()) !== undefined;
    },

    async countForUser(trx: Transaction<DB>, userId: string): Promise<number> {
      const row = await trx.selectFrom('collections').select((eb) => eb.fn.countAll<string>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Undefined when the user already has a collection of that name (case-insensitive). */
    insert(trx: Transaction<DB>, row: { id: string; user_id: string; name: string }): Promise<CollectionRow | undefined> {
      return trx
        .insertInto('collections')
        .values(row)
        .onConflict((oc) => oc.expression(sql`user_id, lower(name)`).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    /** 'conflict' when another of the user's collections has the name. */
    async rename(trx: Transaction<DB>, userId: string, id: string, name: string): Promise<'renamed' | 'missing' | 'conflict'> {
      const clash = await trx.selectFrom('collections').select('id').where('user_id', '=', userId).where(sql<string>`lower(name)`, '=', name.toLowerCase()).where('id', '!=', id).executeTakeFirst();
      if (clash) return 'conflict';
      const r = await trx.updateTable('collections').set({ name, updated_at: sql`now()` }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return r.numUpdatedRows > 0n ? 'renamed' : 'missing';
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('collections').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    /** Adds the user's own generations among `ids`; returns those newly added. */
    async addItems(trx: Transaction<DB>, userId: string, collectionId: string, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await trx
        .insertInto('collection_items')
        .columns(['collection_id', 'generation_id'])
        .expression((eb) => eb.selectFrom('generations').select([sql.lit(collectionId).as('collection_id'), 'id']).where('user_id', '=', userId).where('id', 'in', ids))
        .onConflict((oc) => oc.columns(['collection_id', 'generation_id']).doNothing())
        .returning('generation_id')
        .execute();
      if (rows.length) await trx.updateTable('collections').set({ updated_at: sql`now()` }).where('id', '=', collectionId).execute();
      return rows.map((r) => r.generation_id);
    },

    async removeItems(trx: Transaction<DB>, collectionId: string, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await trx.deleteFrom('collection_items').where('collection_id', '=', collectionId).where('generation_id', 'in', ids).returning('generation_id').execute();
      if (rows.length) await trx.updateTable('collections').set({ updated_at: sql`now()` }).where('id', '=', collectionId).execute();
      return rows.map((r) => r.generation_id);
    },

    /** Each generation's collections. */
    async collectionIdsFor(generationIds: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (generationIds.length === 0) return out;
      const rows = await db.selectFrom('collection_items').select(['generation_id', 'collection_id']).where('generation_id', 'in', generationIds).orderBy('collection_id').execute();
      for (const r of rows) out.set(r.generation_id, [...(out.get(r.generation_id) ?? []), r.collection_id]);
      return out;
    },

    /** A page of a collection's generation ids, newest first (for ZIP downloads). */
    async pageItems(collectionId: string, beforeId: string | null, limit: number): Promise<string[]> {
      let q = db.selectFrom('collection_items').select('generation_id').where('collection_id', '=', collectionId);
      if (beforeId) q = q.where('generation_id', '<', beforeId);
      return (await q.orderBy('generation_id', 'desc').limit(limit).execute()).map((r) => r.generation_id);
    },
  };
}
