import { describe, expect, it } from 'vitest';
import { ApiError } from '#/lib/api-client';
import { describeAdmissionError, formatWait } from './admission';

const refusal = (status: number, code: string, details: Record<string, unknown>, message = 'server message') => new ApiError({ status, code, message, details });

describe('describeAdmissionError', () => {
  it('insufficient credits: what it costs, what there is, and where to buy', () => {
    const m = describeAdmissionError(refusal(402, 'insufficient_credits', { required: 12, available: 3 }));
    expect(m?.title).toBe('Not enough credits');
    expect(m?.description).toContain('This costs 12 credits and you have 3 available.');
    expect(m?.action).toEqual({ label: 'Buy credits', to: '/billing' });
  });

  it('without payments, points at the allowance and the operator instead of buying', () => {
    const m = describeAdmissionError(refusal(402, 'insufficient_credits', { required: 1, available: 0 }), { paymentsEnabled: false });
    expect(m?.description).toContain('monthly free allowance');
    expect(m?.description).not.toMatch(/buy/i);
    expect(m?.action?.label).toBe('Billing & credits');
  });

  it('concurrency: the limit, how many are running, when it resets, how to raise it', () => {
    const m = describeAdmissionError(refusal(429, 'concurrency_limit', { limit: 'max_concurrent_generations', allowed: 2, active: 2, plan: 'Free', resets: 'when one of your generations finishes', how_to_raise: 'upgrade your plan (Billing)' }));
    expect(m?.title).toBe('Too many generations at once');
    expect(m?.description).toBe('Your Free plan runs 2 at once and 2 are queued or running. You can start more when one of your generations finishes, or upgrade your plan to run more in parallel.');
    expect(m?.action?.to).toBe('/billing');
  });

  it("an API key's own concurrency cap is not raised by a plan", () => {
    const m = describeAdmissionError(refusal(429, 'concurrency_limit', { limit: 'api_key_max_concurrent', allowed: 4, active: 4, resets: 'when one of this key’s generations finishes' }));
    expect(m?.action).toBeNull();
    expect(m?.description).not.toContain('upgrade');
  });

  it('plan limit: the allowed and requested megapixels, and the plans', () => {
    const m = describeAdmissionError(refusal(403, 'plan_limit', { limit: 'max_megapixels', allowed: 4, requested: 6, plan: 'Free' }));
    expect(m?.description).toBe('Your Free plan makes images up to 4 MP; this one is 6 MP. Choose a smaller size, or upgrade your plan for larger images.');
    expect(m?.action?.label).toBe('See plans');
  });

  it('rate limit: the rule and when to try again, no billing link', () => {
    const m = describeAdmissionError(refusal(429, 'rate_limited', { limit: 'new generations', per: 'account', max: 30, window_seconds: 60, retry_after_seconds: 75, how_to_raise: 'ask the operator to raise RATE_LIMIT_GENERATIONS_PER_MINUTE' }));
    expect(m?.description).toBe('At most 30 new generations per minute. You can try again in 2 minutes; to raise the limit, ask the operator to raise RATE_LIMIT_GENERATIONS_PER_MINUTE.');
    expect(m?.action).toBeNull();
  });

  it('falls back to the server message when details are missing, and ignores other errors', () => {
    expect(describeAdmissionError(refusal(429, 'rate_limited', {}, 'Too many requests. Try again in 1 minute.'))?.description).toBe('Too many requests. Try again in 1 minute.');
    expect(describeAdmissionError(refusal(400, 'validation_failed', {}))).toBeNull();
    expect(describeAdmissionError(new Error('boom'))).toBeNull();
  });
});

describe('formatWait', () => {
  it('reads like a person would say it', () => {
    expect(formatWait(1)).toBe('1 second');
    expect(formatWait(45)).toBe('45 seconds');
    expect(formatWait(60)).toBe('1 minute');
    expect(formatWait(3600)).toBe('1 hour');
    expect(formatWait(3900)).toBe('1 hour 5 minutes');
  });
});
