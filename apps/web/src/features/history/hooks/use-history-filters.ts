import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { NO_FILTERS, filtersToParams, parseFilters, type HistoryFilters } from '../filters';

export interface HistoryFiltersApi {
  filters: HistoryFilters;
  /** The filters' URL query ('' when none), for links that must keep them (the detail dialog). */
  search: string;
  /** Changes some filters. Each change is a history entry (Back undoes it) unless `replace`. */
  setFilters: (patch: Partial<HistoryFilters>, options?: { replace?: boolean }) => void;
  clearFilters: () => void;
}

/** The history's filters, read from and written to the URL's search params. */
export function useHistoryFilters(): HistoryFiltersApi {
  const [params, setParams] = useSearchParams();
  const raw = params.toString();
  const filters = useMemo(() => parseFilters(new URLSearchParams(raw)), [raw]);
  const search = filtersToParams(filters).toString();

  const setFilters = useCallback(
    (patch: Partial<HistoryFilters>, options?: { replace?: boolean }) =>
      setParams((current) => filtersToParams({ ...parseFilters(current), ...patch }), { replace: options?.replace ?? false, preventScrollReset: true }),
    [setParams],
  );
  const clearFilters = useCallback(() => setParams(filtersToParams(NO_FILTERS), { preventScrollReset: true }), [setParams]);

  return { filters, search, setFilters, clearFilters };
}
