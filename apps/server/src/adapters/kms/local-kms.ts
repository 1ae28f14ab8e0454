import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Wraps and unwraps per-object data keys under a key-encryption key (KEK). The local provider keeps a
 * 32-byte KEK in MASTER_KEY (base64) or in DATA_DIR/secrets/master.key (created on first start, mode
 * 0600) — never in the database. Cloud KMS providers implement the same interface later.
 */
export interface KeyWrapper {
  readonly keyId: string;
  wrap(dataKey: Buffer, aad: Buffer): Buffer;
  unwrap(wrapped: Buffer, aad: Buffer): Buffer;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function createLocalKms(kek: Buffer): KeyWrapper {
  if (kek.length !== 32) throw new Error('The master key must be exactly 32 bytes (base64 of 32 random bytes).');
  const keyId = 'local:' + crypto.createHash('sha256').update(kek).digest('hex').slice(0, 12);
  return {
    keyId,
    wrap(dataKey, aad) {
      const nonce = crypto.randomBytes(NONCE_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', kek, nonce).setAAD(aad);
      return Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    },
    unwrap(wrapped, aad) {
      const nonce = wrapped.subarray(0, NONCE_BYTES);
      const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
      const body = wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES);
      const decipher = crypto.createDecipheriv('aes-256-gcm', kek, nonce).setAAD(aad).setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    },
  };
}

/** Reads a secret from the environment value if given, else from a file it creates with 0600 on first use. */
export function loadOrCreateSecret(envValue: string | undefined, file: string, create: () => string): string {
  if (envValue) return envValue;
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = create();
  // 'wx' fails if another process created it first; then read theirs so both agree.
  try {
    fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw error;
  }
}

export function loadMasterKey(envValue: string | undefined, secretsDir: string): Buffer {
  const encoded = loadOrCreateSecret(envValue, path.join(secretsDir, 'master.key'), () => crypto.randomBytes(32).toString('base64'));
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new Error('MASTER_KEY (or data/secrets/master.key) must be base64 of exactly 32 bytes.');
  return key;
}
