import {
  bulkResultSchema,
  createGenerationResponseSchema,
  generationPageSchema,
  generationSchema,
  generationVersionsSchema,
  type BulkGenerationsInput,
  type CreateGenerationInput,
  type CreateGenerationResponse,
  type Generation,
  type OutputFormat,
} from '@atelier/contracts';
import { request } from '#/lib/api-client';
import { NO_FILTERS, filtersKey, filtersToApiParams, type HistoryFilters } from '#/features/history/filters';

export const PAGE_SIZE = 30;

export const generationKeys = {
  all: ['generations'] as const,
  /** Every history list, whatever its filters. */
  lists: () => ['generations', 'list'] as const,
  /** One list: the filters' URL form is the last part ('' for the whole history). */
  list: (filters: HistoryFilters = NO_FILTERS) => ['generations', 'list', filtersKey(filters)] as const,
  detail: (id: string) => ['generations', 'detail', id] as const,
  versions: (id: string) => ['generations', 'versions', id] as const,
};

export function listGenerations(cursor: string | null, filters: HistoryFilters = NO_FILTERS, signal?: AbortSignal) {
  const params = filtersToApiParams(filters);
  params.set('limit', String(PAGE_SIZE));
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

// `batch` is read leniently: a server from before variations answers without it, meaning a batch of one.
const createdSchema = createGenerationResponseSchema.partial({ batch: true });

/** Answers the first generation of the request, with `batch`: the ids of all it made (count > 1). */
export async function createGeneration(input: CreateGenerationInput, idempotencyKey: string): Promise<CreateGenerationResponse> {
  const created = await request('/api/generations', {
    method: 'POST',
    body: input,
    headers: { 'Idempotency-Key': idempotencyKey },
    schema: createdSchema,
  });
  return { ...created, batch: created.batch ?? [created.id] };
}

export function setFavorite(id: string, favorite: boolean) {
  return request(`/api/generations/${encodeURIComponent(id)}`, { method: 'PATCH', body: { favorite }, schema: generationSchema });
}

export function bulkGenerations(input: BulkGenerationsInput) {
  return request('/api/generations/bulk', { method: 'POST', body: input, schema: bulkResultSchema });
}

export function cancelGeneration(id: string) {
  return request(`/api/generations/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {}, schema: generationSchema });
}

export function deleteGeneration(id: string) {
  return request(`/api/generations/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Download link for an image: the original, or converted (and narrowed to `width` px) by the server. */
export function downloadUrl(url: string, format?: OutputFormat, width?: number): string {
  const params = new URLSearchParams();
  if (format) params.set('format', format);
  if (width) params.set('width', String(width));
  params.set('download', '1');
  return `${url}${url.includes('?') ? '&' : '?'}${params}`;
}

export function downloadFileName(generation: Generation, format: OutputFormat, width?: number): string {
  const slug = generation.prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';
  return `atelier-${slug}-${generation.id.slice(0, 8)}${width ? `-${width}w` : ''}.${format === 'jpeg' ? 'jpg' : format}`;
}

/** The most generations one ZIP link carries (the API's limit: the ids travel in the URL). */
export { MAX_ZIP_IDS } from '@atelier/contracts';

/** A ZIP of the chosen generations' images and a manifest.json; `format` converts every image. */
export function selectionZipUrl(ids: readonly string[], format?: OutputFormat): string {
  const params = new URLSearchParams({ ids: ids.join(',') });
  if (format) params.set('format', format);
  return `/api/generations/download?${params}`;
}
