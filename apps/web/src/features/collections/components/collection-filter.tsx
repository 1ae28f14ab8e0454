import type { Collection } from '@atelier/contracts';
import { CheckIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import { ChipButton } from '#/features/history/components/filter-chips';
import { Popover } from '#/features/history/components/popover';
import { FolderIcon } from '#/features/history/icons';
import { useCollections } from '../hooks/use-collections';
import { CollectionCover } from './collection-cover';
import { NewCollectionForm } from './new-collection-form';
import './collections.css';

interface CollectionFilterProps {
  /** The collection the history is narrowed to. */
  value: string | null;
  onChange: (id: string | null) => void;
}

/** The collections, each with its cover and count: choosing one shows only its images. New ones start here. */
export function CollectionFilter({ value, onChange }: CollectionFilterProps) {
  const collections = useCollections();
  const current = collections.data?.find((c) => c.id === value);
  const label = value ? (current?.name ?? 'Collection') : 'Collections';

  return (
    <Popover
      label="Collections"
      className="collection-filter"
      trigger={(props) => <ChipButton {...props} icon={<FolderIcon size={15} />} label={label} isActive={value !== null} name={value ? `Collection: ${label}` : 'Collections'} />}
    >
      {(close) => {
        const choose = (id: string | null) => {
          onChange(id);
          close();
        };
        return (
          <div className="collection-filter__body">
            <ul className="collection-filter__list" aria-label="Show">
              <li>
                <button type="button" className="collection-row" aria-pressed={value === null} data-autofocus onClick={() => choose(null)}>
                  <span className="collection-cover collection-cover--all" style={{ width: 32, height: 32 }} aria-hidden="true" />
                  <span className="collection-row__name">All images</span>
                  <span className="collection-row__check">{value === null && <CheckIcon size={15} />}</span>
                </button>
              </li>
              {collections.data?.map((c: Collection) => (
                <li key={c.id}>
                  <button type="button" className="collection-row" aria-pressed={c.id === value} onClick={() => choose(c.id)}>
                    <CollectionCover collection={c} size={32} />
                    <span className="collection-row__name">{c.name}</span>
                    <span className="collection-row__count" aria-label={`${c.count} image${c.count === 1 ? '' : 's'}`}>
                      {c.count}
                    </span>
                    <span className="collection-row__check">{c.id === value && <CheckIcon size={15} />}</span>
                  </button>
                </li>
              ))}
            </ul>
            {collections.isPending && <div className="skeleton collection-filter__skeleton" aria-label="Loading collections" />}
            {collections.isError && <p className="collection-filter__note">Could not load your collections: {describeError(collections.error)}</p>}
            {collections.data?.length === 0 && <p className="collection-filter__note">Collections group images you want to keep together. Name your first one:</p>}
            <div className="collection-filter__new">
              <NewCollectionForm onCreated={() => {}} />
            </div>
          </div>
        );
      }}
    </Popover>
  );
}
