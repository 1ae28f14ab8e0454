import { describe, expect, it } from 'vitest';
import type { CreditTransaction, Subscription } from '@atelier/contracts';
import { checkoutReturn } from './checkout-return';

const tx = (patch: Partial<CreditTransaction>): CreditTransaction => ({
  id: 't1', created_at: '2030-01-01T00:00:00.000Z', kind: 'purchase', description: 'Bought Starter pack', available_change: 500, held_change: 0, generation_id: null, reference: 'cs_1', expires_at: null, ...patch,
});
const base = { pending: null, transactions: [], baseline: 0, available: 0, subscription: null };

describe('checkoutReturn', () => {
  it('is nothing without ?checkout, and canceled for ?checkout=canceled', () => {
    expect(checkoutReturn({ ...base, param: null })).toBeNull();
    expect(checkoutReturn({ ...base, param: 'canceled' })).toEqual({ state: 'canceled' });
  });

  it('waits until the purchase of this Checkout Session is in the history', () => {
    expect(checkoutReturn({ ...base, param: 'cs_1', transactions: [tx({ reference: 'cs_other' })] })).toEqual({ state: 'waiting' });
    expect(checkoutReturn({ ...base, param: 'cs_1', transactions: [tx({ kind: 'hold', reference: null, available_change: -1 }), tx({})] })).toEqual({ state: 'arrived', credits: 500, plan: null });
  });

  it('counts a balance that rose while waiting (a purchase pushed over the event stream)', () => {
    expect(checkoutReturn({ ...base, param: 'cs_1', baseline: 10, available: 10 })).toEqual({ state: 'waiting' });
    expect(checkoutReturn({ ...base, param: 'cs_1', baseline: 10, available: 510 })).toEqual({ state: 'arrived', credits: 500, plan: null });
    expect(checkoutReturn({ ...base, param: 'cs_1', baseline: 10, available: 9 })).toEqual({ state: 'waiting' });
  });

  it('a plan is there once its subscription is, for the plan that was bought', () => {
    const subscription: Subscription = { id: 'sub_1', plan_id: 'pro', plan_name: 'Pro', status: 'active', current_period_end: null, cancel_at_period_end: false };
    const pending = { kind: 'plan' as const, id: 'pro', name: 'Pro', credits: 2000 };
    expect(checkoutReturn({ ...base, param: 'cs_2', pending, subscription })).toEqual({ state: 'arrived', credits: null, plan: 'Pro' });
    expect(checkoutReturn({ ...base, param: 'cs_2', pending: { ...pending, id: 'studio' }, subscription })).toEqual({ state: 'waiting' });
    expect(checkoutReturn({ ...base, param: 'cs_2', pending, subscription: { ...subscription, status: 'incomplete' } })).toEqual({ state: 'waiting' });
  });
});
