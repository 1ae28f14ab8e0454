import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, apiKeyChecksum, apiKeyShape, crc32 } from './accounts.ts';

const keyFor = (random: string) => `atl_${random}${apiKeyChecksum(random)}`;

describe('API key checksum (SEC-15)', () => {
  it('computes the same CRC-32 as zlib', () => {
    for (const text of ['', 'a', 'The quick brown fox jumps over the lazy dog', randomBytes(32).toString('base64url')]) expect(crc32(text)).toBe(zlibCrc32(text));
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
  });

  it('encodes it in 6 base62 characters, including the extremes of the range', () => {
    expect(apiKeyChecksum('')).toBe('000000'); // crc32('') = 0
    for (let i = 0; i < 200; i++) expect(apiKeyChecksum(randomBytes(32).toString('base64url'))).toMatch(/^[0-9A-Za-z]{6}$/);
  });

  it('tells a checksummed key, a legacy key and anything else apart', () => {
    const random = randomBytes(32).toString('base64url');
    const key = keyFor(random);
    expect(key).toMatch(API_KEY_PATTERN);
    expect(apiKeyShape(key)).toBe('checksummed');
    expect(apiKeyShape(`atl_${random}`)).toBe('legacy');
    // One changed character anywhere (random part or checksum) is caught.
    for (const at of [4, 20, 46, 47, 52]) {
      const c = key[at]!;
      const typo = key.slice(0, at) + (c === 'A' ? 'B' : 'A') + key.slice(at + 1);
      expect(apiKeyShape(typo), `typo at ${at}`).toBe('malformed');
    }
    for (const bad of ['', 'atl_', `atk_${random}`, `atl_${random}x`, `${key}0`, key.replace('atl_', 'ATL_'), `atl_${random.slice(0, 42)}!${apiKeyChecksum(random)}`]) expect(apiKeyShape(bad), bad).toBe('malformed');
  });
});
