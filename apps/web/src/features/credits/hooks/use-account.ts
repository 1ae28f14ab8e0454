import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { accountQuery, creditKeys, listCreditTransactions } from '../api';

/** The signed-in account: balance, plan and whether payments are on. Live through `credits.updated`. */
export function useAccount() {
  return useQuery(accountQuery);
}

/** Every credit movement, newest first, one keyset page at a time. */
export function useCreditTransactions() {
  return useInfiniteQuery({
    queryKey: creditKeys.transactions,
    queryFn: ({ pageParam, signal }) => listCreditTransactions(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: (data) => ({ items: data.pages.flatMap((p) => p.data), hasMore: data.pages.at(-1)?.next_cursor != null }),
  });
}
