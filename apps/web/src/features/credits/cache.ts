import type { QueryClient } from '@tanstack/react-query';
import { creditBalanceSchema, type Account, type CreditBalance } from '@atelier/contracts';
import { billingKeys } from '#/features/billing/api';
import { creditKeys } from './api';

/** The balance carried by a `credits.updated` event, or null for a malformed one. */
export function parseCreditsEvent(data: string): CreditBalance | null {
  try {
    const parsed = creditBalanceSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The account with a new balance; the same object when nothing changed (so nothing re-renders). */
export function withBalance(account: Account, balance: CreditBalance): Account {
  if (account.credits.available === balance.available && account.credits.held === balance.held) return account;
  return { ...account, credits: { available: balance.available, held: balance.held } };
}

/**
 * A pushed balance: shown at once wherever the account is shown. The history and payments lists that
 * are on screen are refetched (a purchase or a charge added a line); others just go stale.
 */
export async function applyBalance(client: QueryClient, balance: CreditBalance): Promise<void> {
  if (client.getQueryData<Account>(creditKeys.account)) {
    // A request already in flight may answer with the balance from before this event: drop it.
    await client.cancelQueries({ queryKey: creditKeys.account, exact: true });
    client.setQueryData<Account>(creditKeys.account, (account) => (account ? withBalance(account, balance) : account));
  } else {
    await client.invalidateQueries({ queryKey: creditKeys.account, exact: true });
  }
  await Promise.all([client.invalidateQueries({ queryKey: creditKeys.transactions }), client.invalidateQueries({ queryKey: billingKeys.all })]);
}

/** When the event stream (re)opens: changes before it was open reached no one, so ask again. */
export async function resyncCredits(client: QueryClient): Promise<void> {
  await Promise.all([client.invalidateQueries({ queryKey: creditKeys.account, exact: true }), client.invalidateQueries({ queryKey: creditKeys.transactions })]);
}
