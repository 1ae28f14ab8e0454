import type { Kit } from '@atelier/contracts';
import type { KitWithItems } from './kits.repository.ts';

/** `basePath` is the surface's prefix (/api or /v1): each surface links to its own thumbnails. */
export function presentKit({ row, items }: KitWithItems, basePath: string): Kit {
  return {
    id: row.id,
    name: row.name,
    references: items.map((item) => ({
      id: item.id,
      kind: item.kind,
      width: item.width,
      height: item.height,
      thumbnail_url: `${basePath}/${item.kind === 'upload' ? 'uploads' : 'images'}/${item.id}/thumbnail`,
    })),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
