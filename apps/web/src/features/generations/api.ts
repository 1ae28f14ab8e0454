import { generationPageSchema, generationSchema, generationVersionsSchema, type CreateGenerationInput, type Generation, type OutputFormat } from '@atelier/contracts';
import { request } from '#/lib/api-client';

export const PAGE_SIZE = 30;

export const generationKeys = {
  all: ['generations'] as const,
  list: () => ['generations', 'list'] as const,
  detail: (id: string) => ['generations', 'detail', id] as const,
  versions: (id: string) => ['generations', 'versions', id] as const,
};

export function listGenerations(cursor: string | null, signal?: AbortSignal) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) params.set('cursor', cursor);
  return request(`/api/generations?${params}`, { schema: generationPageSchema, signal });
}

export function getGeneration(id: string, signal?: AbortSignal) {
  return request(`/api/generations/${encodeURIComponent(id)}`, { schema: generationSchema, signal });
}

/** The version graph around a generation: everything linked to it by refinement, and the links. */
export function getGenerationVersions(id: string, signal?: AbortSignal) {
  return request(`/api/generations/${encodeURIComponent(id)}/versions`, { schema: generationVersionsSchema, signal });
}

export function createGeneration(input: CreateGenerationInput, idempotencyKey: string) {
  return request('/api/generations', {
    method: 'POST',
    body: input,
    headers: { 'Idempotency-Key': idempotencyKey },
    schema: generationSchema,
  });
}

export function cancelGeneration(id: string) {
  return request(`/api/generations/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {}, schema: generationSchema });
}

export function deleteGeneration(id: string) {
  return request(`/api/generations/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Download link for an image: the original, or converted by the server when a format is given. */
export function downloadUrl(url: string, format?: OutputFormat): string {
  const params = new URLSearchParams({ download: '1' });
  if (format) params.set('format', format);
  return `${url}${url.includes('?') ? '&' : '?'}${params}`;
}

export function downloadFileName(generation: Generation, format: OutputFormat): string {
  const slug = generation.prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';
  return `atelier-${slug}-${generation.id.slice(0, 8)}.${format === 'jpeg' ? 'jpg' : format}`;
}
