import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiKey, CreateApiKey } from '@atelier/contracts';
import { apiKeysQuery, createApiKey, revokeApiKey } from '../api';

export function useApiKeys() {
  return useQuery(apiKeysQuery);
}

export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateApiKey) => createApiKey(input),
    onSuccess: ({ key: _secret, ...created }) => {
      // The secret never enters the cache: only the mutation result holds it, until the dialog closes.
      client.setQueryData<ApiKey[]>(apiKeysQuery.queryKey, (keys) => (keys ? [created, ...keys] : keys));
      void client.invalidateQueries({ queryKey: apiKeysQuery.queryKey });
    },
  });
}

export function useRevokeApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => revokeApiKey(id),
    onSuccess: (_, id) => client.setQueryData<ApiKey[]>(apiKeysQuery.queryKey, (keys) => keys?.filter((k) => k.id !== id)),
  });
}
