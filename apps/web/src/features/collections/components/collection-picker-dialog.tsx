import { useId } from 'react';
import type { Collection } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { CheckIcon } from '#/components/ui/icons';
import { Modal } from '#/components/ui/modal';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { useBulkAction } from '#/features/generations/hooks/use-generation-mutations';
import { useGeneration } from '#/features/generations/hooks/use-generations';
import { useCollections } from '../hooks/use-collections';
import { CollectionCover } from './collection-cover';
import { NewCollectionForm } from './new-collection-form';
import './collections.css';

/**
 * - `toggle`: one generation; each collection is a checkbox showing whether it is in it.
 * - `add`: several; choosing a collection adds them all and closes.
 * - `move`: several, out of the collection being viewed (`from`) into the one chosen.
 */
export type PickerTarget =
  | { mode: 'toggle'; generationId: string }
  | { mode: 'add'; ids: string[] }
  | { mode: 'move'; ids: string[]; from: Collection };

interface CollectionPickerDialogProps {
  target: PickerTarget;
  onClose: () => void;
  /** After an add or move succeeded (the bulk bar leaves select mode). */
  onDone?: () => void;
}

export function CollectionPickerDialog({ target, onClose, onDone }: CollectionPickerDialogProps) {
  const titleId = useId();
  const collections = useCollections();
  const bulk = useBulkAction();
  const toast = useToast();
  const single = useGeneration(target.mode === 'toggle' ? target.generationId : '', { enabled: target.mode === 'toggle' });
  const member = new Set(target.mode === 'toggle' ? (single.data?.collection_ids ?? []) : []);
  const count = target.mode === 'toggle' ? 1 : target.ids.length;
  const images = `${count} image${count === 1 ? '' : 's'}`;
  const title = target.mode === 'toggle' ? 'Collections' : target.mode === 'add' ? `Add ${images} to a collection` : `Move ${images} from “${target.from.name}” to…`;

  const apply = (collection: Collection) => {
    if (target.mode === 'toggle') {
      const isIn = member.has(collection.id);
      bulk.mutate(
        { action: isIn ? 'remove_from_collection' : 'add_to_collection', ids: [target.generationId], collection_id: collection.id },
        { onError: (e) => toast.error(isIn ? `Could not remove it from “${collection.name}”` : `Could not add it to “${collection.name}”`, describeError(e)) },
      );
      return;
    }
    const input =
      target.mode === 'add'
        ? ({ action: 'add_to_collection', ids: target.ids, collection_id: collection.id } as const)
        : ({ action: 'move_to_collection', ids: target.ids, collection_id: collection.id, from_collection_id: target.from.id } as const);
    bulk.mutate(input, {
      onSuccess: () => {
        toast.success(target.mode === 'add' ? `Added ${images} to “${collection.name}”` : `Moved ${images} to “${collection.name}”`);
        onDone?.();
        onClose();
      },
      onError: (e) => toast.error(target.mode === 'add' ? `Could not add to “${collection.name}”` : `Could not move to “${collection.name}”`, describeError(e)),
    });
  };

  const choices = (collections.data ?? []).filter((c) => target.mode !== 'move' || c.id !== target.from.id);

  return (
    <Modal onClose={onClose} labelledBy={titleId} className="picker-modal">
      <div className="picker">
        <header className="picker__header">
          <h2 id={titleId} className="picker__title">
            {title}
          </h2>
          {target.mode === 'toggle' && <p className="picker__hint">An image can be in several collections.</p>}
        </header>
        <NewCollectionForm submitLabel={target.mode === 'toggle' ? 'Create' : target.mode === 'add' ? 'Create and add' : 'Create and move'} onCreated={apply} autoFocus={choices.length === 0} />
        {collections.isPending ? (
          <div className="skeleton picker__skeleton" aria-label="Loading collections" />
        ) : collections.isError ? (
          <p className="inline-error">
            <span>Could not load your collections: {describeError(collections.error)}</span>
          </p>
        ) : choices.length === 0 ? (
          <p className="picker__empty">{target.mode === 'move' ? 'You have no other collection yet. Name one above.' : 'No collections yet. Name one above to start.'}</p>
        ) : (
          <ul className="picker__list" aria-label="Your collections" aria-busy={bulk.isPending || undefined}>
            {choices.map((c) => {
              const isIn = member.has(c.id);
              return (
                <li key={c.id}>
                  <button
                    type="button"
                    className={`picker__item${isIn ? ' picker__item--in' : ''}`}
                    aria-pressed={target.mode === 'toggle' ? isIn : undefined}
                    disabled={bulk.isPending && target.mode !== 'toggle'}
                    onClick={() => apply(c)}
                  >
                    <CollectionCover collection={c} size={36} />
                    <span className="picker__name">{c.name}</span>
                    <span className="picker__count">{c.count}</span>
                    {target.mode === 'toggle' && <span className="picker__check">{isIn && <CheckIcon size={15} />}</span>}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
        <div className="picker__actions">
          <Button onClick={onClose}>{target.mode === 'toggle' ? 'Done' : 'Cancel'}</Button>
        </div>
      </div>
    </Modal>
  );
}
