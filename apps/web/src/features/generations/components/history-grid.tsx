import { useCallback, useEffect, useRef, useState } from 'react';
import type { Generation } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { AlertIcon, SparklesIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { requestPromptFocus, reuseGeneration, updateDraft } from '../draft-store';
import { useCancelGeneration, useDeleteGeneration } from '../hooks/use-generation-mutations';
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

export function HistoryGrid() {
  const list = useGenerationList();
  const cancel = useCancelGeneration();
  const remove = useDeleteGeneration();
  const toast = useToast();
  const [toDelete, setToDelete] = useState<Generation | null>(null);
  const { refine, addAsReference } = useReferenceActions();
  const sentinel = useRef<HTMLDivElement>(null);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '800px 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const cancelMutate = cancel.mutate;
  const onCancel = useCallback(
    (g: Generation) =>
      cancelMutate(g.id, {
        onError: (error) =>
          toast.error(isApiError(error) && error.code === 'invalid_state' ? 'It had already finished' : 'Could not cancel', describeError(error)),
      }),
    [cancelMutate, toast],
  );
  const onReuse = useCallback((g: Generation) => reuseGeneration(g), []);
  const onDelete = useCallback((g: Generation) => setToDelete(g), []);
  const onRefine = useCallback((g: Generation) => refine(g), [refine]);
  const onUseAsReference = useCallback((g: Generation) => addAsReference(g), [addAsReference]);

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
  } else if (list.isError) {
    content = (
      <div className="history-message" role="alert">
        <AlertIcon size={22} />
        <p>Could not load your images: {describeError(list.error)}</p>
        <Button onClick={() => void list.refetch()}>Try again</Button>
      </div>
    );
  } else if (list.data.length === 0) {
    content = <EmptyState />;
  } else {
    content = (
      <>
        <ul className="history-grid" aria-label="Your images, newest first">
          {list.data.map((g) => (
            <GenerationCard
              key={g.id}
              generation={g}
              onReuse={onReuse}
              onDelete={onDelete}
              onCancel={onCancel}
              onRefine={onRefine}
              onUseAsReference={onUseAsReference}
              isCanceling={cancel.isPending && cancel.variables === g.id}
            />
          ))}
        </ul>
        <div ref={sentinel} className="history-sentinel" aria-hidden="true" />
        {isFetchingNextPage && (
          <p className="history-more">
            <span className="spinner" /> Loading more…
          </p>
        )}
        {!hasNextPage && list.data.length > 30 && <p className="history-more">That’s everything.</p>}
      </>
    );
  }

  return (
    <section className="history" aria-labelledby="history-title">
      <header className="history__header">
        <h1 id="history-title" className="history__title">
          History
        </h1>
      </header>
      {content}
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
