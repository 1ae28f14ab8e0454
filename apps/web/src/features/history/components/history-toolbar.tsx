import { CollectionFilter } from '#/features/collections/components/collection-filter';
import { countActive } from '../filters';
import type { HistoryFiltersApi } from '../hooks/use-history-filters';
import { DateChip, FavoritesChip, ModelChip, WorkflowChip } from './filter-chips';
import { SearchField } from './search-field';
import './history-toolbar.css';

/** Search and filters above the grid. Every change goes to the URL (see useHistoryFilters). */
export function HistoryToolbar({ filters, setFilters, clearFilters }: HistoryFiltersApi) {
  const active = countActive(filters);
  return (
    <div className="history-toolbar" role="search" aria-label="Search and filter your images">
      <SearchField value={filters.q} onSearch={(q, isRefinement) => setFilters({ q }, { replace: isRefinement })} />
      <div className="history-toolbar__filters" role="group" aria-label="Filters">
        <FavoritesChip filters={filters} setFilters={setFilters} />
        <CollectionFilter value={filters.collection} onChange={(collection) => setFilters({ collection })} />
        <ModelChip filters={filters} setFilters={setFilters} />
        <WorkflowChip filters={filters} setFilters={setFilters} />
        <DateChip filters={filters} setFilters={setFilters} />
        {active > 0 && (
          <button type="button" className="history-toolbar__clear" onClick={clearFilters}>
            Clear {active > 1 ? `all ${active}` : 'filter'}
          </button>
        )}
      </div>
    </div>
  );
}
