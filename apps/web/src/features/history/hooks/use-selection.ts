import { useCallback, useMemo, useRef, useState } from 'react';

export interface Selection {
  isSelecting: boolean;
  selected: ReadonlySet<string>;
  /** Toggles one id; with `range`, selects everything between the last toggled id and this one. */
  toggle: (id: string, options?: { range?: boolean }) => void;
  selectAll: () => void;
  start: () => void;
  /** Leaves select mode and forgets the selection. */
  exit: () => void;
  clear: () => void;
}

/**
 * Bulk selection over the loaded history (ids in grid order). Shift extends from the anchor like a file
 * manager: the range is added, never removed, so a stray Shift-click cannot lose a careful selection.
 */
export function useSelection(order: readonly string[]): Selection {
  const [isSelecting, setSelecting] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const anchor = useRef<string | null>(null);
  const orderRef = useRef(order);
  orderRef.current = order;

  const toggle = useCallback((id: string, options?: { range?: boolean }) => {
    setSelecting(true);
    // Read now: the updater runs later, after the anchor has moved to `id`.
    const previous = anchor.current;
    setSelected((current) => {
      const next = new Set(current);
      const ids = orderRef.current;
      const from = previous ? ids.indexOf(previous) : -1;
      const to = ids.indexOf(id);
      if (options?.range && from !== -1 && to !== -1) {
        const [a, b] = from < to ? [from, to] : [to, from];
        for (let i = a; i <= b; i++) next.add(ids[i]!);
      } else if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
    anchor.current = id;
  }, []);

  const selectAll = useCallback(() => {
    setSelecting(true);
    setSelected(new Set(orderRef.current));
  }, []);
  const start = useCallback(() => setSelecting(true), []);
  const clear = useCallback(() => {
    anchor.current = null;
    setSelected(new Set());
  }, []);
  const exit = useCallback(() => {
    anchor.current = null;
    setSelecting(false);
    setSelected(new Set());
  }, []);

  return useMemo(() => ({ isSelecting, selected, toggle, selectAll, start, exit, clear }), [isSelecting, selected, toggle, selectAll, start, exit, clear]);
}
