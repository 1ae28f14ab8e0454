import type { Profile } from '@atelier/contracts';
import type { Imaging } from '#src/adapters/imaging/imaging.ts';
import type { EncryptedStorage } from '#src/adapters/storage/encrypted-storage.ts';
import type { Db } from '#src/db/client.ts';
import { AppError } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import { normalizeUserImage } from '#src/modules/media/uploads.service.ts';

export const AVATAR_SIDE = 256;

/**
 * The profile a user edits (display name, avatar) and the one-time age confirmation. An avatar goes
 * through the same checks as any upload (content sniffing, limits, full decode, re-encode without
 * metadata), is cut to a 256 px square and stored encrypted like every other user image.
 */
export function createProfileService(deps: { db: Db; storage: EncryptedStorage; imaging: Pick<Imaging, 'normalizeUpload' | 'square'> }) {
  const { db, storage, imaging } = deps;
  const ctx = (ownerId: string) => ({ ownerId, purpose: 'upload' as const });

  async function get(userId: string): Promise<Profile> {
    const user = await db.selectFrom('users').select(['id', 'email', 'name', 'email_verified', 'age_confirmed', 'avatar_key']).where('id', '=', userId).executeTakeFirst();
    if (!user) throw new AppError('unauthenticated', 'Sign in to continue.');
    const accounts = await db.selectFrom('accounts').select('provider_id').where('user_id', '=', userId).orderBy('created_at').execute();
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      email_verified: user.email_verified,
      age_confirmed: user.age_confirmed,
      has_avatar: user.avatar_key !== null,
      sign_in_methods: accounts.map((a) => a.provider_id),
    };
  }

  return {
    get,

    async rename(userId: string, name: string): Promise<Profile> {
      await db.updateTable('users').set({ name, updated_at: new Date() }).where('id', '=', userId).execute();
      return get(userId);
    },

    async confirmAge(userId: string): Promise<Profile> {
      await db.updateTable('users').set({ age_confirmed: true, updated_at: new Date() }).where('id', '=', userId).execute();
      return get(userId);
    },

    async setAvatar(userId: string, bytes: Buffer): Promise<Profile> {
      const image = await normalizeUserImage(imaging, bytes);
      const squared = await imaging.square(image.bytes, AVATAR_SIDE);
      // Lower-case generated keys only (user ids are mixed-case): the owner is bound by the encryption context.
      const key = `avatars/${newId()}`;
      await storage.put(key, squared, ctx(userId));
      const previous = await db.selectFrom('users').select('avatar_key').where('id', '=', userId).executeTakeFirst();
      await db.updateTable('users').set({ avatar_key: key, updated_at: new Date() }).where('id', '=', userId).execute();
      if (previous?.avatar_key) await storage.delete(previous.avatar_key).catch(() => undefined);
      return get(userId);
    },

    async removeAvatar(userId: string): Promise<Profile> {
      const previous = await db.selectFrom('users').select('avatar_key').where('id', '=', userId).executeTakeFirst();
      await db.updateTable('users').set({ avatar_key: null, updated_at: new Date() }).where('id', '=', userId).execute();
      if (previous?.avatar_key) await storage.delete(previous.avatar_key).catch(() => undefined);
      return get(userId);
    },

    /** The owner's avatar bytes (WebP), or undefined when there is none. */
    async readAvatar(userId: string): Promise<Buffer | undefined> {
      const row = await db.selectFrom('users').select('avatar_key').where('id', '=', userId).executeTakeFirst();
      return row?.avatar_key ? storage.get(row.avatar_key, ctx(userId)) : undefined;
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
