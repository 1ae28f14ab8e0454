import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateKitInput, Generation, Kit, UpdateKitInput, Upload } from '@atelier/contracts';
import {
  LIBRARY_PAGE_SIZE,
  createKit,
  deleteKit,
  deleteUpload,
  getUploadUsage,
  kitKeys,
  libraryGeneratedKey,
  listKits,
  listSucceededGenerations,
  listUploads,
  updateKit,
  uploadKeys,
} from '../api';
import { removeReferencesById } from '../reference-store';

/** One image the "Generated" tab offers: an output of a finished generation. */
export interface GeneratedImage {
  id: string;
  thumbnailUrl: string;
  width: number;
  height: number;
  prompt: string;
}

/** The user's uploads, newest first, a page at a time ("Load more"). */
export function useLibraryUploads(enabled: boolean) {
  return useInfiniteQuery({
    queryKey: uploadKeys.library(),
    queryFn: ({ pageParam, signal }) => listUploads(LIBRARY_PAGE_SIZE, signal, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: (data): Upload[] => data.pages.flatMap((p) => p.data),
    enabled,
    // Uploads made from the tray since the library was last open must show up.
    staleTime: 0,
  });
}

export function useUploadUsage(enabled: boolean) {
  return useQuery({ queryKey: uploadKeys.usage(), queryFn: ({ signal }) => getUploadUsage(signal), enabled, staleTime: 0 });
}

/** Images of the user's finished generations, newest first. The server filters by status; this re-checks. */
export function useLibraryGenerated(enabled: boolean) {
  return useInfiniteQuery({
    queryKey: libraryGeneratedKey,
    queryFn: ({ pageParam, signal }) => listSucceededGenerations(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: (data): GeneratedImage[] => data.pages.flatMap((p) => p.data.flatMap(imagesOf)),
    enabled,
    staleTime: 0,
  });
}

function imagesOf(g: Generation): GeneratedImage[] {
  if (g.status !== 'succeeded') return [];
  return g.images.map((image) => ({ id: image.id, thumbnailUrl: image.thumbnail_url, width: image.width, height: image.height, prompt: g.prompt }));
}

export function useKits(enabled: boolean) {
  return useQuery({ queryKey: kitKeys.all, queryFn: ({ signal }) => listKits(signal), select: (list): Kit[] => list.data, enabled, staleTime: 0 });
}

export function useKitMutations() {
  const client = useQueryClient();
  const refresh = () => client.invalidateQueries({ queryKey: kitKeys.all });
  const create = useMutation({ mutationFn: (input: CreateKitInput) => createKit(input), onSuccess: refresh });
  const update = useMutation({ mutationFn: ({ id, input }: { id: string; input: UpdateKitInput }) => updateKit(id, input), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (id: string) => deleteKit(id), onSuccess: refresh });
  return { create, update, remove };
}

/** Deletes an upload for good: it leaves the library, the tray and every kit that held it. */
export function useDeleteUpload() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteUpload(id),
    onSuccess: (_result, id) => {
      removeReferencesById(id);
      void client.invalidateQueries({ queryKey: uploadKeys.all });
      void client.invalidateQueries({ queryKey: kitKeys.all });
    },
  });
}
