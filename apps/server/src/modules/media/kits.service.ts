import { MAX_KITS, type CreateKitInput, type FieldError, type UpdateKitInput } from '@atelier/contracts';
import type { Transaction } from 'kysely';
import type { Db } from '#src/db/client.ts';
import type { DB } from '#src/db/schema.ts';
import { systemClock, type Clock } from '#src/lib/clock.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { KitItem, KitRepository, KitWithItems } from './kits.repository.ts';

export type KitService = ReturnType<typeof createKitService>;

/**
 * Named reference kits. Every write runs in one transaction under the user's kit lock, so the name
 * check, the per-user cap and the ownership of every reference are decided on what is committed, and a
 * refused request changes nothing.
 */
export function createKitService(deps: { db: Db; repository: KitRepository; clock?: Clock; maxKits?: number }) {
  const { db, repository } = deps;
  const clock = deps.clock ?? systemClock;
  const maxKits = deps.maxKits ?? MAX_KITS;

  /** The references, each the user's own upload or image; anything else is refused naming its position. */
  async function ownReferences(trx: Transaction<DB>, userId: string, ids: readonly string[]): Promise<Pick<KitItem, 'kind' | 'id'>[]> {
    const owned = await repository.resolveOwned(trx, userId, ids);
    const fields: FieldError[] = ids.flatMap((id, i) => (owned.has(id) ? [] : [{ path: `references.${i}`, message: `reference ${i + 1} (${id}) is not one of your uploads or images` }]));
    if (fields.length > 0) {
      const list = fields.map((f) => f.message).join('; ');
      throw new AppError('validation_failed', `${list[0]!.toUpperCase()}${list.slice(1)}. A kit can only hold your own uploads and generated images.`, { fields });
    }
    return ids.map((id) => ({ id, kind: owned.get(id)! }));
  }

  async function refuseTakenName(trx: Transaction<DB>, userId: string, name: string, exceptId?: string): Promise<void> {
    const taken = await repository.getByName(trx, userId, name, exceptId);
    if (taken) {
      throw new AppError('conflict', `You already have a kit named “${taken.name}”. Choose another name, or rename or delete that kit first.`, {
        fields: [{ path: 'name', message: `you already have a kit named “${taken.name}”` }],
      });
    }
  }

  /** Runs a write; a race the checks could not see (a reference deleted meanwhile, the unique name index) still answers clearly. */
  async function write<T>(step: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(step);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '23505') throw new AppError('conflict', 'You already have a kit with that name. Choose another name.', { cause: error });
      if (code === '23503') throw new AppError('validation_failed', 'One of the references was deleted while the kit was being saved. Try again.', { cause: error });
      throw error;
    }
  }

  return {
    list(userId: string): Promise<KitWithItems[]> {
      return repository.listForUser(userId);
    },

    async get(userId: string, kitId: string): Promise<KitWithItems> {
      const kit = await repository.getForUser(userId, kitId);
      if (!kit) throw notFound('Kit');
      return kit;
    },

    create(userId: string, input: CreateKitInput): Promise<KitWithItems> {
      return write(async (trx) => {
        await repository.lockUser(trx, userId);
        const count = await repository.countForUser(trx, userId);
        if (count >= maxKits) throw new AppError('limit_reached', `You have ${count} kits, the most one account can keep. Delete a kit you no longer use, then save this one.`, { details: { limit: maxKits, count } });
        await refuseTakenName(trx, userId, input.name);
        const refs = await ownReferences(trx, userId, input.references);
        const id = newId();
        const now = clock.now();
        await repository.insert(trx, { id, user_id: userId, name: input.name, created_at: now, updated_at: now });
        await repository.replaceItems(trx, id, refs);
        return (await repository.getForUser(userId, id, trx))!;
      });
    },

    /** Renames and/or replaces the references (the new list, in its order). Someone else's kit is not found. */
    update(userId: string, kitId: string, input: UpdateKitInput): Promise<KitWithItems> {
      return write(async (trx) => {
        await repository.lockUser(trx, userId);
        if (!(await repository.getForUser(userId, kitId, trx))) throw notFound('Kit');
        if (input.name !== undefined) await refuseTakenName(trx, userId, input.name, kitId);
        const refs = input.references ? await ownReferences(trx, userId, input.references) : null;
        await repository.update(trx, userId, kitId, { name: input.name, updated_at: clock.now() });
        if (refs) await repository.replaceItems(trx, kitId, refs);
        return (await repository.getForUser(userId, kitId, trx))!;
      });
    },

    async delete(userId: string, kitId: string): Promise<void> {
      if (!(await repository.delete(userId, kitId))) throw notFound('Kit');
    },
  };
}
