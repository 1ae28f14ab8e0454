import type { Collection } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { useModels } from '#/features/models/hooks/use-models';
import { DATE_PRESET_LABELS, WORKFLOW_LABELS, countActive, describeDate, type HistoryFilters } from '../filters';
import { SearchIcon } from '../icons';

/** "No results for “fox”", then what else narrowed the search, and the way out. */
export function NoResults({ filters, collection, onClear }: { filters: HistoryFilters; collection: Collection | null; onClear: () => void }) {
  const models = useModels();
  const modelLabel = filters.model ? (models.data?.find((m) => m.id === filters.model)?.label ?? filters.model) : null;
  const onlyCollection = filters.collection !== null && countActive(filters) === 1;
  if (onlyCollection) {
    return (
      <div className="history-empty">
        <h2 className="history-empty__title">{collection ? `“${collection.name}” is empty` : 'This collection is empty'}</h2>
        <p className="history-empty__text">Select images in your history (or open one) and choose “Add to collection”. Images can be in several collections.</p>
        <Button onClick={onClear}>Show all images</Button>
      </div>
    );
  }
  const parts = [
    filters.favorite && 'Favourites',
    filters.collection && (collection ? `in “${collection.name}”` : 'in a collection'),
    modelLabel && `made with ${modelLabel}`,
    filters.workflow && WORKFLOW_LABELS[filters.workflow],
    filters.date ? DATE_PRESET_LABELS[filters.date] : describeDate(filters),
  ].filter((p): p is string => typeof p === 'string' && p !== '');
  return (
    <div className="history-empty" role="status">
      <div className="history-empty__art" aria-hidden="true">
        <SearchIcon size={24} />
      </div>
      <h2 className="history-empty__title">{filters.q ? `No results for “${filters.q}”` : 'No images match these filters'}</h2>
      {parts.length > 0 && (
        <p className="history-empty__text">
          {filters.q ? 'Searched within: ' : 'Filters: '}
          {parts.join(' · ')}
        </p>
      )}
      {filters.q && <p className="history-empty__text">Every word you type must be in the prompt; the start of a word is enough (“cat” finds “cats”).</p>}
      <Button variant="primary" onClick={onClear}>
        Clear filters
      </Button>
    </div>
  );
}
