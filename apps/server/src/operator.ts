import type { ApiKeyScope } from '@atelier/contracts';
import { AppError } from './lib/errors.ts';
import type { Container } from './container.ts';

/** Operator bootstrap commands (the CLI), built on the same services the API uses. */
export function createOperatorCommands(c: Pick<Container, 'auth' | 'apiKeys' | 'database'>) {
  return {
    async createUser(input: { email: string; password: string; name?: string | undefined }): Promise<{ id: string; email: string }> {
      // The operator creating an account vouches for its holder's age.
      const body = { email: input.email, password: input.password, name: input.name ?? input.email.split('@')[0] ?? input.email, ageConfirmed: true };
      const result = await c.auth.api.signUpEmail({ body });
      return { id: result.user.id, email: result.user.email };
    },
    async createApiKey(input: { email: string; name: string; scopes: readonly ApiKeyScope[]; expiresInDays?: number | undefined }): Promise<string> {
      const user = await c.database.db.selectFrom('users').select('id').where('email', '=', input.email.toLowerCase()).executeTakeFirst();
      if (!user) throw new AppError('not_found', `No user with email ${input.email}`);
      return (await c.apiKeys.create(user.id, { name: input.name, scopes: input.scopes, expiresInDays: input.expiresInDays })).key;
    },
  };
}
