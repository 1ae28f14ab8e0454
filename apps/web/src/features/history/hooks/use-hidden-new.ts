import { useState } from 'react';
import { useMutationState } from '@tanstack/react-query';
import type { CreateGenerationResponse, Generation } from '@atelier/contracts';
import { CREATE_GENERATION_KEY } from '#/features/generations/hooks/use-generation-mutations';

/**
 * Images made in this tab since the filters last changed that the filtered grid does not show: pressing
 * Generate while viewing Favourites must not look like nothing happened. Empty when nothing is filtered.
 */
export function useHiddenNewImages(filtersKey: string, items: readonly Generation[]): { count: number; dismiss: () => void } {
  // When the filters change, counting restarts at once (derived state: no render with the old start).
  const [mark, setMark] = useState(() => ({ key: filtersKey, since: Date.now() }));
  if (mark.key !== filtersKey) setMark({ key: filtersKey, since: Date.now() });
  const since = mark.key === filtersKey ? mark.since : Infinity;
  // Filtered by time here, not in the hook's predicate: the hook only re-selects when a mutation changes.
  const created = useMutationState({
    filters: { mutationKey: CREATE_GENERATION_KEY, status: 'success' },
    select: (m) => ({ at: m.state.submittedAt, ids: (m.state.data as CreateGenerationResponse | undefined)?.batch ?? [] }),
  });
  if (filtersKey === '') return { count: 0, dismiss: () => {} };
  const shown = new Set(items.map((g) => g.id));
  const hidden = created.filter((c) => c.at >= since).flatMap((c) => c.ids.filter((id) => !shown.has(id)));
  return { count: hidden.length, dismiss: () => setMark({ key: filtersKey, since: Date.now() }) };
}
