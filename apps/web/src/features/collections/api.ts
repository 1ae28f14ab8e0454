import { collectionListSchema, collectionSchema, type OutputFormat } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const collectionKeys = {
  all: ['collections'] as const,
};

export function listCollections(signal?: AbortSignal) {
  return request('/api/collections', { schema: collectionListSchema, signal });
}

export function createCollection(name: string) {
  return request('/api/collections', { method: 'POST', body: { name }, schema: collectionSchema });
}

export function renameCollection(id: string, name: string) {
  return request(`/api/collections/${encodeURIComponent(id)}`, { method: 'PATCH', body: { name }, schema: collectionSchema });
}

export function deleteCollection(id: string) {
  return request(`/api/collections/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** A ZIP of every image in the collection, with manifest.json; `format` converts them all. */
export function collectionZipUrl(id: string, format?: OutputFormat): string {
  const params = new URLSearchParams();
  if (format) params.set('format', format);
  const query = params.toString();
  return `/api/collections/${encodeURIComponent(id)}/download${query ? `?${query}` : ''}`;
}
