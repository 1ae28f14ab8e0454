import { keepPreviousData, useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { NO_FILTERS, isFiltered, type HistoryFilters } from '#/features/history/filters';
import { generationKeys, getGeneration, getGenerationVersions, listGenerations } from '../api';
import { findLoaded, flattenPages, reconcileOne, reconcilePage } from '../cache';

/**
 * The history, newest first, one keyset page at a time, narrowed by `filters`. The whole history is kept
 * live by useGenerationEvents and never polled; a filtered list is refetched when an event may concern it
 * (see upsertGeneration), and after 30 s when it is shown again.
 */
export function useGenerationList(filters: HistoryFilters = NO_FILTERS) {
  const filtered = isFiltered(filters);
  return useInfiniteQuery({
    queryKey: generationKeys.list(filters),
    queryFn: async ({ pageParam, signal }) => reconcilePage(await listGenerations(pageParam, filters, signal)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: flattenPages,
    staleTime: filtered ? 30_000 : Infinity,
    // While a new search runs, the previous results stay (dimmed) instead of a flash of skeletons.
    placeholderData: keepPreviousData,
  });
}

export function useGeneration(id: string, options: { enabled?: boolean } = {}) {
  const client = useQueryClient();
  return useQuery({
    queryKey: generationKeys.detail(id),
    enabled: options.enabled ?? true,
    queryFn: async ({ signal }) => reconcileOne(await getGeneration(id, signal)),
    // Opening a card shows what the grid already has, at once.
    initialData: () => findLoaded(client, id),
    staleTime: Infinity,
  });
}

/** The version graph around a generation. Kept live by useGenerationEvents (see mergeVersion). */
export function useGenerationVersions(id: string) {
  return useQuery({
    queryKey: generationKeys.versions(id),
    queryFn: ({ signal }) => getGenerationVersions(id, signal),
    staleTime: Infinity,
    retry: false,
  });
}
