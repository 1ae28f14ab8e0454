import { sql } from 'kysely';
import type { Db } from '#src/db/client.ts';

export type CatalogueRepository = ReturnType<typeof createCatalogueRepository>;

export function createCatalogueRepository(db: Db) {
  return {
    systemListOverrides(): Promise<{ model_id: string; definition: unknown }[]> {
      return db.selectFrom('catalogue_overrides').select(['model_id', 'definition']).orderBy('model_id').execute();
    },
    async upsert(modelId: string, definition: unknown, staffUserId: string): Promise<void> {
      await db
        .insertInto('catalogue_overrides')
        .values({ model_id: modelId, definition: JSON.stringify(definition), updated_by: staffUserId })
        .onConflict((oc) => oc.column('model_id').doUpdateSet({ definition: JSON.stringify(definition), updated_by: staffUserId, updated_at: sql`now()` }))
        .execute();
    },
    async remove(modelId: string): Promise<boolean> {
      const r = await db.deleteFrom('catalogue_overrides').where('model_id', '=', modelId).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
    async notifyChanged(): Promise<void> {
      await sql`select pg_notify('atelier_catalogue', '')`.execute(db);
    },
  };
}
