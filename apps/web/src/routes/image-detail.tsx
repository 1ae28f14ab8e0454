import { useCallback, useEffect, useId, useMemo, useRef } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import { Button } from '#/components/ui/button';
import { AlertIcon } from '#/components/ui/icons';
import { Modal } from '#/components/ui/modal';
import { describeError, isApiError } from '#/lib/api-client';
import { GenerationDetail } from '#/features/generations/components/generation-detail';
import { useGeneration, useGenerationList } from '#/features/generations/hooks/use-generations';
import { useHistoryFilters } from '#/features/history/hooks/use-history-filters';
import '#/features/generations/components/generation-detail.css';

/**
 * /images/:generationId — the detail as a dialog over the grid, with its own URL (shareable, Back closes it).
 * It keeps the grid's filters in its query string (/images/…?q=fox), so ←/→ browse the same results.
 */
export function Component() {
  const { generationId = '' } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const titleId = useId();
  const generation = useGeneration(generationId);
  const { filters, search } = useHistoryFilters();
  const list = useGenerationList(filters);
  const fromGrid = (location.state as { fromGrid?: boolean } | null)?.fromGrid === true;

  const close = useCallback(() => {
    // Opened from the grid: go back, so Back/Forward behave. Opened from a link: there is nothing to go back to.
    if (fromGrid) void navigate(-1);
    else void navigate({ pathname: '/', search }, { replace: true });
  }, [fromGrid, navigate, search]);

  const items = list.data ?? [];
  const index = items.findIndex((g) => g.id === generationId);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;

  const goTo = useCallback(
    (id: string) => void navigate({ pathname: `/images/${id}`, search }, { replace: true, state: location.state }),
    [location.state, navigate, search],
  );
  const prevId = index > 0 ? items[index - 1]?.id : undefined;
  const nextId = index >= 0 ? items[index + 1]?.id : undefined;

  // Steps are computed from refs, not from this render's neighbours: a held arrow key fires again
  // before the navigation has re-rendered, and must move on rather than repeat the same step.
  const currentId = useRef(generationId);
  const itemsRef = useRef(items);
  itemsRef.current = items;
  useEffect(() => {
    currentId.current = generationId;
  }, [generationId]);
  const step = useCallback(
    (delta: 1 | -1) => {
      const list = itemsRef.current;
      const at = list.findIndex((g) => g.id === currentId.current);
      const target = at === -1 ? undefined : list[at + delta];
      if (!target) return;
      currentId.current = target.id;
      goTo(target.id);
    },
    [goTo],
  );
  const prev = useMemo(() => (prevId ? () => step(-1) : null), [prevId, step]);
  const next = useMemo(() => (nextId ? () => step(1) : null), [nextId, step]);

  // Browsing towards the end of what is loaded pulls the next page in, so → never dead-ends early.
  useEffect(() => {
    if (index >= 0 && index >= items.length - 3 && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [index, items.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest('input, textarea, select, [role="menu"], [role="listbox"]')) return;
      if (document.querySelectorAll('dialog[open]').length > 1) return; // a confirm dialog is on top
      if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
        event.preventDefault();
        step(event.key === 'ArrowLeft' ? -1 : 1);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [step]);

  const openVersion = useCallback(
    (id: string) => {
      currentId.current = id;
      goTo(id);
    },
    [goTo],
  );

  // After a delete, show the neighbour (the next older, else the newer one), or go back to the grid.
  const onDeleted = () => {
    const neighbour = nextId ?? prevId;
    if (neighbour) goTo(neighbour);
    else close();
  };

  return (
    <Modal
      onClose={close}
      labelledBy={titleId}
      className="detail-modal"
      // Back on the grid, focus the card of the image last shown (after ←/→ it is not the one that opened the dialog).
      restoreFocus={() => {
        const href = `/images/${CSS.escape(currentId.current)}`;
        return document.querySelector<HTMLElement>(`.gen-card__link[href="${href}"], .gen-card__link[href^="${href}?"]`);
      }}
    >
      {generation.data ? (
        <GenerationDetail
          generation={generation.data}
          titleId={titleId}
          onClose={close}
          onDeleted={onDeleted}
          prev={prev}
          next={next}
          position={index >= 0 ? `${index + 1} of ${items.length}${hasNextPage ? '+' : ''}` : null}
          onOpen={openVersion}
        />
      ) : generation.isError ? (
        <div className="detail-missing" role="alert">
          <AlertIcon size={28} />
          <h2 id={titleId}>{isApiError(generation.error) && generation.error.status === 404 ? 'This image doesn’t exist (or was deleted)' : 'Could not load this image'}</h2>
          {!(isApiError(generation.error) && generation.error.status === 404) && <p>{describeError(generation.error)}</p>}
          <Button variant="primary" onClick={close}>
            Back to the studio
          </Button>
        </div>
      ) : (
        <div className="detail-missing" aria-busy="true">
          <h2 id={titleId} className="visually-hidden">
            Loading image
          </h2>
          <span className="spinner" />
        </div>
      )}
    </Modal>
  );
}
