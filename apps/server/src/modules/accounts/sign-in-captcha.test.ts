import { solveChallenge } from 'altcha-lib';
// The browser's solver (Web Crypto SHA-256, what the studio's worker runs): the server must accept its answers.
import { deriveKey as webDeriveKey } from 'altcha-lib/algorithms/web/sha';
import { describe, expect, it } from 'vitest';
import type { CaptchaPayload } from '@atelier/contracts';
import { CAPTCHA, captchaKeys, checkCaptchaPayload, createCaptchaChallenge, isCaptchaRequired, parseCaptchaHeader } from './sign-in-captcha.ts';

const keys = captchaKeys('the auth secret of this test');
// altcha-lib compares expiry with the system time, so "now" here is the real one.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

async function solved(maxNumber = 2000, at = now): Promise<CaptchaPayload> {
  const challenge = await createCaptchaChallenge(keys, maxNumber, at);
  const solution = await solveChallenge({ challenge, deriveKey: webDeriveKey });
  if (!solution) throw new Error('not solved');
  return { challenge, solution };
}

describe('sign-in CAPTCHA', () => {
  it('is required from the 5th consecutive failure on', () => {
    expect([0, 1, 4].map(isCaptchaRequired)).toEqual([false, false, false]);
    expect([5, 6, 99].map(isCaptchaRequired)).toEqual([true, true, true]);
  });

  it('signs SHA-256 challenges whose counter lies in the upper half of the range, expiring after 5 minutes', async () => {
    for (let i = 0; i < 5; i++) {
      const { challenge, solution } = await solved(2000);
      expect(challenge.parameters).toMatchObject({ algorithm: 'SHA-256', cost: 1, expiresAt: now.getTime() / 1000 + CAPTCHA.ttlSeconds });
      expect(challenge.parameters.keySignature).toMatch(/^[0-9a-f]{64}$/);
      expect(solution.counter).toBeGreaterThanOrEqual(1000);
      expect(solution.counter).toBeLessThanOrEqual(2000);
    }
  });

  it('accepts what the browser solver finds, and refuses expired, tampered, wrong and foreign answers', async () => {
    const payload = await solved();
    expect(await checkCaptchaPayload(payload, keys, now)).toBe('ok');
    expect(await checkCaptchaPayload(payload, keys, new Date(now.getTime() + CAPTCHA.ttlSeconds * 1000))).toBe('expired');
    const issuedLongAgo = await solved(2000, new Date(now.getTime() - CAPTCHA.ttlSeconds * 1000 - 1000));
    expect(await checkCaptchaPayload(issuedLongAgo, keys, now)).toBe('expired');

    // A later expiry (or any other parameter change) breaks the signature.
    const extended = structuredClone(payload);
    extended.challenge.parameters.expiresAt = extended.challenge.parameters.expiresAt! + 3600;
    expect(await checkCaptchaPayload(extended, keys, now)).toBe('invalid');
    const easier = structuredClone(payload);
    easier.challenge.parameters.keyPrefix = '00';
    expect(await checkCaptchaPayload(easier, keys, now)).toBe('invalid');
    const noExpiry = structuredClone(payload);
    delete noExpiry.challenge.parameters.expiresAt;
    expect(await checkCaptchaPayload(noExpiry, keys, now)).toBe('invalid');

    const wrongCounter = structuredClone(payload);
    wrongCounter.solution.counter += 1;
    wrongCounter.solution.derivedKey = 'ab'.repeat(32);
    expect(await checkCaptchaPayload(wrongCounter, keys, now)).toBe('invalid');
    const notHex = structuredClone(payload);
    notHex.solution.derivedKey = 'zz';
    expect(await checkCaptchaPayload(notHex, keys, now)).toBe('invalid');

    // Signed with another server's secret.
    expect(await checkCaptchaPayload(payload, captchaKeys('another secret'), now)).toBe('invalid');
  });

  it('reads the header only as base64 of the ALTCHA payload', async () => {
    const payload = await solved();
    expect(parseCaptchaHeader(encode(payload))).toEqual(payload);
    expect(parseCaptchaHeader(undefined)).toBeNull();
    expect(parseCaptchaHeader([encode(payload), encode(payload)])).toBeNull();
    expect(parseCaptchaHeader('not base64 json')).toBeNull();
    expect(parseCaptchaHeader(encode({ challenge: payload.challenge }))).toBeNull();
    expect(parseCaptchaHeader(encode({ ...payload, solution: { counter: -1, derivedKey: 'ab' } }))).toBeNull();
    expect(parseCaptchaHeader('A'.repeat(CAPTCHA.maxHeaderLength + 1))).toBeNull();
  });
});
