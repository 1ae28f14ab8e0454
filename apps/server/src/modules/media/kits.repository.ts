import { sql, type Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB, ReferenceKitRow } from '#src/db/schema.ts';

/** One reference in a kit, with what a picker needs to show it. */
export interface KitItem {
  kind: 'upload' | 'image';
  id: string;
  width: number;
  height: number;
}

export interface KitWithItems {
  row: ReferenceKitRow;
  items: KitItem[];
}

export type KitRepository = ReturnType<typeof createKitRepository>;

/** Advisory-lock namespace ("ATLK"): one user's kit writes take turns, so the per-user cap is exact. */
const KIT_LOCK_NAMESPACE = 0x41544c4b;

export function createKitRepository(db: Db) {
  return {
    /** Held until the transaction ends. Users whose ids hash alike only wait for each other, never see each other's data. */
    async lockUser(trx: Transaction<DB>, userId: string): Promise<void> {
      await sql`select pg_advisory_xact_lock(${KIT_LOCK_NAMESPACE}, hashtext(${userId}))`.execute(trx);
    },

    async countForUser(trx: Transaction<DB>, userId: string): Promise<number> {
      const { n } = await trx.selectFrom('reference_kits').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(n);
    },

    /** The user's kit called `name`, ignoring case (the unique index does the same), other than `exceptId`. */
    async getByName(trx: Transaction<DB>, userId: string, name: string, exceptId?: string): Promise<Pick<ReferenceKitRow, 'id' | 'name'> | undefined> {
      let q = trx.selectFrom('reference_kits').select(['id', 'name']).where('user_id', '=', userId).where(sql<boolean>`lower(name) = lower(${name})`);
      if (exceptId) q = q.where('id', '<>', exceptId);
      return q.executeTakeFirst();
    },

    /** Alphabetical (case-insensitive): a picker a person scans by name. Bounded by the per-user cap. */
    async listForUser(userId: string): Promise<KitWithItems[]> {
      const rows = await db.selectFrom('reference_kits').selectAll().where('user_id', '=', userId).orderBy(sql`lower(name)`).orderBy('id').execute();
      const items = await listItems(db, rows.map((r) => r.id));
      return rows.map((row) => ({ row, items: items.get(row.id) ?? [] }));
    },

    async getForUser(userId: string, kitId: string, trx?: Transaction<DB>): Promise<KitWithItems | undefined> {
      const executor = trx ?? db;
      const row = await executor.selectFrom('reference_kits').selectAll().where('id', '=', kitId).where('user_id', '=', userId).executeTakeFirst();
      if (!row) return undefined;
      return { row, items: (await listItems(executor, [row.id])).get(row.id) ?? [] };
    },

    /** Which of these ids are the user's uploads or images; the rest are someone else's, or do not exist. */
    async resolveOwned(trx: Transaction<DB>, userId: string, ids: readonly string[]): Promise<Map<string, KitItem['kind']>> {
      if (ids.length === 0) return new Map();
      const [uploads, images] = await Promise.all([
        trx.selectFrom('uploads').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute(),
        trx.selectFrom('images').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute(),
      ]);
      return new Map([...uploads.map((u) => [u.id, 'upload'] as const), ...images.map((i) => [i.id, 'image'] as const)]);
    },

    async insert(trx: Transaction<DB>, row: { id: string; user_id: string; name: string; created_at: Date; updated_at: Date }): Promise<void> {
      await trx.insertInto('reference_kits').values(row).execute();
    },

    /** Renames (when `name` is given) and bumps updated_at; false when the user has no such kit. */
    async update(trx: Transaction<DB>, userId: string, kitId: string, patch: { name?: string | undefined; updated_at: Date }): Promise<boolean> {
      const result = await trx
        .updateTable('reference_kits')
        .set({ updated_at: patch.updated_at, ...(patch.name !== undefined ? { name: patch.name } : {}) })
        .where('id', '=', kitId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** The kit's references become exactly these, in this order. */
    async replaceItems(trx: Transaction<DB>, kitId: string, refs: readonly Pick<KitItem, 'kind' | 'id'>[]): Promise<void> {
      await trx.deleteFrom('reference_kit_items').where('kit_id', '=', kitId).execute();
      if (refs.length === 0) return;
      await trx
        .insertInto('reference_kit_items')
        .values(refs.map((ref, position) => ({ kit_id: kitId, position, upload_id: ref.kind === 'upload' ? ref.id : null, image_id: ref.kind === 'image' ? ref.id : null })))
        .execute();
    },

    /** False when the user has no such kit. Its items go with it (on delete cascade). */
    async delete(userId: string, kitId: string): Promise<boolean> {
      const result = await db.deleteFrom('reference_kits').where('id', '=', kitId).where('user_id', '=', userId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

/** Each kit's references in order, with their sizes. Items whose upload or image was deleted are gone already (cascade). */
async function listItems(executor: Db | Transaction<DB>, kitIds: readonly string[]): Promise<Map<string, KitItem[]>> {
  const byKit = new Map<string, KitItem[]>();
  if (kitIds.length === 0) return byKit;
  const rows = await executor
    .selectFrom('reference_kit_items as k')
    .leftJoin('uploads as u', 'u.id', 'k.upload_id')
    .leftJoin('images as i', 'i.id', 'k.image_id')
    .select(['k.kit_id', 'k.upload_id', 'k.image_id', 'u.width as upload_width', 'u.height as upload_height', 'i.width as image_width', 'i.height as image_height'])
    .where('k.kit_id', 'in', kitIds)
    .orderBy('k.kit_id')
    .orderBy('k.position')
    .execute();
  for (const r of rows) {
    const item: KitItem | null = r.upload_id
      ? { kind: 'upload', id: r.upload_id, width: r.upload_width ?? 0, height: r.upload_height ?? 0 }
      : r.image_id
        ? { kind: 'image', id: r.image_id, width: r.image_width ?? 0, height: r.image_height ?? 0 }
        : null;
    if (!item) continue;
    const list = byKit.get(r.kit_id) ?? [];
    list.push(item);
    byKit.set(r.kit_id, list);
  }
  return byKit;
}
