import { generationPageSchema, kitListSchema, kitSchema, uploadPageSchema, uploadSchema, uploadUsageSchema, type CreateKitInput, type UpdateKitInput } from '@atelier/contracts';
import { request, uploadFile } from '#/lib/api-client';

export const uploadKeys = {
  all: ['uploads'] as const,
  recent: () => ['uploads', 'recent'] as const,
  library: () => ['uploads', 'library'] as const,
  usage: () => ['uploads', 'usage'] as const,
};

export const kitKeys = {
  all: ['kits'] as const,
};

/** The library's "Generated" tab: finished images only, newest first. */
export const libraryGeneratedKey = ['library', 'generated'] as const;

export const LIBRARY_PAGE_SIZE = 30;

/** Uploads one reference image; the server validates it by content, re-encodes and stores it. */
export function uploadReference(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal) {
  return uploadFile('/api/uploads', file, { schema: uploadSchema, onProgress, signal });
}

export function listUploads(limit: number, signal?: AbortSignal, cursor?: string | null) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  return request(`/api/uploads?${params}`, { schema: uploadPageSchema, signal });
}

export function getUploadUsage(signal?: AbortSignal) {
  return request('/api/uploads/usage', { schema: uploadUsageSchema, signal });
}

export function deleteUpload(id: string) {
  return request(`/api/uploads/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export function listSucceededGenerations(cursor: string | null, signal?: AbortSignal) {
  const params = new URLSearchParams({ limit: String(LIBRARY_PAGE_SIZE), status: 'succeeded' });
  if (cursor) params.set('cursor', cursor);
  return request(`/api/generations?${params}`, { schema: generationPageSchema, signal });
}

export function listKits(signal?: AbortSignal) {
  return request('/api/kits', { schema: kitListSchema, signal });
}

export function createKit(input: CreateKitInput) {
  return request('/api/kits', { method: 'POST', body: input, schema: kitSchema });
}

export function updateKit(id: string, input: UpdateKitInput) {
  return request(`/api/kits/${encodeURIComponent(id)}`, { method: 'PATCH', body: input, schema: kitSchema });
}

export function deleteKit(id: string) {
  return request(`/api/kits/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
