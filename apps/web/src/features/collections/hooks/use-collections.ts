import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Collection } from '@atelier/contracts';
import { invalidateFilteredLists, patchGenerations } from '#/features/generations/cache';
import { collectionKeys, createCollection, deleteCollection, listCollections, renameCollection } from '../api';

/** The user's collections, by name. */
export function useCollections() {
  return useQuery({
    queryKey: collectionKeys.all,
    queryFn: async ({ signal }) => (await listCollections(signal)).data.slice().sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' })),
    staleTime: 60_000,
  });
}

function putCollection(list: Collection[] | undefined, collection: Collection): Collection[] | undefined {
  if (!list) return list;
  const rest = list.filter((c) => c.id !== collection.id);
  return [...rest, collection].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}

export function useCreateCollection() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => createCollection(name),
    onSuccess: (collection) => client.setQueryData<Collection[]>(collectionKeys.all, (list) => putCollection(list, collection)),
  });
}

export function useRenameCollection() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) => renameCollection(id, name),
    onSuccess: (collection) => client.setQueryData<Collection[]>(collectionKeys.all, (list) => putCollection(list, collection)),
  });
}

/** Deletes the collection only: its generations stay, they just stop listing it. */
export function useDeleteCollection() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteCollection(id),
    onSuccess: (_, id) => {
      client.setQueryData<Collection[]>(collectionKeys.all, (list) => list?.filter((c) => c.id !== id));
      patchGenerations(client, 'all', (g) => (g.collection_ids.includes(id) ? { ...g, collection_ids: g.collection_ids.filter((c) => c !== id) } : g));
      // A list filtered to this collection now asks for one that is gone: refetch it to its empty state.
      void invalidateFilteredLists(client);
    },
  });
}
