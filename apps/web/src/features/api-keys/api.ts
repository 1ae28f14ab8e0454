import { queryOptions } from '@tanstack/react-query';
import { apiKeyCreatedSchema, apiKeyListSchema, type CreateApiKey } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const apiKeysQuery = queryOptions({
  queryKey: ['api-keys'] as const,
  queryFn: async ({ signal }) => (await request('/api/api-keys', { schema: apiKeyListSchema, signal })).data,
});

export function createApiKey(input: CreateApiKey) {
  return request('/api/api-keys', { method: 'POST', body: input, schema: apiKeyCreatedSchema });
}

export function revokeApiKey(id: string) {
  return request(`/api/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
