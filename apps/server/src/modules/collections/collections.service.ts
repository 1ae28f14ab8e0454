import { MAX_COLLECTIONS } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { CollectionSummary, CollectionsRepository } from './collections.repository.ts';

export type CollectionsService = ReturnType<typeof createCollectionsService>;

const duplicate = (name: string) => new AppError('conflict', `You already have a collection named "${name}". Choose another name.`, { fields: [{ path: 'name', message: 'already used by another of your collections' }] });

export function createCollectionsService(deps: { db: Db; repository: CollectionsRepository }) {
  const { db, repository } = deps;
  return {
    list: (userId: string) => repository.list(userId),

    async get(userId: string, id: string): Promise<CollectionSummary> {
      const c = await repository.get(userId, id);
      if (!c) throw notFound('Collection');
      return c;
    },

    async create(userId: string, name: string): Promise<CollectionSummary> {
      const id = newId();
      await db.transaction().execute(async (trx) => {
        // Serialises one user's creates so the cap is exact.
        await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
        if ((await repository.countForUser(trx, userId)) >= MAX_COLLECTIONS) {
          throw new AppError('limit_reached', `You have ${MAX_COLLECTIONS} collections, the most allowed. Delete one to make another.`);
        }
        if (!(await repository.insert(trx, { id, user_id: userId, name }))) throw duplicate(name);
      });
      return (await repository.get(userId, id))!;
    },

    async rename(userId: string, id: string, name: string): Promise<CollectionSummary> {
      const outcome = await db.transaction().execute((trx) => repository.rename(trx, userId, id, name));
      if (outcome === 'missing') throw notFound('Collection');
      if (outcome === 'conflict') throw duplicate(name);
      return (await repository.get(userId, id))!;
    },

    async delete(userId: string, id: string): Promise<void> {
      if (!(await repository.delete(userId, id))) throw notFound('Collection');
    },
  };
}
