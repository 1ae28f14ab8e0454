import { useEffect, useRef, type ReactNode } from 'react';
import { Button } from '#/components/ui/button';
import { AlertIcon, CheckIcon, ImageIcon, TrashIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import type { ReadyReference } from '../reference-store';

/** One image the library offers: an upload or a generated image. */
export interface LibraryItem extends ReadyReference {
  /** Accessible name and tooltip: what the image is. */
  label: string;
  /** Short line under the thumbnail. */
  meta: string;
}

interface LibraryPickerProps {
  items: LibraryItem[] | undefined;
  isPending: boolean;
  error: unknown;
  onRetry: () => void;
  hasMore: boolean;
  isLoadingMore: boolean;
  onLoadMore: () => void;
  /** Ids in the order they were picked. */
  selection: readonly string[];
  inTray: ReadonlySet<string>;
  /** No room left for another pick (the model's limit, less what the tray holds). */
  isFull: boolean;
  onToggle: (item: LibraryItem) => void;
  onDelete?: ((item: LibraryItem) => void) | undefined;
  empty: ReactNode;
  listLabel: string;
}

/** A grid of thumbnails to pick from, numbered in the order they are picked, a page at a time. */
export function LibraryPicker({ items, isPending, error, onRetry, hasMore, isLoadingMore, onLoadMore, selection, inTray, isFull, onToggle, onDelete, empty, listLabel }: LibraryPickerProps) {
  const sentinel = useRef<HTMLDivElement>(null);
  const loadMore = useRef(onLoadMore);
  loadMore.current = onLoadMore;

  // Infinite scroll: the next page loads as the end of the grid scrolls into view ("Load more" stays for keyboards).
  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasMore || isLoadingMore) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore.current();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasMore, isLoadingMore, items?.length]);

  if (isPending) {
    return (
      <div className="lib-grid" aria-busy="true" aria-label="Loading">
        {Array.from({ length: 10 }, (_, i) => (
          <div key={i} className="skeleton lib-grid__skeleton" />
        ))}
      </div>
    );
  }
  if (error) {
    return (
      <div className="inline-error" role="alert">
        <AlertIcon size={16} />
        <span>Could not load them: {describeError(error)}</span>
        <Button size="sm" onClick={onRetry}>
          Retry
        </Button>
      </div>
    );
  }
  if (!items || items.length === 0) return <div className="lib-empty">{empty}</div>;

  return (
    <>
      <ul className="lib-grid" aria-label={listLabel}>
        {items.map((item) => {
          const order = selection.indexOf(item.id) + 1;
          const isInTray = inTray.has(item.id);
          const isBlocked = !isInTray && order === 0 && isFull;
          const state = isInTray ? ', already in the tray' : order > 0 ? `, picked as ${order}` : '';
          return (
            <li key={item.id} className={`lib-tile${order > 0 ? ' lib-tile--picked' : ''}${isInTray ? ' lib-tile--in-tray' : ''}`}>
              <button
                type="button"
                className="lib-tile__pick"
                aria-pressed={order > 0}
                aria-disabled={isInTray || isBlocked || undefined}
                aria-label={`${item.label}${state}`}
                title={isInTray ? 'Already in the tray' : isBlocked ? 'The tray has no room for more' : item.label}
                onClick={() => {
                  if (!isInTray && !isBlocked) onToggle(item);
                }}
              >
                <Thumbnail src={item.thumbnailUrl} />
                {order > 0 && (
                  <span className="lib-tile__order" aria-hidden="true">
                    {order}
                  </span>
                )}
                {isInTray && (
                  <span className="lib-tile__badge" aria-hidden="true">
                    <CheckIcon size={12} /> In tray
                  </span>
                )}
              </button>
              {onDelete && (
                <button type="button" className="lib-tile__delete" aria-label={`Delete ${item.label}`} title="Delete this upload" onClick={() => onDelete(item)}>
                  <TrashIcon size={14} />
                </button>
              )}
              <span className="lib-tile__meta">{item.meta}</span>
            </li>
          );
        })}
      </ul>
      {hasMore && (
        <div className="lib-more" ref={sentinel}>
          <Button size="sm" onClick={onLoadMore} isBusy={isLoadingMore}>
            Load more
          </Button>
        </div>
      )}
    </>
  );
}

export function Thumbnail({ src }: { src: string }) {
  return src ? (
    <img src={src} alt="" loading="lazy" draggable={false} />
  ) : (
    <span className="lib-thumb-placeholder">
      <ImageIcon size={18} />
    </span>
  );
}
