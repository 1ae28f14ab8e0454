import type { Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB, ImageRow, ImagesTable } from '#src/db/schema.ts';
import type { Insertable } from 'kysely';

export type MediaRepository = ReturnType<typeof createMediaRepository>;

export function createMediaRepository(db: Db) {
  return {
    insert(trx: Transaction<DB>, row: Insertable<ImagesTable>): Promise<void> {
      return trx.insertInto('images').values(row).execute().then(() => undefined);
    },
    listForGenerations(generationIds: readonly string[]): Promise<ImageRow[]> {
      if (generationIds.length === 0) return Promise.resolve([]);
      return db.selectFrom('images').selectAll().where('generation_id', 'in', generationIds).orderBy('id').execute();
    },
    /** Staff content access (audited by the caller): the image whoever owns it. */
    systemGet(imageId: string): Promise<ImageRow | undefined> {
      return db.selectFrom('images').selectAll().where('id', '=', imageId).executeTakeFirst();
    },
    getForUser(userId: string, imageId: string): Promise<ImageRow | undefined> {
      return db.selectFrom('images').selectAll().where('id', '=', imageId).where('user_id', '=', userId).executeTakeFirst();
    },
    listKeysForGeneration(trx: Transaction<DB>, userId: string, generationId: string): Promise<Pick<ImageRow, 'original_key' | 'thumbnail_key' | 'preview_key'>[]> {
      return trx.selectFrom('images').select(['original_key', 'thumbnail_key', 'preview_key']).where('generation_id', '=', generationId).where('user_id', '=', userId).execute();
    },
  };
}
