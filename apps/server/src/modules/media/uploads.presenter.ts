import type { Upload } from '@atelier/contracts';
import type { UploadRow } from '#src/db/schema.ts';

/** `basePath` is the surface's prefix (/api or /v1): each surface links to its own routes. */
export function presentUpload(row: UploadRow, basePath: string): Upload {
  const url = `${basePath}/uploads/${row.id}`;
  return {
    id: row.id,
    width: row.width,
    height: row.height,
    format: row.format,
    bytes: row.bytes,
    url,
    thumbnail_url: `${url}/thumbnail`,
    created_at: row.created_at.toISOString(),
  };
}
