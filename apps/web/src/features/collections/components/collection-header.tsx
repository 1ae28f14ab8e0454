import { useState } from 'react';
import { OUTPUT_FORMATS, type Collection } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { CloseIcon, DownloadIcon, MoreIcon, TrashIcon } from '#/components/ui/icons';
import { Menu } from '#/components/ui/menu';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { PencilIcon } from '#/features/history/icons';
import { collectionZipUrl } from '../api';
import { useDeleteCollection, useRenameCollection } from '../hooks/use-collections';
import { CollectionCover } from './collection-cover';
import './collections.css';

const FORMAT_LABEL = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' } as const;

interface CollectionHeaderProps {
  collection: Collection;
  /** Stop filtering by it. */
  onLeave: () => void;
}

/** Shown above the grid while it is narrowed to a collection: its name, count, and what can be done with it. */
export function CollectionHeader({ collection: c, onLeave }: CollectionHeaderProps) {
  const rename = useRenameCollection();
  const remove = useDeleteCollection();
  const toast = useToast();
  const [isRenaming, setRenaming] = useState(false);
  const [name, setName] = useState(c.name);
  const [renameError, setRenameError] = useState<string | null>(null);
  const [isConfirmingDelete, setConfirmingDelete] = useState(false);
  const images = `${c.count} image${c.count === 1 ? '' : 's'}`;

  const submitRename = () => {
    const trimmed = name.trim();
    if (!trimmed || trimmed === c.name) {
      setRenaming(false);
      return;
    }
    rename.mutate(
      { id: c.id, name: trimmed },
      {
        onSuccess: () => setRenaming(false),
        onError: (e) => setRenameError(isApiError(e) && e.status === 409 ? `You already have a collection called “${trimmed}”.` : describeError(e)),
      },
    );
  };

  return (
    <div className="collection-header">
      <CollectionCover collection={c} size={40} />
      {isRenaming ? (
        <form
          className="collection-header__rename"
          onSubmit={(event) => {
            event.preventDefault();
            submitRename();
          }}
        >
          <input
            className="input"
            aria-label="Collection name"
            value={name}
            maxLength={80}
            // Opened by Rename: typing is the next step.
            autoFocus
            aria-invalid={renameError ? true : undefined}
            onChange={(event) => {
              setName(event.target.value);
              setRenameError(null);
            }}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.preventDefault();
                event.stopPropagation();
                setRenaming(false);
              }
            }}
          />
          <Button type="submit" size="sm" variant="primary" isBusy={rename.isPending}>
            Save
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setRenaming(false)}>
            Cancel
          </Button>
          {renameError && (
            <p className="field__error" role="alert">
              {renameError}
            </p>
          )}
        </form>
      ) : (
        <div className="collection-header__text">
          <h2 className="collection-header__name">{c.name}</h2>
          <span className="collection-header__count">{images}</span>
        </div>
      )}
      <div className="collection-header__actions">
        <Menu
          label="Download the collection"
          items={[
            { key: 'original', label: 'Original formats', hint: 'ZIP', href: collectionZipUrl(c.id), download: true },
            ...OUTPUT_FORMATS.map((f) => ({ key: f, label: `All as ${FORMAT_LABEL[f]}`, hint: 'ZIP', href: collectionZipUrl(c.id, f), download: true })),
          ]}
          trigger={(props) => (
            <button {...props} type="button" className="btn btn--secondary btn--sm" disabled={c.count === 0} title={c.count === 0 ? 'The collection is empty' : `Download ${images} and a manifest as a ZIP`}>
              <DownloadIcon size={14} /> Download ZIP
            </button>
          )}
        />
        <Menu
          label="Collection actions"
          items={[
            {
              key: 'rename',
              label: 'Rename',
              icon: <PencilIcon size={15} />,
              onSelect: () => {
                setName(c.name);
                setRenameError(null);
                setRenaming(true);
              },
            },
            { key: 'delete', label: 'Delete collection', icon: <TrashIcon size={15} />, tone: 'danger', onSelect: () => setConfirmingDelete(true) },
          ]}
          trigger={(props) => (
            <button {...props} type="button" className="btn btn--ghost btn--sm btn--icon" aria-label="Collection actions" title="Rename or delete the collection">
              <MoreIcon size={15} />
            </button>
          )}
        />
        <IconButton label="Close the collection view" size="sm" onClick={onLeave}>
          <CloseIcon size={15} />
        </IconButton>
      </div>
      {isConfirmingDelete && (
        <ConfirmDialog
          title={`Delete the collection “${c.name}”?`}
          confirmLabel="Delete collection"
          isBusy={remove.isPending}
          onCancel={() => setConfirmingDelete(false)}
          onConfirm={() =>
            remove.mutate(c.id, {
              onSuccess: () => {
                setConfirmingDelete(false);
                toast.success(`Deleted “${c.name}”`, c.count > 0 ? `Its ${images} are still in your history.` : undefined);
                onLeave();
              },
              onError: (e) => {
                setConfirmingDelete(false);
                toast.error('Could not delete the collection', describeError(e));
              },
            })
          }
        >
          <p>
            Only the collection goes. {c.count > 0 ? `The ${images} in it stay in your history` : 'No images are deleted'}, and in any other collection they belong to.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
