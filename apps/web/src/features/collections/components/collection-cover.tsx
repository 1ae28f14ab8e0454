import type { Collection } from '@atelier/contracts';
import { FolderIcon } from '#/features/history/icons';

/** The collection's newest image, or a folder when it is empty. */
export function CollectionCover({ collection, size }: { collection: Collection; size: number }) {
  return (
    <span className="collection-cover" style={{ width: size, height: size }} aria-hidden="true">
      {collection.cover_thumbnail_url ? <img src={collection.cover_thumbnail_url} alt="" loading="lazy" /> : <FolderIcon size={Math.round(size * 0.45)} />}
    </span>
  );
}
