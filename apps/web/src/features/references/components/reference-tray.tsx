import { useEffect, useId, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { UPLOAD_LIMITS, type Model } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { FieldGroupLabel } from '#/components/ui/field';
import { AlertIcon, ImagePlusIcon, InfoIcon, PlusIcon } from '#/components/ui/icons';
import { formatBytes } from '#/lib/format';
import type { AddReferences } from '../hooks/use-add-references';
import { moveReference, removeReference, retryReference, type ReferenceTile, type ReferenceTray as Tray } from '../reference-store';
import { TILE_DRAG_TYPE } from '../rules';
import { LibraryDialog, type LibraryTab } from './library-dialog';
import { ReferenceTileView } from './reference-tile';
import './reference-tray.css';

const ACCEPT = UPLOAD_LIMITS.formats.map((f) => `image/${f}`).join(',');
const PASTE_KEYS = /Mac|iPhone|iPad/.test(navigator.userAgent) ? '⌘V' : 'Ctrl+V';

interface ReferenceTrayProps {
  tray: Tray;
  model: Model | undefined;
  models: readonly Model[];
  add: AddReferences;
  /** Inserts text ("image 2") into the prompt at the cursor. */
  onInsert: (text: string) => void;
  /** Messages the server returned for `references.N`, by tile key (so they follow a reordered tile). */
  serverErrors: Record<string, string>;
}

/** The reference images of the next generation: "image 1" … "image N", in the order they are sent. */
export function ReferenceTray({ tray, model, models, add, onInsert, serverErrors }: ReferenceTrayProps) {
  const ids = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const [announcement, setAnnouncement] = useState('');
  const [dragKey, setDragKey] = useState<string | null>(null);
  const [dropAt, setDropAt] = useState<number | null>(null);
  const [library, setLibrary] = useState<{ tab: LibraryTab; isSavingKit: boolean } | null>(null);
  const tiles = tray.tiles;
  const max = model?.max_reference_images;
  const isOver = max !== undefined && tiles.length > max;
  const canAdd = max === undefined || (max > 0 && tiles.length < max);

  useAnnounceUploads(tiles, setAnnouncement);

  const browse = () => inputRef.current?.click();
  const focusLabel = (key: string | undefined) =>
    requestAnimationFrame(() => {
      const target = key ? listRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"] .ref-tile__label`) : null;
      (target ?? listRef.current?.querySelector<HTMLElement>('.ref-add') ?? document.getElementById(`${ids}-drop`))?.focus();
    });

  const move = (tile: ReferenceTile, from: number, to: number) => {
    if (to < 0 || to >= tiles.length || to === from) return;
    moveReference(tile.key, to);
    setAnnouncement(`image ${from + 1} is now image ${to + 1}`);
    focusLabel(tile.key);
  };
  const remove = (tile: ReferenceTile, index: number) => {
    removeReference(tile.key);
    setAnnouncement(`image ${index + 1} removed${tiles.length > 1 ? `; ${tiles.length - 1} left` : ''}`);
    focusLabel((tiles[index + 1] ?? tiles[index - 1])?.key);
  };

  const onLabelKey = (event: KeyboardEvent, tile: ReferenceTile, index: number) => {
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      event.preventDefault();
      move(tile, index, index + (event.key === 'ArrowLeft' ? -1 : 1));
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      move(tile, index, event.key === 'Home' ? 0 : tiles.length - 1);
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      remove(tile, index);
    }
  };

  // Reordering by drag: the insertion point is before or after the tile under the pointer.
  const onTileDragOver = (event: DragEvent, index: number) => {
    if (!event.dataTransfer.types.includes(TILE_DRAG_TYPE)) return;
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer.dropEffect = 'move';
    const box = event.currentTarget.getBoundingClientRect();
    setDropAt(event.clientX < box.left + box.width / 2 ? index : index + 1);
  };
  const onTileDrop = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes(TILE_DRAG_TYPE)) return;
    event.preventDefault();
    event.stopPropagation();
    const from = tiles.findIndex((t) => t.key === dragKey);
    if (from !== -1 && dropAt !== null) move(tiles[from]!, from, dropAt > from ? dropAt - 1 : dropAt);
    setDragKey(null);
    setDropAt(null);
  };

  const problems = tiles
    .map((tile, index) => ({ tile, index, message: tile.status === 'failed' ? tile.error : (serverErrors[tile.key] ?? null) }))
    .filter((p): p is { tile: ReferenceTile; index: number; message: string } => Boolean(p.message));
  const editor = models.find((m) => m.max_reference_images > 0);
  const readyCount = tiles.filter((t) => t.status === 'ready').length;

  return (
    <div className="field ref-tray" role="group" aria-labelledby={`${ids}-label`}>
      <FieldGroupLabel
        id={`${ids}-label`}
        aside={
          max !== undefined && max > 0 ? (
            <span className={`ref-tray__count${isOver ? ' ref-tray__count--over' : ''}`} title={`${model?.label} takes up to ${max} reference images`}>
              <span className="visually-hidden">Using </span>
              {tiles.length} / {max}
            </span>
          ) : null
        }
      >
        Reference images
      </FieldGroupLabel>

      <input
        ref={inputRef}
        type="file"
        accept={ACCEPT}
        multiple
        hidden
        aria-hidden="true"
        tabIndex={-1}
        onChange={(event) => {
          add.addFiles(Array.from(event.target.files ?? []));
          event.target.value = '';
        }}
      />

      {max === 0 && tiles.length === 0 ? (
        <p className="ref-tray__none">
          <InfoIcon size={15} />
          <span>
            {model?.label} works from the prompt alone.
            {editor && ` To edit or combine images, choose a model that takes references, such as ${editor.label}.`}
          </span>
        </p>
      ) : tiles.length === 0 ? (
        <button type="button" id={`${ids}-drop`} className="ref-drop" onClick={browse} aria-describedby={`${ids}-hint`}>
          <ImagePlusIcon size={22} />
          <span className="ref-drop__title">Add reference images</span>
          <span className="ref-drop__hint">Drop, paste ({PASTE_KEYS}) or browse</span>
        </button>
      ) : (
        <ol
          ref={listRef}
          className="ref-tray__tiles"
          aria-label="Reference images, in order"
          onDragLeave={(event) => {
            if (!(event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget))) setDropAt(null);
          }}
        >
          {tiles.map((tile, index) => (
            <ReferenceTileView
              key={tile.key}
              tile={tile}
              index={index}
              count={tiles.length}
              isOverLimit={max !== undefined && index >= max}
              serverError={serverErrors[tile.key]}
              isDragging={dragKey === tile.key}
              dropSide={dropAt === index ? 'before' : dropAt === index + 1 && index === tiles.length - 1 ? 'after' : null}
              describedBy={`${ids}-hint`}
              onInsert={() => onInsert(`image ${index + 1}`)}
              onRemove={() => remove(tile, index)}
              onMove={(to) => move(tile, index, to)}
              onLabelKey={(event) => onLabelKey(event, tile, index)}
              onDragStart={(event) => {
                event.dataTransfer.setData(TILE_DRAG_TYPE, tile.key);
                event.dataTransfer.effectAllowed = 'move';
                setDragKey(tile.key);
              }}
              onDragEnd={() => {
                setDragKey(null);
                setDropAt(null);
              }}
              onDragOver={(event) => onTileDragOver(event, index)}
              onDrop={onTileDrop}
            />
          ))}
          {canAdd && (
            <li className="ref-tray__add-item">
              <button type="button" className="ref-add" onClick={browse} aria-label="Add reference images" title="Add reference images (or drop, or paste)">
                <PlusIcon size={20} />
                <span className="ref-add__text">Add</span>
              </button>
            </li>
          )}
        </ol>
      )}

      {max !== 0 && (
        <div className="ref-tray__actions">
          <Button size="sm" variant="ghost" icon={<LibraryIcon />} title="Pick from your uploads, generated images and kits" onClick={() => setLibrary({ tab: 'uploads', isSavingKit: false })}>
            Library
          </Button>
          {readyCount > 0 && (
            <Button size="sm" variant="ghost" icon={<SaveKitIcon />} title="Save these references under a name, to reuse them together" onClick={() => setLibrary({ tab: 'kits', isSavingKit: true })}>
              Save as kit…
            </Button>
          )}
        </div>
      )}

      {problems.length > 0 && (
        <ul className="ref-tray__errors">
          {problems.map(({ tile, index, message }) => (
            <li key={tile.key}>
              <AlertIcon size={14} />
              <span>
                <strong>image {index + 1}</strong> <span className="ref-tray__error-name">({tile.name})</span>: {message}
              </span>
              {tile.canRetry && (
                <Button size="sm" variant="ghost" onClick={() => retryReference(tile.key)}>
                  Retry
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}

      {max !== 0 && (
        <p className="field__hint" id={`${ids}-hint`}>
          {tiles.length === 0
            ? `PNG, JPEG or WebP up to ${formatBytes(UPLOAD_LIMITS.maxBytes)}${max ? ` · up to ${max} with ${model?.label}` : ''}. You can also add images from your history, or reuse earlier ones from the library.`
            : (
              <>
                <span className="ref-tray__hint-pointer">Click a label to put it in the prompt. Drag, or focus a label and press ← →, to reorder.</span>
                <span className="ref-tray__hint-touch">Tap a label to put it in the prompt; the arrows reorder.</span>
              </>
            )}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {library && <LibraryDialog initialTab={library.tab} isSavingKit={library.isSavingKit} tray={tray} model={model} add={add} onClose={() => setLibrary(null)} />}
    </div>
  );
}

/** Stacked pictures: the library of uploads, generated images and kits. */
function LibraryIcon() {
  return (
    <svg width={15} height={15} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="7.5" y="3.5" width="13" height="13" rx="2.5" />
      <path d="M16.5 20.5h-10a3 3 0 0 1-3-3v-10" />
      <path d="M20.5 13l-3.5-3.5-6 6" />
    </svg>
  );
}

/** A bookmark: keep these references together under a name. */
function SaveKitIcon() {
  return (
    <svg width={15} height={15} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M6.5 4.5h11a1 1 0 0 1 1 1v15l-6.5-4.5-6.5 4.5v-15a1 1 0 0 1 1-1z" />
    </svg>
  );
}

/** Tells screen-reader users when an upload they started has finished, one way or the other. */
function useAnnounceUploads(tiles: ReferenceTile[], announce: (text: string) => void) {
  const previous = useRef(new Map<string, ReferenceTile['status']>());
  useEffect(() => {
    const before = previous.current;
    tiles.forEach((tile, index) => {
      if (before.get(tile.key) !== 'uploading') return;
      if (tile.status === 'ready') announce(`image ${index + 1} uploaded`);
      if (tile.status === 'failed') announce(`image ${index + 1} could not be uploaded: ${tile.error ?? ''}`);
    });
    previous.current = new Map(tiles.map((t) => [t.key, t.status]));
  }, [tiles, announce]);
}
