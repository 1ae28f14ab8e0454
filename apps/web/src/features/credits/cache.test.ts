import { describe, expect, it } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import type { Account } from '@atelier/contracts';
import { creditKeys } from './api';
import { applyBalance, parseCreditsEvent, withBalance } from './cache';
import { signedCredits } from './amounts';

const account: Account = {
  id: 'u1', email: 'a@example.com', name: 'A', credits: { available: 10, held: 0 },
  plan: { id: 'free', name: 'Free', status: 'free', limits: { max_megapixels: 4, max_concurrent_generations: 16 } }, payments_enabled: true,
} as Account;

describe('credits.updated', () => {
  it('parses the balance and refuses anything else', () => {
    expect(parseCreditsEvent('{"available":500,"held":2}')).toEqual({ available: 500, held: 2 });
    expect(parseCreditsEvent('{"available":-1,"held":0}')).toBeNull();
    expect(parseCreditsEvent('not json')).toBeNull();
  });

  it('keeps the same object when nothing changed', () => {
    expect(withBalance(account, { available: 10, held: 0 })).toBe(account);
    expect(withBalance(account, { available: 9, held: 1 }).credits).toEqual({ available: 9, held: 1 });
  });

  it('puts the pushed balance into the cached account without a request', async () => {
    const client = new QueryClient();
    client.setQueryData(creditKeys.account, account);
    await applyBalance(client, { available: 499, held: 1 });
    expect(client.getQueryData<Account>(creditKeys.account)?.credits).toEqual({ available: 499, held: 1 });
    expect(client.getQueryData<Account>(creditKeys.account)?.plan.name).toBe('Free');
  });
});

describe('signedCredits', () => {
  it('signs with a real minus and says which way it went', () => {
    expect(signedCredits(500)).toEqual({ text: '+500', tone: 'plus' });
    expect(signedCredits(-1234)).toEqual({ text: '−1,234', tone: 'minus' });
  });
});
