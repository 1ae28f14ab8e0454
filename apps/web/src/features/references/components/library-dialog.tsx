import { useId, useMemo, useRef, useState, type KeyboardEvent, type SyntheticEvent } from 'react';
import { createPortal } from 'react-dom';
import type { Kit, Model, Upload } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { CloseIcon, InfoIcon } from '#/components/ui/icons';
import { Modal } from '#/components/ui/modal';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { formatRelative } from '#/lib/format';
import type { AddReferences } from '../hooks/use-add-references';
import { useDeleteUpload, useLibraryGenerated, useLibraryUploads, useUploadUsage, type GeneratedImage } from '../hooks/use-library';
import type { ReadyReference, ReferenceTray } from '../reference-store';
import { LibraryKits } from './library-kits';
import { LibraryPicker, type LibraryItem } from './library-picker';
import './library.css';

export type LibraryTab = 'uploads' | 'generated' | 'kits';

const TABS: { id: LibraryTab; label: string }[] = [
  { id: 'uploads', label: 'Uploads' },
  { id: 'generated', label: 'Generated' },
  { id: 'kits', label: 'Kits' },
];

interface LibraryDialogProps {
  initialTab: LibraryTab;
  /** Opened from "Save as kit…": the kit name field takes the focus. */
  isSavingKit?: boolean;
  tray: ReferenceTray;
  model: Model | undefined;
  add: AddReferences;
  onClose: () => void;
}

/**
 * The reference library: the user's uploads and generated images to pick from (in order, within the
 * model's limit) and their named kits. Picks and kits go to the end of the tray.
 */
export function LibraryDialog({ initialTab, isSavingKit = false, tray, model, add, onClose }: LibraryDialogProps) {
  const ids = useId();
  const toast = useToast();
  const [tab, setTab] = useState<LibraryTab>(initialTab);
  const [picked, setPicked] = useState<LibraryItem[]>([]);
  const [toDelete, setToDelete] = useState<LibraryItem | null>(null);
  const tabRefs = useRef<Record<LibraryTab, HTMLButtonElement | null>>({ uploads: null, generated: null, kits: null });

  const uploads = useLibraryUploads(tab === 'uploads');
  const usage = useUploadUsage(tab === 'uploads');
  const generated = useLibraryGenerated(tab === 'generated');
  const deleteUpload = useDeleteUpload();

  const max = model?.max_reference_images ?? 10;
  const room = Math.max(0, max - tray.tiles.length);
  const inTray = useMemo(() => new Set(tray.tiles.map((t) => t.id).filter((id): id is string => Boolean(id))), [tray.tiles]);
  const selection = picked.map((p) => p.id);
  const isFull = picked.length >= room;
  const modelName = model?.label ?? 'This model';

  const uploadItems = useMemo(() => uploads.data?.map(uploadItem), [uploads.data]);
  const generatedItems = useMemo(() => generated.data?.map(generatedItem), [generated.data]);

  const toggle = (item: LibraryItem) => setPicked((list) => (list.some((p) => p.id === item.id) ? list.filter((p) => p.id !== item.id) : [...list, item]));

  const addPicked = () => {
    const added = add.addReady(picked, picked.length === 1 ? 'picked image' : 'picked images');
    if (added > 0) onClose();
  };
  const applyKit = (kit: Kit, references: ReadyReference[]) => {
    const added = add.addReady(references, `references of “${kit.name}”`);
    if (added > 0) onClose();
  };

  const confirmDelete = () => {
    if (!toDelete) return;
    deleteUpload.mutate(toDelete.id, {
      onSuccess: () => {
        setPicked((list) => list.filter((p) => p.id !== toDelete.id));
        toast.success('Upload deleted');
      },
      onError: (error) => toast.error('Could not delete the upload', describeError(error)),
      onSettled: () => setToDelete(null),
    });
  };

  const onTabKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    const to = event.key === 'Home' ? 0 : event.key === 'End' ? TABS.length - 1 : step ? (index + step + TABS.length) % TABS.length : null;
    if (to === null) return;
    event.preventDefault();
    setTab(TABS[to]!.id);
    tabRefs.current[TABS[to]!.id]?.focus();
  };

  const isPicking = tab !== 'kits';
  const noReferences = model?.max_reference_images === 0;

  return createPortal(
    // Outside the generate panel's <form> in the DOM: a form nested in a form never reports its submit (the
    // browser stops it at the outer form), so the kit and confirm forms would not work. React still bubbles
    // events to the panel through the component tree, so submits and drags stop here.
    <div className="library-root" onSubmit={stop} onReset={stop} onDragEnter={stop} onDragOver={stop} onDragLeave={stop} onDrop={stop}>
      <Modal onClose={onClose} labelledBy={`${ids}-title`} className="library">
        <div className="library__panel">
          <header className="library__header">
            <h2 id={`${ids}-title`} className="library__title">
              Reference library
            </h2>
            <IconButton label="Close" onClick={onClose}>
              <CloseIcon size={16} />
            </IconButton>
          </header>

          <div className="library__tabs" role="tablist" aria-label="Library sections">
            {TABS.map((t, index) => (
              <button
                key={t.id}
                ref={(el) => {
                  tabRefs.current[t.id] = el;
                }}
                type="button"
                role="tab"
                id={`${ids}-tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`${ids}-panel`}
                tabIndex={tab === t.id ? 0 : -1}
                className="library__tab"
                onClick={() => setTab(t.id)}
                onKeyDown={(event) => onTabKey(event, index)}
              >
                {t.label}
              </button>
            ))}
          </div>

          <div className="library__body" role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`}>
            {noReferences && tab !== 'kits' && (
              <p className="library__note">
                <InfoIcon size={15} />
                <span>{modelName} takes no reference images: choose a model that does to add these to the tray.</span>
              </p>
            )}
            {tab === 'uploads' && (
              <>
                {usage.data && <UsageLine used={usage.data.used_bytes} count={usage.data.used_count} quota={usage.data.quota_bytes} quotaCount={usage.data.quota_count} />}
                <LibraryPicker
                  items={uploadItems}
                  isPending={uploads.isPending}
                  error={uploads.error}
                  onRetry={() => void uploads.refetch()}
                  hasMore={uploads.hasNextPage}
                  isLoadingMore={uploads.isFetchingNextPage}
                  onLoadMore={() => void uploads.fetchNextPage()}
                  selection={selection}
                  inTray={inTray}
                  isFull={isFull}
                  onToggle={toggle}
                  onDelete={setToDelete}
                  listLabel="Your uploads"
                  empty={
                    <>
                      <p className="lib-empty__title">No uploads yet</p>
                      <p>Images you add to the tray from your computer are kept here, ready to reuse.</p>
                    </>
                  }
                />
              </>
            )}
            {tab === 'generated' && (
              <LibraryPicker
                items={generatedItems}
                isPending={generated.isPending}
                error={generated.error}
                onRetry={() => void generated.refetch()}
                hasMore={generated.hasNextPage}
                isLoadingMore={generated.isFetchingNextPage}
                onLoadMore={() => void generated.fetchNextPage()}
                selection={selection}
                inTray={inTray}
                isFull={isFull}
                onToggle={toggle}
                listLabel="Your generated images"
                empty={
                  <>
                    <p className="lib-empty__title">No finished images yet</p>
                    <p>Images you generate appear here, to use as references.</p>
                  </>
                }
              />
            )}
            {tab === 'kits' && <LibraryKits tray={tray} onApply={applyKit} focusSave={isSavingKit} />}
          </div>

          {isPicking && (
            <footer className="library__footer">
              <p className="library__status" aria-live="polite">
                {picked.length > 0 ? <strong>{picked.length} picked · </strong> : 'Pick images to add, in order. '}
                <span className={isFull && !noReferences ? 'library__room library__room--full' : 'library__room'}>
                  {room === 0
                    ? `The tray is full: ${modelName} takes up to ${max}.`
                    : isFull
                      ? `That fills the tray (${modelName} takes up to ${max}).`
                      : `${picked.length > 0 ? 'Room' : 'The tray has room'} for ${room - picked.length} more.`}
                </span>
              </p>
              <div className="library__actions">
                {picked.length > 0 && (
                  <Button variant="ghost" onClick={() => setPicked([])}>
                    Clear
                  </Button>
                )}
                <Button variant="primary" disabled={picked.length === 0 || noReferences} onClick={addPicked}>
                  {picked.length > 1 ? `Add ${picked.length} to tray` : 'Add to tray'}
                </Button>
              </div>
            </footer>
          )}
        </div>

        {toDelete && (
          <ConfirmDialog title="Delete this upload?" confirmLabel="Delete upload" isBusy={deleteUpload.isPending} onConfirm={confirmDelete} onCancel={() => setToDelete(null)}>
            <p>It is removed from your library, the tray and every kit that holds it. Generations already made with it keep their images. This can’t be undone.</p>
          </ConfirmDialog>
        )}
      </Modal>
    </div>,
    document.body,
  );
}

const stop = (event: SyntheticEvent) => event.stopPropagation();

function uploadItem(u: Upload): LibraryItem {
  const age = formatRelative(u.created_at);
  return { kind: 'upload', id: u.id, thumbnailUrl: u.thumbnail_url, name: `Upload ${u.width}×${u.height}`, label: `Upload ${u.width}×${u.height}, ${age}`, meta: `${u.width}×${u.height} · ${age}` };
}

function generatedItem(g: GeneratedImage): LibraryItem {
  const prompt = g.prompt.length > 80 ? `${g.prompt.slice(0, 79)}…` : g.prompt;
  return { kind: 'image', id: g.id, thumbnailUrl: g.thumbnailUrl, name: g.prompt, label: prompt, meta: g.prompt };
}

function UsageLine({ used, count, quota, quotaCount }: { used: number; count: number; quota: number | null; quotaCount: number | null }) {
  const share = quota ? Math.min(1, used / quota) : null;
  return (
    <p className={`library__usage${share !== null && share > 0.9 ? ' library__usage--high' : ''}`}>
      <span>
        {count} {count === 1 ? 'upload' : 'uploads'}
        {quotaCount ? ` of ${quotaCount}` : ''} · {formatSize(used)}
        {quota ? ` of ${formatSize(quota)} used` : ' used'}
      </span>
      {share !== null && (
        <span className="library__meter" aria-hidden="true">
          <span className="library__meter-fill" style={{ width: `${Math.max(1, share * 100)}%` }} />
        </span>
      )}
    </p>
  );
}

function formatSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.round((bytes / 1024 ** 3) * 10) / 10} GB`;
}
