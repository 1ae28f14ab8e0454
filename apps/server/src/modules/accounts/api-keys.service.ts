import crypto from 'node:crypto';
import { API_KEY_PREFIX, API_KEY_SCOPES, apiKeyChecksum, apiKeyShape, type ApiKeyScope } from '@atelier/contracts';
import type { Clock } from '#src/lib/clock.ts';
import { notFound } from '#src/lib/errors.ts';
import { newId } from '#src/lib/ids.ts';
import type { ApiKeyRow } from '#src/db/schema.ts';
import type { ApiKeysRepository } from './api-keys.repository.ts';

/**
 * API keys: `atl_` + 43 base64url characters (256 random bits) + a 6-character base62 CRC32 of them
 * (contracts' apiKeyShape; keys from before the checksum still work). Only a SHA-256 of the key is stored
 * (a fast hash is right for secrets of this entropy, ASVS 6.5.2); the key itself is shown once. Each key
 * carries scopes (what /v1 routes it may call) and an optional expiry. Keys are looked up on every
 * request, uncached, so a revoke takes effect on the next request (SEC-15 asks for ≤ 60 s); a malformed
 * key or one whose checksum does not match is refused without a lookup.
 */
const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 86_400_000;

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
export type AuthenticatedKey = { userId: string; keyId: string; scopes: readonly ApiKeyScope[] } | { keyId: string; expiredAt: Date };

export function createApiKeyService(deps: { repository: ApiKeysRepository; clock?: Clock }) {
  const { repository } = deps;
  const now = () => deps.clock?.now() ?? new Date();
  return {
    async create(userId: string, input: { name: string; scopes: readonly ApiKeyScope[]; expiresInDays?: number | null | undefined }): Promise<{ row: ApiKeyRow; key: string }> {
      const random = crypto.randomBytes(32).toString('base64url');
      const key = API_KEY_PREFIX + random + apiKeyChecksum(random);
      const scopes = API_KEY_SCOPES.filter((s) => input.scopes.includes(s));
      const expiresAt = input.expiresInDays ? new Date(now().getTime() + input.expiresInDays * DAY_MS) : null;
      const row = await repository.insert({ id: newId(), user_id: userId, name: input.name, prefix: key.slice(0, 12), key_hash: hashKey(key), scopes, expires_at: expiresAt });
      return { row, key };
    },
    list: (userId: string) => repository.listForUser(userId),
    async revoke(userId: string, id: string): Promise<void> {
      if (!(await repository.revoke(userId, id))) throw notFound('API key');
    },
    /** The user, key and scopes behind a presented secret; `expiredAt` for an expired key; undefined for unknown or revoked ones. */
    async authenticate(presented: string): Promise<AuthenticatedKey | undefined> {
      if (apiKeyShape(presented) === 'malformed') return undefined;
      const row = await repository.systemGetByHash(hashKey(presented));
      if (!row) return undefined;
      const at = now();
      if (row.expires_at && row.expires_at <= at) return { keyId: row.id, expiredAt: row.expires_at };
      if (!row.last_used_at || at.getTime() - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) await repository.systemTouch(row.id);
      return { userId: row.user_id, keyId: row.id, scopes: row.scopes };
    },
  };
}
