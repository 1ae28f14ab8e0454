import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Generation } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { AlertIcon, CloseIcon, SparklesIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { CollectionHeader } from '#/features/collections/components/collection-header';
import { CollectionPickerDialog, type PickerTarget } from '#/features/collections/components/collection-picker-dialog';
import { useCollections } from '#/features/collections/hooks/use-collections';
import { BulkBar } from '#/features/history/components/bulk-bar';
import { HistoryToolbar } from '#/features/history/components/history-toolbar';
import { NoResults } from '#/features/history/components/no-results';
import { isFiltered } from '#/features/history/filters';
import { useHiddenNewImages } from '#/features/history/hooks/use-hidden-new';
import { useHistoryFilters } from '#/features/history/hooks/use-history-filters';
import { useSelection } from '#/features/history/hooks/use-selection';
import { SelectIcon } from '#/features/history/icons';
import { requestPromptFocus, reuseGeneration, updateDraft } from '../draft-store';
import { useCancelGeneration, useDeleteGeneration, useToggleFavorite } from '../hooks/use-generation-mutations';
import { useGenerationList } from '../hooks/use-generations';
import { useReferenceActions } from '../hooks/use-reference-actions';
import { GenerationCard } from './generation-card';
import './history-grid.css';
const EXAMPLE_PROMPTS = [
  'A lighthouse on a basalt cliff at blue hour, long exposure, waves smoothed into mist, 35 mm',
  'Isometric cutaway of a tiny bakery at dawn, warm interior light, soft pastel palette, highly detailed',
  'Macro photograph of a dew-covered fern unfurling, shallow depth of field, morning backlight',
  'Retro travel poster of Kyoto in autumn, bold flat shapes, limited palette, grain texture',
];

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest('input:not([type="checkbox"]), textarea, select') !== null);
}

export function HistoryGrid() {
  const filtersApi = useHistoryFilters();
  const { filters, search, setFilters, clearFilters } = filtersApi;
  const filtered = isFiltered(filters);
  const list = useGenerationList(filters);
  const items = useMemo(() => list.data ?? [], [list.data]);
  const order = useMemo(() => items.map((g) => g.id), [items]);
  const selection = useSelection(order);
  const collections = useCollections();
  const collection = filters.collection ? (collections.data?.find((c) => c.id === filters.collection) ?? null) : null;
  const cancel = useCancelGeneration();
  const remove = useDeleteGeneration();
  const favorite = useToggleFavorite();
  const toast = useToast();
  const [toDelete, setToDelete] = useState<Generation | null>(null);
  const [picker, setPicker] = useState<PickerTarget | null>(null);
  const { refine, addAsReference } = useReferenceActions();
  const sentinel = useRef<HTMLDivElement>(null);
  const hiddenNew = useHiddenNewImages(search, items);

  const { hasNextPage, isFetchingNextPage, fetchNextPage, isPlaceholderData } = list;
  useEffect(() => {
    const el = sentinel.current;
    // While a new filter's first page loads, the old results on screen must not page on under the new key.
    if (!el || !hasNextPage || isPlaceholderData) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '800px 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, isPlaceholderData]);

  // A selection belongs to the results it was made in.
  const { clear: clearSelection, exit: exitSelection, selectAll, isSelecting } = selection;
  useEffect(() => clearSelection(), [search, clearSelection]);

  // Esc leaves select mode and Ctrl/Cmd+A selects everything loaded, unless a dialog, a menu or a field has
  // the keys. (The toasts are a manual popover, always "open" while shown: they do not count.)
  useEffect(() => {
    if (!isSelecting) return;
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || document.querySelector('dialog[open], [popover]:not([popover="manual"]):popover-open')) return;
      if (event.key === 'Escape') exitSelection();
      else if (event.key.toLowerCase() === 'a' && (event.ctrlKey || event.metaKey) && !event.altKey) {
        event.preventDefault();
        selectAll();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [isSelecting, exitSelection, selectAll]);

  const cancelMutate = cancel.mutate;
  const onCancel = useCallback(
    (g: Generation) =>
      cancelMutate(g.id, {
        onError: (error) =>
          toast.error(isApiError(error) && error.code === 'invalid_state' ? 'It had already finished' : 'Could not cancel', describeError(error)),
      }),
    [cancelMutate, toast],
  );
  const favoriteMutate = favorite.mutate;
  const onToggleFavorite = useCallback(
    (g: Generation) =>
      favoriteMutate({ id: g.id, favorite: !g.favorite }, { onError: (error) => toast.error(g.favorite ? 'Could not remove the favourite' : 'Could not add the favourite', describeError(error)) }),
    [favoriteMutate, toast],
  );
  const onReuse = useCallback((g: Generation) => reuseGeneration(g), []);
  const onDelete = useCallback((g: Generation) => setToDelete(g), []);
  const onRefine = useCallback((g: Generation) => refine(g), [refine]);
  const onUseAsReference = useCallback((g: Generation) => addAsReference(g), [addAsReference]);
  const onAddToCollection = useCallback((g: Generation) => setPicker({ mode: 'toggle', generationId: g.id }), []);
  const toggle = selection.toggle;
  const onSelect = useCallback((g: Generation, options: { range: boolean }) => toggle(g.id, options), [toggle]);

  const confirmDelete = () => {
    if (!toDelete) return;
    remove.mutate(toDelete.id, {
      onSuccess: () => {
        setToDelete(null);
        toast.success('Image deleted');
      },
      onError: (error) => {
        setToDelete(null);
        toast.error('Could not delete the image', describeError(error));
      },
    });
  };

  let content;
  if (list.isPending) {
    content = (
      <ul className="history-grid" aria-busy="true" aria-label="Loading your images">
        {Array.from({ length: 12 }, (_, i) => (
          <li key={i} className="gen-card gen-card--skeleton skeleton" />
        ))}
      </ul>
    );
  } else if (list.isError && items.length === 0) {
    content = (
      <div className="history-message" role="alert">
        <AlertIcon size={22} />
        <p>Could not load your images: {describeError(list.error)}</p>
        <Button onClick={() => void list.refetch()}>Try again</Button>
      </div>
    );
  } else if (items.length === 0 && !list.isPlaceholderData) {
    content = filtered ? <NoResults filters={filters} collection={collection} onClear={clearFilters} /> : <EmptyState />;
  } else {
    content = (
      <>
        <ul
          className={`history-grid${list.isPlaceholderData ? ' history-grid--stale' : ''}${selection.isSelecting ? ' history-grid--selecting' : ''}`}
          aria-label={filtered ? 'Your images matching the filters, newest first' : 'Your images, newest first'}
          aria-busy={list.isPlaceholderData || undefined}
        >
          {items.map((g) => (
            <GenerationCard
              key={g.id}
              generation={g}
              linkSearch={search}
              onReuse={onReuse}
              onDelete={onDelete}
              onCancel={onCancel}
              onRefine={onRefine}
              onUseAsReference={onUseAsReference}
              onToggleFavorite={onToggleFavorite}
              onAddToCollection={onAddToCollection}
              onSelect={onSelect}
              isCanceling={cancel.isPending && cancel.variables === g.id}
              isSelecting={selection.isSelecting}
              isSelected={selection.selected.has(g.id)}
            />
          ))}
        </ul>
        <div ref={sentinel} className="history-sentinel" aria-hidden="true" />
        {isFetchingNextPage && (
          <p className="history-more">
            <span className="spinner" /> Loading more…
          </p>
        )}
        {!hasNextPage && items.length > 30 && <p className="history-more">That’s everything.</p>}
      </>
    );
  }

  // A first visit has nothing to search: the toolbar would only be noise around the welcome.
  const showToolbar = filtered || items.length > 0 || list.isPending;

  return (
    <section className={`history${selection.isSelecting ? ' history--selecting' : ''}`} aria-labelledby="history-title">
      <header className="history__header">
        <h1 id="history-title" className="history__title">
          History
        </h1>
        {showToolbar && !selection.isSelecting && (
          <Button size="sm" variant="ghost" icon={<SelectIcon size={15} />} onClick={selection.start} disabled={items.length === 0} title="Select images to favourite, collect, download or delete several at once (or Shift/Ctrl-click a card)">
            Select
          </Button>
        )}
      </header>
      {showToolbar && <HistoryToolbar {...filtersApi} />}
      {filters.collection &&
        (collection ? (
          <CollectionHeader key={collection.id} collection={collection} onLeave={() => setFilters({ collection: null })} />
        ) : (
          collections.isSuccess && (
            <div className="history-notice" role="status">
              <p>This collection no longer exists.</p>
              <Button size="sm" onClick={() => setFilters({ collection: null })}>
                Show all images
              </Button>
            </div>
          )
        ))}
      {hiddenNew.count > 0 && (
        <div className="history-notice history-notice--info" role="status">
          <p>{hiddenNew.count === 1 ? 'Your new image is not shown: it does not match these filters.' : `Your ${hiddenNew.count} new images are not shown: they do not match these filters.`}</p>
          <Button size="sm" onClick={clearFilters}>
            Show all images
          </Button>
          <IconButton label="Dismiss" size="sm" onClick={hiddenNew.dismiss}>
            <CloseIcon size={14} />
          </IconButton>
        </div>
      )}
      {content}
      {selection.isSelecting && <BulkBar selection={selection} items={items} collection={collection} onPick={setPicker} />}
      {picker && <CollectionPickerDialog target={picker} onClose={() => setPicker(null)} onDone={exitSelection} />}
      {toDelete && (
        <ConfirmDialog title="Delete this image?" confirmLabel="Delete" isBusy={remove.isPending} onConfirm={confirmDelete} onCancel={() => setToDelete(null)}>
          <p>The image and its record are removed for good. This can’t be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function EmptyState() {
  const use = (prompt: string) => {
    updateDraft({ prompt });
    requestPromptFocus();
  };
  return (
    <div className="empty-state">
      <div className="empty-state__art" aria-hidden="true">
        <SparklesIcon size={28} />
      </div>
      <h2 className="empty-state__title">Your studio is empty</h2>
      <p className="empty-state__text">Describe an image in the panel and press Generate. New images appear here the moment they are queued.</p>
      <p className="empty-state__label">Or start from an example</p>
      <ul className="empty-state__examples">
        {EXAMPLE_PROMPTS.map((prompt) => (
          <li key={prompt}>
            <button type="button" className="example-prompt" onClick={() => use(prompt)}>
              {prompt}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
