import { describe, expect, it } from 'vitest';
import { ApiError } from '#/lib/api-client';
import { AUTO_WAIT_MAX_SECONDS, nextSignInStep, sameEmail } from './sign-in-flow';

const error = (code: string, status: number, details?: Record<string, unknown>) => new ApiError({ status, code, message: code, details });
const fresh = { solves: 0, waits: 0 };

describe('what the sign-in form does after a refusal', () => {
  it('solves the CAPTCHA when asked, but not endlessly', () => {
    const required = error('captcha_required', 403, { challenge_path: '/api/auth/captcha-challenge' });
    expect(nextSignInStep(required, fresh)).toEqual({ kind: 'solve' });
    expect(nextSignInStep(required, { solves: 1, waits: 0 })).toEqual({ kind: 'solve' });
    expect(nextSignInStep(required, { solves: 2, waits: 0 })).toEqual({ kind: 'fail' });
  });

  it('sits out short per-email delays, and shows long ones', () => {
    expect(nextSignInStep(error('rate_limited', 429, { retry_after_seconds: 1 }), fresh)).toEqual({ kind: 'wait', seconds: 1 });
    expect(nextSignInStep(error('rate_limited', 429, { retry_after_seconds: AUTO_WAIT_MAX_SECONDS }), fresh)).toEqual({ kind: 'wait', seconds: AUTO_WAIT_MAX_SECONDS });
    expect(nextSignInStep(error('rate_limited', 429, { retry_after_seconds: 16 }), fresh)).toEqual({ kind: 'fail' });
    expect(nextSignInStep(error('rate_limited', 429), fresh)).toEqual({ kind: 'fail' });
    expect(nextSignInStep(error('rate_limited', 429, { retry_after_seconds: 2 }), { solves: 0, waits: 2 })).toEqual({ kind: 'fail' });
  });

  it('shows everything else at once', () => {
    for (const e of [error('INVALID_EMAIL_OR_PASSWORD', 401), error('account_locked', 423), error('network_error', 0), new Error('boom')]) expect(nextSignInStep(e, fresh)).toEqual({ kind: 'fail' });
  });

  it('remembers the CAPTCHA per email as the server counts them', () => {
    expect(sameEmail(' Ada@Example.com ', 'ada@example.com')).toBe(true);
    expect(sameEmail('ada@example.com', 'bob@example.com')).toBe(false);
    expect(sameEmail(null, 'ada@example.com')).toBe(false);
  });
});
