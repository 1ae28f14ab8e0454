import { describe, expect, it } from 'vitest';
import type { Subscription } from '@atelier/contracts';
import { formatMoney, formatPrice, isEntitled, subscriptionNotice } from './money';

describe('formatMoney', () => {
  it('reads Stripe amounts as minor units of the currency', () => {
    expect(formatMoney(500, 'usd', 'en-US')).toBe('$5.00');
    expect(formatMoney(1999, 'eur', 'en-US')).toBe('€19.99');
    expect(formatMoney(123456, 'usd', 'en-US')).toBe('$1,234.56');
  });

  it('has no decimals for zero-decimal currencies (500 yen is ¥500, not ¥5)', () => {
    expect(formatMoney(500, 'jpy', 'en-US')).toBe('¥500');
  });

  it('follows the locale', () => {
    expect(formatMoney(1999, 'eur', 'de-DE')).toBe('19,99\u00a0€');
  });
});

describe('formatPrice', () => {
  it('adds the interval of a recurring price', () => {
    expect(formatPrice({ amount: 1900, currency: 'usd', interval: 'month' }, 'en-US')).toBe('$19.00 / month');
    expect(formatPrice({ amount: 500, currency: 'usd', interval: null }, 'en-US')).toBe('$5.00');
  });

  it('is null when the price is unknown', () => {
    expect(formatPrice(null)).toBeNull();
  });
});

describe('subscription status', () => {
  const sub = (patch: Partial<Subscription>): Subscription => ({ id: 'sub_1', plan_id: 'pro', plan_name: 'Pro', status: 'active', current_period_end: '2030-03-01T00:00:00.000Z', cancel_at_period_end: false, ...patch });
  const date = (iso: string) => iso.slice(0, 10);

  it('warns about a failed payment (past_due) and keeps the plan', () => {
    expect(subscriptionNotice(sub({ status: 'past_due' }), date)?.tone).toBe('warning');
    expect(isEntitled(sub({ status: 'past_due' }))).toBe(true);
  });

  it('says when a canceled-at-period-end plan ends', () => {
    expect(subscriptionNotice(sub({ cancel_at_period_end: true }), date)?.text).toContain('ends on 2030-03-01');
  });

  it('says nothing for an active plan, and an ended one is not entitled', () => {
    expect(subscriptionNotice(sub({}), date)).toBeNull();
    expect(isEntitled(sub({ status: 'canceled' }))).toBe(false);
    expect(isEntitled(null)).toBe(false);
  });
});
