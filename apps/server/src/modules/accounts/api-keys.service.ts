import crypto from 'node:crypto';
import { API_KEY_PREFIX } from '@atelier/contracts';
import { notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { ApiKeyRow } from '#src/db/schema.ts';
import type { ApiKeysRepository } from './api-keys.repository.ts';

/**
 * API keys: `atl_` + 43 base64url characters (256 random bits). Only a SHA-256 of the key is stored
 * (a fast hash is right for secrets of this entropy, ASVS 6.5.2); the key itself is shown once.
 */
const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

export function createApiKeyService(deps: { repository: ApiKeysRepository }) {
  const { repository } = deps;
  return {
    async create(userId: string, name: string): Promise<{ row: ApiKeyRow; key: string }> {
      const key = API_KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
      const row = await repository.insert({ id: newId(), user_id: userId, name, prefix: key.slice(0, 12), key_hash: hashKey(key) });
      return { row, key };
    },
    list: (userId: string) => repository.listForUser(userId),
    async revoke(userId: string, id: string): Promise<void> {
      if (!(await repository.revoke(userId, id))) throw notFound('API key');
    },
    /** The user and key behind a presented secret, or undefined. */
    async authenticate(presented: string): Promise<{ userId: string; keyId: string } | undefined> {
      if (!presented.startsWith(API_KEY_PREFIX) || presented.length > 200) return undefined;
      const row = await repository.systemUseByHash(hashKey(presented));
      return row ? { userId: row.user_id, keyId: row.id } : undefined;
    },
  };
}
