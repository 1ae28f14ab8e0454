import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { generationKeys, getGeneration, getGenerationVersions, listGenerations } from '../api';
import { flattenPages, reconcileOne, reconcilePage, type GenerationPages } from '../cache';

/** The history, newest first, one keyset page at a time. Kept live by useGenerationEvents, never polled. */
export function useGenerationList() {
  return useInfiniteQuery({
    queryKey: generationKeys.list(),
    queryFn: async ({ pageParam, signal }) => reconcilePage(await listGenerations(pageParam, signal)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: flattenPages,
    staleTime: Infinity,
  });
}

export function useGeneration(id: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: generationKeys.detail(id),
    queryFn: async ({ signal }) => reconcileOne(await getGeneration(id, signal)),
    // Opening a card shows what the grid already has, at once.
    initialData: () => flattenPages(client.getQueryData<GenerationPages>(generationKeys.list())).find((g) => g.id === id),
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
