import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalKms, loadMasterKey } from '../kms/local-kms.ts';
import { createEncryptedStorage, DecryptionError } from './encrypted-storage.ts';
import { createLocalStorage } from './local-storage.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-enc-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const setup = (kek = crypto.randomBytes(32)) => {
  const root = tmp();
  const raw = createLocalStorage(root);
  return { root, raw, store: createEncryptedStorage(raw, createLocalKms(kek)), kek };
};
const owner = { ownerId: 'user-1', purpose: 'output' } as const;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('encrypted storage', () => {
  it('round-trips, and the bytes at rest are not the plaintext', async () => {
    const { root, store } = setup();
    const plaintext = Buffer.concat([PNG_MAGIC, crypto.randomBytes(4096)]);
    await store.put('images/a/original', plaintext, owner);
    expect((await store.get('images/a/original', owner))!.equals(plaintext)).toBe(true);
    const onDisk = fs.readFileSync(path.join(root, 'images/a/original'));
    expect(onDisk.includes(PNG_MAGIC)).toBe(false);
    expect(onDisk.includes(plaintext.subarray(100, 132))).toBe(false);
  });

  it('uses a fresh data key and nonce per object', async () => {
    const { root, store } = setup();
    const same = Buffer.from('identical content');
    await store.put('x/1', same, owner);
    await store.put('x/2', same, owner);
    expect(fs.readFileSync(path.join(root, 'x/1')).equals(fs.readFileSync(path.join(root, 'x/2')))).toBe(false);
  });

  it('refuses ciphertext moved to another key, owner or purpose', async () => {
    const { root, store } = setup();
    await store.put('x/a', Buffer.from('secret a'), owner);
    fs.copyFileSync(path.join(root, 'x/a'), path.join(root, 'x/b'));
    await expect(store.get('x/b', owner)).rejects.toBeInstanceOf(DecryptionError);
    await expect(store.get('x/a', { ...owner, ownerId: 'user-2' })).rejects.toBeInstanceOf(DecryptionError);
    await expect(store.get('x/a', { ...owner, purpose: 'thumbnail' })).rejects.toBeInstanceOf(DecryptionError);
  });

  it('fails closed on any flipped bit, in the header or the body', async () => {
    const { root, store } = setup();
    await store.put('x/t', crypto.randomBytes(256), owner);
    const file = path.join(root, 'x/t');
    const original = fs.readFileSync(file);
    for (const offset of [10, 40, original.length - 300, original.length - 1]) {
      const tampered = Buffer.from(original);
      tampered[offset]! ^= 0x01;
      fs.writeFileSync(file, tampered);
      await expect(store.get('x/t', owner)).rejects.toThrow();
    }
  });

  it('cannot be read under another master key', async () => {
    const a = setup();
    await a.store.put('x/k', Buffer.from('hello'), owner);
    const b = createEncryptedStorage(a.raw, createLocalKms(crypto.randomBytes(32)));
    await expect(b.get('x/k', owner)).rejects.toThrow(/another master key/);
  });

  it('refuses keys that could escape the storage root', async () => {
    const { store } = setup();
    for (const key of ['../etc/passwd', '/abs', 'a/../../b', 'UPPER', '']) await expect(store.put(key, Buffer.from('x'), owner)).rejects.toThrow(/Invalid storage key/);
  });

  it('creates the master key once, 0600, and reuses it', () => {
    const dir = tmp();
    const k1 = loadMasterKey(undefined, dir);
    const k2 = loadMasterKey(undefined, dir);
    expect(k1.equals(k2)).toBe(true);
    expect(fs.statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(() => loadMasterKey(Buffer.alloc(16).toString('base64'), dir)).toThrow(/32 bytes/);
  });
});
