import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CreateGenerationInput } from '@atelier/contracts';
import { newUuid } from '#/lib/ids';
import { cancelGeneration, createGeneration, deleteGeneration } from '../api';
import { removeGeneration, upsertGeneration } from '../cache';

export function useCreateGeneration() {
  const client = useQueryClient();
  return useMutation({
    // A fresh key per click: a retried request (same click) is deduplicated, a second click is a second image.
    mutationFn: (input: CreateGenerationInput) => createGeneration(input, newUuid()),
    onSuccess: (generation) => upsertGeneration(client, generation),
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
    onSuccess: (_, id) => removeGeneration(client, id),
  });
}
