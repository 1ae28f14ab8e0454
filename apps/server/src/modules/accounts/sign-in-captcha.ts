import crypto from 'node:crypto';
import { createChallenge, randomInt, verifySolution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { CAPTCHA_CHALLENGE_PATH, CAPTCHA_HEADER, captchaPayloadSchema, type CaptchaChallenge, type CaptchaPayload } from '@atelier/contracts';
import type { Db } from '#src/db/client.ts';
import type { Clock } from '#src/lib/clock.ts';
import { AppError } from '#src/lib/errors.ts';
import { THROTTLE } from './sign-in-throttle.ts';

/**
 * The sign-in CAPTCHA (SEC-3): after 5 consecutive failures for an email, a password attempt must carry a
 * solved ALTCHA proof-of-work challenge. Self-hosted, nothing leaves the browser but the answer: the
 * server signs a challenge (HMAC), the browser searches for the counter whose SHA-256 key starts with the
 * signed prefix, the server checks signature, expiry and key, and records the challenge as used until it
 * expires (in the database, so a solution works once across every API process).
 *
 * Deterministic effort (ALTCHA's recommended mode): the server picks the counter in
 * [maxNumber/2, maxNumber] and signs the key it leads to, so every challenge costs about the same work
 * and verifying it is one HMAC.
 */
export const CAPTCHA = {
  algorithm: 'SHA-256',
  /** Long enough to solve on a slow phone and retry once; short enough that the used-challenge table stays small. */
  ttlSeconds: 5 * 60,
  /** A base64 payload is ~1 KB; anything far larger is not ours. */
  maxHeaderLength: 4096,
} as const;

export type CaptchaRefusal = 'missing' | 'malformed' | 'invalid' | 'expired' | 'used';

/** A password attempt needs a solved challenge from the 5th consecutive failure on (the same point the delays start). */
export const isCaptchaRequired = (failures: number) => failures >= THROTTLE.freeFailures;

/** The two HMAC keys, derived from the auth secret (HKDF, one label each) so no further secret is stored. */
export function captchaKeys(authSecret: string): { signature: string; keySignature: string } {
  const derive = (label: string) => Buffer.from(crypto.hkdfSync('sha256', authSecret, 'atelier', label, 32)).toString('hex');
  return { signature: derive('captcha challenge signature v1'), keySignature: derive('captcha key signature v1') };
}

/** The header's base64(JSON) payload, or null when it is not one. */
export function parseCaptchaHeader(value: string | string[] | undefined): CaptchaPayload | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > CAPTCHA.maxHeaderLength) return null;
  try {
    const parsed = captchaPayloadSchema.safeParse(JSON.parse(Buffer.from(value, 'base64').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A signed challenge whose counter lies in [maxNumber/2, maxNumber], valid for CAPTCHA.ttlSeconds from `now`. */
export async function createCaptchaChallenge(keys: ReturnType<typeof captchaKeys>, maxNumber: number, now: Date): Promise<CaptchaChallenge> {
  const challenge = await createChallenge({
    algorithm: CAPTCHA.algorithm,
    cost: 1,
    counter: randomInt(maxNumber, Math.ceil(maxNumber / 2)),
    deriveKey,
    expiresAt: new Date(now.getTime() + CAPTCHA.ttlSeconds * 1000),
    hmacSignatureSecret: keys.signature,
    hmacKeySignatureSecret: keys.keySignature,
  });
  return { parameters: { ...challenge.parameters }, signature: challenge.signature! };
}

/** Signature, expiry (by our clock) and key of a payload; no database. */
export async function checkCaptchaPayload(payload: CaptchaPayload, keys: ReturnType<typeof captchaKeys>, now: Date): Promise<'ok' | 'invalid' | 'expired'> {
  const expiresAt = payload.challenge.parameters.expiresAt;
  try {
    const result = await verifySolution({
      challenge: payload.challenge,
      solution: payload.solution,
      deriveKey,
      hmacSignatureSecret: keys.signature,
      hmacKeySignatureSecret: keys.keySignature,
    });
    // altcha-lib checks expiry against the system time, before the signature; we check it again by our clock.
    if (result.expired) return 'expired';
    if (!result.verified) return 'invalid';
    // Every challenge we sign has an expiry, and the signature proves it was not removed.
    if (expiresAt === undefined || expiresAt * 1000 <= now.getTime()) return 'expired';
    return 'ok';
  } catch {
    return 'invalid';
  }
}

export type SignInCaptcha = ReturnType<typeof createSignInCaptcha>;

export function createSignInCaptcha(deps: { db: Db; clock: Clock; authSecret: string; maxNumber: number }) {
  const { db, clock } = deps;
  const keys = captchaKeys(deps.authSecret);

  return {
    createChallenge: () => createCaptchaChallenge(keys, deps.maxNumber, clock.now()),

    /**
     * Accepts the solved challenge in `header` once: null, and it is marked used. Otherwise why not, for the
     * log only — the client gets the same `captcha_required` answer whatever was wrong (captchaRequired()).
     */
    async redeem(header: string | string[] | undefined): Promise<CaptchaRefusal | null> {
      if (header === undefined || header === '') return 'missing';
      const payload = parseCaptchaHeader(header);
      if (!payload) return 'malformed';
      const now = clock.now();
      const verdict = await checkCaptchaPayload(payload, keys, now);
      if (verdict !== 'ok') return verdict;
      const expiresAt = new Date(payload.challenge.parameters.expiresAt! * 1000);
      // One use: whoever inserts the signature first wins; a replay, even a concurrent one on another process, finds it there.
      const claimed = await db
        .insertInto('captcha_redemptions')
        .values({ signature: payload.challenge.signature, expires_at: expiresAt })
        .onConflict((oc) => oc.column('signature').doNothing())
        .returning('signature')
        .executeTakeFirst();
      if (!claimed) return 'used';
      // Expired challenges are refused before this table is read, so their rows can go.
      await db.deleteFrom('captcha_redemptions').where('expires_at', '<', now).execute();
      return null;
    },
  };
}

export function captchaRequired(): AppError {
  return new AppError(
    'captcha_required',
    `Too many failed sign-ins for this email. Solve the challenge from GET ${CAPTCHA_CHALLENGE_PATH} and send the solution in the ${CAPTCHA_HEADER} header (the studio does this by itself).`,
    { details: { challenge_path: CAPTCHA_CHALLENGE_PATH, header: CAPTCHA_HEADER } },
  );
}
