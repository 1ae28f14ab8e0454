import { solveChallengeWorkers } from 'altcha-lib';
import { CAPTCHA_CHALLENGE_PATH, captchaChallengeSchema, type CaptchaPayload } from '@atelier/contracts';
import { ApiError, request } from '#/lib/api-client';

/** Past this the browser has given up on the puzzle (it takes well under 2 s on a laptop). */
const SOLVE_TIMEOUT_MS = 60_000;

/**
 * The sign-in CAPTCHA (after 5 failed attempts for an email): fetches a proof-of-work challenge from our own
 * server and finds its answer in Web Workers with the browser's SHA-256 — no third party, no tracking, nothing
 * to look at or listen to. Resolves to the value of the X-Atelier-Captcha header.
 */
export async function solveSignInCaptcha(signal?: AbortSignal): Promise<string> {
  // Web Crypto exists only in secure contexts: HTTPS, or http://localhost.
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    throw new ApiError({ status: 0, code: 'captcha_unavailable', message: 'This browser can only run the sign-in check over HTTPS. Open Atelier at its https:// address and try again.' });
  }
  const challenge = await request(CAPTCHA_CHALLENGE_PATH, { schema: captchaChallengeSchema, signal });
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  let solution: CaptchaPayload['solution'] | null;
  try {
    solution = await solveChallengeWorkers({
      // The parameters go back exactly as received (the server checks its signature over them).
      challenge: challenge as Parameters<typeof solveChallengeWorkers>[0]['challenge'],
      concurrency: Math.min(4, navigator.hardwareConcurrency || 2),
      createWorker: () => new Worker(new URL('./captcha.worker.ts', import.meta.url), { type: 'module', name: 'sign-in-check' }),
      controller,
      timeout: SOLVE_TIMEOUT_MS,
    });
  } catch {
    solution = null;
  }
  if (signal?.aborted) throw new DOMException('The sign-in check was cancelled.', 'AbortError');
  if (!solution) throw new ApiError({ status: 0, code: 'captcha_unavailable', message: 'The sign-in check could not finish in this browser. Reload the page and try again.' });
  const payload: CaptchaPayload = { challenge, solution };
  return btoa(JSON.stringify(payload));
}
