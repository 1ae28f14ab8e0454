import { randomInt } from 'node:crypto';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import type { FastifyInstance } from 'fastify';
import { CAPTCHA_CHALLENGE_PATH, CAPTCHA_HEADER, captchaChallengeSchema, type CaptchaChallenge, type CaptchaPayload } from '@atelier/contracts';
import { post } from './auth-flows.ts';

/** The sign-in CAPTCHA from a client's side: fetch a challenge, solve it as the studio would (same protocol, Node's SHA-256). */
export async function fetchChallenge(app: FastifyInstance): Promise<CaptchaChallenge> {
  const res = await app.inject({ method: 'GET', url: CAPTCHA_CHALLENGE_PATH });
  if (res.statusCode !== 200) throw new Error(`challenge failed: ${res.statusCode} ${res.body}`);
  return captchaChallengeSchema.parse(res.json());
}

export async function solve(challenge: CaptchaChallenge): Promise<CaptchaPayload> {
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('challenge not solved');
  return { challenge, solution };
}

export const encodeCaptcha = (payload: CaptchaPayload | Record<string, unknown>) => Buffer.from(JSON.stringify(payload)).toString('base64');

/** The header value of a freshly solved challenge. */
export async function solvedCaptcha(app: FastifyInstance): Promise<string> {
  return encodeCaptcha(await solve(await fetchChallenge(app)));
}

/** POST /api/auth/sign-in/email with `captcha` (a header value) or none, from its own address unless told. */
export function signInWithCaptcha(app: FastifyInstance, email: string, password: string, captcha: string | null, opts: { remoteAddress?: string } = {}) {
  const remoteAddress = opts.remoteAddress ?? `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
  return post(app, '/api/auth/sign-in/email', { email, password }, '', { remoteAddress, headers: captcha === null ? {} : { [CAPTCHA_HEADER]: captcha } });
}
