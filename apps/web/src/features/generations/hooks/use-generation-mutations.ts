import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { BulkGenerationsInput, CreateGenerationInput, Generation } from '@atelier/contracts';
import { collectionKeys } from '#/features/collections/api';
import { newUuid } from '#/lib/ids';
import { bulkGenerations, cancelGeneration, createGeneration, deleteGeneration, generationKeys, setFavorite } from '../api';
import { invalidateFilteredLists, patchGenerations, removeGeneration, upsertGeneration } from '../cache';

/** Every create (panel, Re-run, Vary) shares this key, so the history can tell what was just made here. */
export const CREATE_GENERATION_KEY = ['generations', 'create'] as const;

export function useCreateGeneration() {
  const client = useQueryClient();
  return useMutation({
    mutationKey: CREATE_GENERATION_KEY,
    // A fresh key per click: a retried request (same click) is deduplicated, a second click is a second image.
    mutationFn: (input: CreateGenerationInput) => createGeneration(input, newUuid()),
    // The rest of a batch (count > 1) arrives over the event stream.
    onSuccess: ({ batch: _batch, ...generation }) => upsertGeneration(client, generation),
  });
}

export function useCancelGeneration() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => cancelGeneration(id),
    onSuccess: (generation) => upsertGeneration(client, generation),
  });
}

export function useDeleteGeneration() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteGeneration(id),
    onSuccess: (_, id) => {
      removeGeneration(client, id);
      void client.invalidateQueries({ queryKey: collectionKeys.all });
    },
  });
}

/**
 * The star: shown at once everywhere the generation appears, put back if the server refuses. A list
 * filtered to favourites keeps an unstarred card until it is next fetched, so a slip can be undone.
 */
export function useToggleFavorite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, favorite }: { id: string; favorite: boolean }) => setFavorite(id, favorite),
    onMutate: ({ id, favorite }) => {
      patchGenerations(client, new Set([id]), (g) => ({ ...g, favorite }));
    },
    onError: (_error, { id, favorite }) => {
      patchGenerations(client, new Set([id]), (g) => ({ ...g, favorite: !favorite }));
    },
    onSuccess: (generation) => {
      upsertGeneration(client, generation);
      markFavoriteListsStale(client);
    },
  });
}

function markFavoriteListsStale(client: ReturnType<typeof useQueryClient>) {
  void client.invalidateQueries({
    queryKey: generationKeys.lists(),
    predicate: (q) => typeof q.queryKey[2] === 'string' && q.queryKey[2].includes('favorite=true'),
    refetchType: 'none',
  });
}

/** What a bulk action does to one generation, so the caches can show it without refetching everything. */
function localEffect(input: BulkGenerationsInput): ((g: Generation) => Generation) | null {
  const without = (list: string[], id: string) => list.filter((c) => c !== id);
  switch (input.action) {
    case 'delete':
      return null;
    case 'favorite':
    case 'unfavorite':
      return (g) => ({ ...g, favorite: input.action === 'favorite' });
    case 'add_to_collection':
      return (g) => (g.collection_ids.includes(input.collection_id) ? g : { ...g, collection_ids: [...g.collection_ids, input.collection_id] });
    case 'remove_from_collection':
      return (g) => ({ ...g, collection_ids: without(g.collection_ids, input.collection_id) });
    case 'move_to_collection':
      return (g) => ({ ...g, collection_ids: [...without(without(g.collection_ids, input.from_collection_id), input.collection_id), input.collection_id] });
  }
}

/**
 * One action over many generations. The answer is only a count, so the change is applied to the cached
 * copies here; filtered lists (which it may add to or empty) and collection counts are refetched.
 */
export function useBulkAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: BulkGenerationsInput) => bulkGenerations(input),
    onSuccess: async (_result, input) => {
      const effect = localEffect(input);
      if (effect) patchGenerations(client, new Set(input.ids), effect);
      else for (const id of input.ids) removeGeneration(client, id);
      await Promise.all([invalidateFilteredLists(client), client.invalidateQueries({ queryKey: collectionKeys.all })]);
    },
  });
}
