import { useState, type DragEvent, type KeyboardEvent } from 'react';
import { AlertIcon, ChevronLeftIcon, ChevronRightIcon, CloseIcon, ImageIcon } from '#/components/ui/icons';
import { ProgressBar } from '#/components/ui/progress';
import type { ReferenceTile } from '../reference-store';

interface TileProps {
  tile: ReferenceTile;
  index: number;
  count: number;
  isOverLimit: boolean;
  serverError: string | undefined;
  isDragging: boolean;
  dropSide: 'before' | 'after' | null;
  describedBy: string;
  onInsert: () => void;
  onRemove: () => void;
  onMove: (to: number) => void;
  onLabelKey: (event: KeyboardEvent) => void;
  onDragStart: (event: DragEvent) => void;
  onDragEnd: () => void;
  onDragOver: (event: DragEvent) => void;
  onDrop: (event: DragEvent) => void;
}

/** One reference: thumbnail, upload state, remove and move buttons, and its "image N" label (inserts into the prompt). */
export function ReferenceTileView({ tile, index, count, isOverLimit, serverError, isDragging, dropSide, describedBy, onInsert, onRemove, onMove, onLabelKey, ...drag }: TileProps) {
  const [isBroken, setBroken] = useState(false);
  const src = tile.localUrl ?? tile.thumbnailUrl;
  const label = `image ${index + 1}`;
  const state =
    tile.status === 'uploading'
      ? `uploading${tile.progress > 0 ? ` ${Math.round(tile.progress * 100)}%` : ''}`
      : tile.status === 'failed'
        ? 'upload failed'
        : isOverLimit
          ? 'over the model’s limit'
          : serverError
            ? 'refused'
            : null;
  const classes = [
    'ref-tile',
    `ref-tile--${tile.status}`,
    isOverLimit && 'ref-tile--over',
    serverError && 'ref-tile--invalid',
    isDragging && 'ref-tile--dragging',
    dropSide && `ref-tile--drop-${dropSide}`,
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <li className={classes} data-key={tile.key} draggable onDragStart={drag.onDragStart} onDragEnd={drag.onDragEnd} onDragOver={drag.onDragOver} onDrop={drag.onDrop}>
      <div className="ref-tile__thumb" title={tile.name}>
        {src && !isBroken ? (
          <img src={src} alt="" draggable={false} onError={() => setBroken(true)} />
        ) : (
          <span className="ref-tile__placeholder">
            <ImageIcon size={20} />
          </span>
        )}
        {tile.status === 'uploading' && (
          <span className="ref-tile__uploading">
            <ProgressBar value={tile.progress > 0 ? tile.progress : null} label={`Uploading ${tile.name}`} />
          </span>
        )}
        {tile.status === 'failed' && (
          <span className="ref-tile__failed" aria-hidden="true">
            <AlertIcon size={20} />
          </span>
        )}
        {isOverLimit && tile.status !== 'failed' && (
          <span className="ref-tile__over" aria-hidden="true">
            Over limit
          </span>
        )}
        <button type="button" className="ref-tile__remove" aria-label={`Remove ${label}`} title={`Remove ${label}`} onClick={onRemove}>
          <CloseIcon size={12} />
        </button>
        {count > 1 && (
          <span className="ref-tile__moves">
            <button type="button" className="ref-tile__move" tabIndex={-1} aria-label={`Move ${label} left`} title="Move left" disabled={index === 0} onClick={() => onMove(index - 1)}>
              <ChevronLeftIcon size={14} />
            </button>
            <button type="button" className="ref-tile__move" tabIndex={-1} aria-label={`Move ${label} right`} title="Move right" disabled={index === count - 1} onClick={() => onMove(index + 1)}>
              <ChevronRightIcon size={14} />
            </button>
          </span>
        )}
      </div>
      <button
        type="button"
        className="ref-tile__label"
        aria-label={`${label}${state ? `, ${state}` : ''}`}
        title={`Insert “${label}” into the prompt`}
        aria-describedby={describedBy}
        aria-keyshortcuts="ArrowLeft ArrowRight Home End Delete"
        onClick={onInsert}
        onKeyDown={onLabelKey}
      >
        {label}
      </button>
    </li>
  );
}
