import type { Db } from '#src/db/client.ts';
import { notFound } from '#src/lib/errors.ts';

/** Account metadata for support staff (users.read): who the user is and how much they have, never what they made. */
export function createAccountSummaries(db: Db) {
  return {
    /** Who the user is, for other modules (billing, credits): id, e-mail and display name. */
    async profile(userId: string): Promise<{ id: string; email: string; name: string }> {
      const user = await db.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', userId).executeTakeFirst();
      if (!user) throw notFound('User');
      return user;
    },

    /** The user with this e-mail (compared as stored: trimmed, lower case), if any. */
    async idByEmail(email: string): Promise<string | undefined> {
      return (await db.selectFrom('users').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst())?.id;
    },

    async systemSummary(userId: string) {
      const user = await db.selectFrom('users').select(['id', 'email', 'name', 'email_verified', 'created_at']).where('id', '=', userId).executeTakeFirst();
      if (!user) throw notFound('User');
      const count = async (table: 'generations' | 'images' | 'api_keys') =>
        Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
      const [generations, images, apiKeys] = await Promise.all([count('generations'), count('images'), count('api_keys')]);
      return { id: user.id, email: user.email, name: user.name, email_verified: user.email_verified, created_at: user.created_at.toISOString(), generations, images, api_keys: apiKeys };
    },
  };
}
export type AccountSummaries = ReturnType<typeof createAccountSummaries>;
