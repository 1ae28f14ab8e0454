import { useState } from 'react';
import { OUTPUT_FORMATS, type Collection, type Generation } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { CloseIcon, DownloadIcon, TrashIcon } from '#/components/ui/icons';
import { Menu } from '#/components/ui/menu';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import type { PickerTarget } from '#/features/collections/components/collection-picker-dialog';
import { MAX_ZIP_IDS, selectionZipUrl } from '#/features/generations/api';
import { useBulkAction } from '#/features/generations/hooks/use-generation-mutations';
import type { Selection } from '../hooks/use-selection';
import { FolderMoveIcon, FolderPlusIcon, StarFilledIcon, StarIcon } from '../icons';
import './bulk-bar.css';

const FORMAT_LABEL = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' } as const;

interface BulkBarProps {
  selection: Selection;
  /** The loaded generations, in grid order. */
  items: readonly Generation[];
  /** The collection the grid is narrowed to, which "Move to…" and "Remove" act on. */
  collection: Collection | null;
  onPick: (target: PickerTarget) => void;
}

const plural = (n: number) => `${n} image${n === 1 ? '' : 's'}`;

/** The actions over a selection, pinned to the bottom of the history while select mode is on. */
export function BulkBar({ selection, items, collection, onPick }: BulkBarProps) {
  const bulk = useBulkAction();
  const toast = useToast();
  const [isConfirmingDelete, setConfirmingDelete] = useState(false);
  const ids = items.filter((g) => selection.selected.has(g.id)).map((g) => g.id);
  const n = ids.length;
  const none = n === 0;
  const allFavourite = !none && items.every((g) => !selection.selected.has(g.id) || g.favorite);
  const isTooManyToZip = n > MAX_ZIP_IDS;
  const allLoadedSelected = items.length > 0 && n === items.length;

  const run = (input: Parameters<typeof bulk.mutate>[0], done: string, failed: string, exit = false) =>
    bulk.mutate(input, {
      onSuccess: () => {
        toast.success(done);
        if (exit) selection.exit();
      },
      onError: (e) => toast.error(failed, describeError(e)),
    });

  return (
    <div className="bulk-bar" role="toolbar" aria-label="Selected images">
      <div className="bulk-bar__count" aria-live="polite">
        <strong>{n}</strong> selected
      </div>
      <Button size="sm" variant="ghost" onClick={allLoadedSelected ? selection.clear : selection.selectAll} disabled={items.length === 0} title={allLoadedSelected ? 'Deselect everything' : 'Select every image loaded so far (Ctrl+A)'}>
        {allLoadedSelected ? 'Select none' : `Select all ${items.length}`}
      </Button>
      <span className="bulk-bar__divider" aria-hidden="true" />
      <div className="bulk-bar__actions">
        <Button
          size="sm"
          icon={allFavourite ? <StarIcon size={14} /> : <StarFilledIcon size={14} className="bulk-bar__star" />}
          disabled={none || bulk.isPending}
          onClick={() =>
            run(
              { action: allFavourite ? 'unfavorite' : 'favorite', ids },
              allFavourite ? `Removed ${plural(n)} from favourites` : `Added ${plural(n)} to favourites`,
              'Could not change the favourites',
            )
          }
        >
          {allFavourite ? 'Unfavourite' : 'Favourite'}
        </Button>
        <Button size="sm" icon={<FolderPlusIcon size={14} />} disabled={none || bulk.isPending} onClick={() => onPick({ mode: 'add', ids })}>
          Add to collection
        </Button>
        {collection && (
          <>
            <Button size="sm" icon={<FolderMoveIcon size={14} />} disabled={none || bulk.isPending} onClick={() => onPick({ mode: 'move', ids, from: collection })}>
              Move to…
            </Button>
            <Button
              size="sm"
              disabled={none || bulk.isPending}
              title={`Take them out of “${collection.name}” (they stay in your history)`}
              onClick={() =>
                run({ action: 'remove_from_collection', ids, collection_id: collection.id }, `Removed ${plural(n)} from “${collection.name}”`, 'Could not remove them from the collection', true)
              }
            >
              Remove from collection
            </Button>
          </>
        )}
        <Menu
          label="Download the selection"
          items={[
            { key: 'original', label: 'Original formats', hint: 'ZIP', href: selectionZipUrl(ids), download: true },
            ...OUTPUT_FORMATS.map((f) => ({ key: f, label: `All as ${FORMAT_LABEL[f]}`, hint: 'ZIP', href: selectionZipUrl(ids, f), download: true })),
          ]}
          trigger={(props) => (
            <button
              {...props}
              type="button"
              className="btn btn--secondary btn--sm"
              disabled={none || isTooManyToZip}
              title={isTooManyToZip ? `At most ${MAX_ZIP_IDS} images per download: add them to a collection and download that instead` : `Download ${plural(n)} and a manifest as a ZIP`}
            >
              <DownloadIcon size={14} /> Download ZIP
            </button>
          )}
        />
        <Button size="sm" variant="danger" icon={<TrashIcon size={14} />} disabled={none || bulk.isPending} onClick={() => setConfirmingDelete(true)}>
          Delete
        </Button>
      </div>
      <IconButton label="Leave select mode (Esc)" size="sm" className="bulk-bar__close" onClick={selection.exit}>
        <CloseIcon size={16} />
      </IconButton>
      {isConfirmingDelete && (
        <ConfirmDialog
          title={`Delete ${plural(n)}?`}
          confirmLabel={`Delete ${plural(n)}`}
          isBusy={bulk.isPending}
          onCancel={() => setConfirmingDelete(false)}
          onConfirm={() =>
            bulk.mutate(
              { action: 'delete', ids },
              {
                onSuccess: ({ affected }) => {
                  setConfirmingDelete(false);
                  selection.exit();
                  toast.success(`Deleted ${plural(affected)}`);
                },
                onError: (e) => {
                  setConfirmingDelete(false);
                  toast.error('Could not delete the images', describeError(e));
                },
              },
            )
          }
        >
          <p>
            {n === 1 ? 'The image and its record are' : `The ${n} images and their records are`} removed for good, from every collection too. This can’t be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
