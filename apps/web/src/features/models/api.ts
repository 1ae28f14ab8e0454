import { queryOptions } from '@tanstack/react-query';
import { modelListSchema } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const modelsQuery = queryOptions({
  queryKey: ['models'] as const,
  queryFn: async ({ signal }) => (await request('/api/models', { schema: modelListSchema, signal })).data,
  staleTime: 10 * 60_000,
});
