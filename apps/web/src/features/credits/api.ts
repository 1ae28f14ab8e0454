import { queryOptions } from '@tanstack/react-query';
import { accountSchema, creditTransactionListSchema } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const TRANSACTIONS_PAGE_SIZE = 25;

export const creditKeys = {
  account: ['account'] as const,
  transactions: ['credits', 'transactions'] as const,
};

/** The account with its balance and plan. Kept current by `credits.updated` events (see cache.ts), never polled. */
export const accountQuery = queryOptions({
  queryKey: creditKeys.account,
  queryFn: ({ signal }) => request('/api/account', { schema: accountSchema, signal }),
  staleTime: Infinity,
});

export function listCreditTransactions(cursor: string | null, signal?: AbortSignal) {
  const params = new URLSearchParams({ limit: String(TRANSACTIONS_PAGE_SIZE) });
  if (cursor) params.set('cursor', cursor);
  return request(`/api/credits/transactions?${params}`, { schema: creditTransactionListSchema, signal });
}
