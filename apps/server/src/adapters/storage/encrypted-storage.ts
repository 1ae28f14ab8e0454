import crypto from 'node:crypto';
import type { KeyWrapper } from '../kms/local-kms.ts';
import type { ObjectStorage } from './storage.ts';

/**
 * Envelope encryption over any ObjectStorage: a fresh 256-bit data key per object, AES-256-GCM with a
 * random 96-bit nonce, the data key wrapped by the KEK and stored in the object's header.
 * The AAD binds the ciphertext to its owner, key and purpose, so bytes copied onto another object's
 * key (or another user's) fail to decrypt instead of being served.
 *
 * Layout: "ATL1" | uint32 BE header length | header JSON | ciphertext | 16-byte tag
 */
export interface EncryptionContext {
  ownerId: string;
  purpose: 'output' | 'thumbnail' | 'preview' | 'upload';
}

export interface EncryptedStorage {
  put(key: string, plaintext: Buffer, ctx: EncryptionContext): Promise<void>;
  get(key: string, ctx: EncryptionContext): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}

export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

const MAGIC = Buffer.from('ATL1');
const TAG_BYTES = 16;

interface Header {
  v: 1;
  alg: 'AES-256-GCM';
  kek: string;
  dek: string;
  nonce: string;
}

const aadFor = (key: string, ctx: EncryptionContext, header: Buffer) => Buffer.concat([Buffer.from(`${ctx.ownerId}|${key}|${ctx.purpose}|v1|`), header]);

export function createEncryptedStorage(storage: ObjectStorage, kms: KeyWrapper): EncryptedStorage {
  return {
    async put(key, plaintext, ctx) {
      const dek = crypto.randomBytes(32);
      const nonce = crypto.randomBytes(12);
      const wrapped = kms.wrap(dek, Buffer.from(`${ctx.ownerId}|${key}|${ctx.purpose}`));
      const header = Buffer.from(JSON.stringify({ v: 1, alg: 'AES-256-GCM', kek: kms.keyId, dek: wrapped.toString('base64'), nonce: nonce.toString('base64') } satisfies Header));
      const cipher = crypto.createCipheriv('aes-256-gcm', dek, nonce).setAAD(aadFor(key, ctx, header));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      dek.fill(0);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(header.length);
      await storage.put(key, Buffer.concat([MAGIC, length, header, body]));
    },
    async get(key, ctx) {
      const blob = await storage.get(key);
      if (!blob) return undefined;
      if (blob.length < 8 + TAG_BYTES || !blob.subarray(0, 4).equals(MAGIC)) throw new DecryptionError(`Object ${key} is not an Atelier encrypted object`);
      const headerLength = blob.readUInt32BE(4);
      const headerBytes = blob.subarray(8, 8 + headerLength);
      let header: Header;
      try {
        header = JSON.parse(headerBytes.toString('utf8')) as Header;
      } catch {
        throw new DecryptionError(`Object ${key} has a corrupt header`);
      }
      if (header.v !== 1 || header.alg !== 'AES-256-GCM') throw new DecryptionError(`Object ${key} uses an unknown format`);
      if (header.kek !== kms.keyId) throw new DecryptionError(`Object ${key} was encrypted under another master key (${header.kek})`);
      const sealed = blob.subarray(8 + headerLength);
      let dek: Buffer | undefined;
      try {
        dek = kms.unwrap(Buffer.from(header.dek, 'base64'), Buffer.from(`${ctx.ownerId}|${key}|${ctx.purpose}`));
        const decipher = crypto
          .createDecipheriv('aes-256-gcm', dek, Buffer.from(header.nonce, 'base64'))
          .setAAD(aadFor(key, ctx, headerBytes))
          .setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch (error) {
        throw new DecryptionError(`Object ${key} failed authentication: it was tampered with, moved, or belongs to someone else`, { cause: error });
      } finally {
        dek?.fill(0);
      }
    },
    delete: (key) => storage.delete(key),
  };
}
