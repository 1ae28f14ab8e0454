import { z } from 'zod';

/**
 * The sign-in CAPTCHA (SEC-3): an ALTCHA proof-of-work challenge (PoW v2, SHA-256), self-hosted.
 * GET /api/auth/captcha-challenge answers a challenge; the client finds its counter and sends
 * base64(JSON({ challenge, solution })) — the ALTCHA widget's payload format — in this header with
 * POST /api/auth/sign-in/email.
 */
export const CAPTCHA_HEADER = 'x-atelier-captcha';
export const CAPTCHA_CHALLENGE_PATH = '/api/auth/captcha-challenge';

/** Parameters exactly as the server signed them; any key added, dropped or changed breaks the signature. */
export const captchaParametersSchema = z.looseObject({
  algorithm: z.string().max(32),
  nonce: z.string().max(128),
  salt: z.string().max(128),
  cost: z.number().int().positive(),
  keyLength: z.number().int().positive().max(64),
  keyPrefix: z.string().max(128),
  keySignature: z.string().max(256).optional(),
  expiresAt: z.number().optional().describe('Unix time in seconds after which the challenge is refused'),
});

export const captchaChallengeSchema = z.object({
  parameters: captchaParametersSchema,
  signature: z.string().max(256),
});
export type CaptchaChallenge = z.infer<typeof captchaChallengeSchema>;

export const captchaSolutionSchema = z.object({
  counter: z.number().int().nonnegative(),
  derivedKey: z.string().max(256),
  time: z.number().optional(),
});

export const captchaPayloadSchema = z.object({ challenge: captchaChallengeSchema, solution: captchaSolutionSchema });
export type CaptchaPayload = z.infer<typeof captchaPayloadSchema>;
