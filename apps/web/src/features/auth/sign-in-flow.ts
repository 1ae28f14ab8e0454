import { isApiError } from '#/lib/api-client';

/**
 * What the sign-in form does after a refused attempt, by itself, before showing an error:
 * - `captcha_required` (5 or more failures for this email): solve a challenge and send the attempt again;
 * - `rate_limited` with a short wait (the per-email delay after failures: 1 s, 2 s, 4 s …): wait, then
 *   send it again, so a person who retypes quickly is not told to click once more;
 * - anything else, or the same refusal again and again: show it.
 */
export const AUTO_WAIT_MAX_SECONDS = 10;
const MAX_SOLVES = 2;
const MAX_WAITS = 2;

export type SignInStep = { kind: 'solve' } | { kind: 'wait'; seconds: number } | { kind: 'fail' };
export interface SignInTries {
  solves: number;
  waits: number;
}

export function nextSignInStep(error: unknown, tries: SignInTries): SignInStep {
  if (!isApiError(error)) return { kind: 'fail' };
  if (error.code === 'captcha_required') return tries.solves < MAX_SOLVES ? { kind: 'solve' } : { kind: 'fail' };
  if (error.code === 'rate_limited') {
    const seconds = error.details?.retry_after_seconds;
    if (typeof seconds === 'number' && seconds > 0 && seconds <= AUTO_WAIT_MAX_SECONDS && tries.waits < MAX_WAITS) return { kind: 'wait', seconds };
  }
  return { kind: 'fail' };
}

/** Emails compare as the server compares them (its throttle is per normalized address). */
export const sameEmail = (a: string | null, b: string) => a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
