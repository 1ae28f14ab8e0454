import { sql } from 'kysely';
import { symmetricDecrypt } from 'better-auth/crypto';
import { createOTP } from '@better-auth/utils/otp';
import { base32 } from '@better-auth/utils/base32';
import type { Db } from '#src/db/client.ts';

/** How long a used TOTP code stays refused: it is valid for ±1 period of 30 s. */
const REPLAY_WINDOW_MS = 90_000;

type SecretKey = Parameters<typeof symmetricDecrypt>[0]['key'];

/**
 * Claims a TOTP code for a user, atomically: true the first time within the replay window, false when
 * it was already presented (replay). Called before the code is checked, so a guess is claimed too;
 * that costs nothing, as a wrong code stays wrong for the whole window.
 */
export async function claimTotpCode(db: Db, userId: string, code: string, now = new Date()): Promise<boolean> {
  const cutoff = new Date(now.getTime() - REPLAY_WINDOW_MS);
  await db.deleteFrom('two_factor_used_codes').where('used_at', '<', cutoff).execute();
  const row = await db
    .insertInto('two_factor_used_codes')
    .values({ user_id: userId, code: code.trim(), used_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'code']).doUpdateSet({ used_at: now }).where(sql<boolean>`two_factor_used_codes.used_at < ${cutoff}`))
    .returning('code')
    .executeTakeFirst();
  return row !== undefined;
}

/** better-auth stores the TOTP secret encrypted with its secret; `base32:`-prefixed ones were imported. */
async function decryptSecret(key: SecretKey, data: string): Promise<string | Uint8Array> {
  const secret = await symmetricDecrypt({ key, data });
  return secret.startsWith('base32:') ? base32.decode(secret.slice(7).toUpperCase()) : secret;
}

/** Checks a code from the user's authenticator app (claiming it: each code works once) or, when allowed, one of their recovery codes (not consumed). */
export async function verifySecondFactor(db: Db, key: SecretKey, userId: string, code: string, opts: { allowRecovery: boolean }): Promise<boolean> {
  const row = await db.selectFrom('two_factors').select(['secret', 'backup_codes', 'verified']).where('user_id', '=', userId).executeTakeFirst();
  if (!row || row.verified === false) return false;
  const trimmed = code.trim();
  if (/^\d{6}$/.test(trimmed)) {
    if (!(await claimTotpCode(db, userId, trimmed))) return false;
    return createOTP(await decryptSecret(key, row.secret)).verify(trimmed);
  }
  if (!opts.allowRecovery) return false;
  const codes = JSON.parse(await symmetricDecrypt({ key, data: row.backup_codes })) as string[];
  return codes.includes(trimmed);
}
