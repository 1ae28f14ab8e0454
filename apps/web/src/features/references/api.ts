import { uploadPageSchema, uploadSchema } from '@atelier/contracts';
import { request, uploadFile } from '#/lib/api-client';

export const uploadKeys = {
  all: ['uploads'] as const,
  recent: () => ['uploads', 'recent'] as const,
};

/** Uploads one reference image; the server validates it by content, re-encodes and stores it. */
export function uploadReference(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal) {
  return uploadFile('/api/uploads', file, { schema: uploadSchema, onProgress, signal });
}

export function listUploads(limit: number, signal?: AbortSignal) {
  return request(`/api/uploads?${new URLSearchParams({ limit: String(limit) })}`, { schema: uploadPageSchema, signal });
}
