import { memo, useState, type MouseEvent } from 'react';
import { Link } from 'react-router';
import type { Generation } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { AlertIcon, DownloadIcon, ImageIcon, ImagePlusIcon, MoreIcon, RefineIcon, ReuseIcon, StopIcon, TrashIcon } from '#/components/ui/icons';
import { Menu } from '#/components/ui/menu';
import { ProgressBar } from '#/components/ui/progress';
import { formatDuration } from '#/lib/format';
import { FolderPlusIcon, SelectIcon, StarFilledIcon, StarIcon } from '#/features/history/icons';
import { IMAGE_DRAG_TYPE } from '#/features/references/rules';
import { downloadFileName, downloadUrl } from '../api';
import { useNow } from '../hooks/use-now';
import { STATUS_LABEL, isActive, progressLabel } from '../status';
import { RatioGlyph } from './ratio-glyph';

interface GenerationCardProps {
  generation: Generation;
  /** The grid's filters as a query string ('' for none): the detail keeps them, so ←/→ browse the same results. */
  linkSearch: string;
  onReuse: (g: Generation) => void;
  onDelete: (g: Generation) => void;
  onCancel: (g: Generation) => void;
  onRefine: (g: Generation) => void;
  onUseAsReference: (g: Generation) => void;
  onToggleFavorite: (g: Generation) => void;
  onAddToCollection: (g: Generation) => void;
  /** Toggles the card's selection; `range` (Shift) extends it from the last card toggled. */
  onSelect: (g: Generation, options: { range: boolean }) => void;
  isCanceling: boolean;
  isSelecting: boolean;
  isSelected: boolean;
}

export const GenerationCard = memo(function GenerationCard({
  generation: g,
  linkSearch,
  onReuse,
  onDelete,
  onCancel,
  onRefine,
  onUseAsReference,
  onToggleFavorite,
  onAddToCollection,
  onSelect,
  isCanceling,
  isSelecting,
  isSelected,
}: GenerationCardProps) {
  const image = g.images[0];
  const active = isActive(g);
  const [isBroken, setBroken] = useState(false);
  const shortPrompt = g.prompt.length > 120 ? `${g.prompt.slice(0, 117)}…` : g.prompt;
  // Justified rows: each card grows in proportion to its aspect ratio, so a row keeps one height and
  // every image shows whole. Extreme ratios are clamped (and cropped) so one panorama cannot fill a row.
  const ratio = Math.min(2.4, Math.max(0.5, g.width / g.height));
  const classes = ['gen-card', `gen-card--${g.status}`, isSelecting && 'gen-card--selecting', isSelected && 'gen-card--selected', g.favorite && 'gen-card--favorite'].filter(Boolean).join(' ');

  // In select mode a click selects; anywhere, Shift- or Ctrl/Cmd-click selects (as in a file manager).
  const onLinkClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (!isSelecting && !event.shiftKey && !event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    onSelect(g, { range: event.shiftKey });
  };

  return (
    <li className={classes} style={{ flexGrow: ratio, flexBasis: `calc(var(--row-h) * ${ratio.toFixed(4)})`, aspectRatio: String(ratio) }}>
      <Link
        to={{ pathname: `/images/${g.id}`, search: linkSearch }}
        state={{ fromGrid: true }}
        className="gen-card__link"
        aria-label={`${STATUS_LABEL[g.status]}: ${shortPrompt}`}
        onClick={onLinkClick}
        // Dragged onto the generate panel, a finished image becomes a reference.
        onDragStart={(event) => {
          if (g.status === 'succeeded' && image) event.dataTransfer.setData(IMAGE_DRAG_TYPE, JSON.stringify({ id: image.id, thumbnailUrl: image.thumbnail_url, name: g.prompt }));
        }}
      >
        {g.status === 'succeeded' && image && !isBroken ? (
          <img
            className="gen-card__img"
            src={image.thumbnail_url}
            srcSet={`${image.thumbnail_url} 256w, ${image.preview_url} 768w`}
            sizes="(max-width: 640px) 50vw, 280px"
            alt=""
            loading="lazy"
            decoding="async"
            onError={() => setBroken(true)}
          />
        ) : (
          <CardPlaceholder generation={g} isBroken={isBroken} />
        )}
        <span className="gen-card__caption" aria-hidden="true">
          <span className="gen-card__prompt">{g.prompt}</span>
          <span className="gen-card__meta">
            {g.model_label} · {g.width}×{g.height}
          </span>
        </span>
      </Link>

      <label className="gen-card__select" title={isSelected ? 'Deselect' : 'Select (Shift-click selects a range)'}>
        <input
          type="checkbox"
          className="gen-card__checkbox"
          checked={isSelected}
          aria-label={`Select “${shortPrompt}”`}
          onChange={() => {}}
          onClick={(event) => onSelect(g, { range: event.shiftKey })}
        />
        <span className="gen-card__checkmark" aria-hidden="true" />
      </label>

      {active ? (
        <div className="gen-card__cancel">
          <Button size="sm" variant="secondary" icon={<StopIcon size={13} />} isBusy={isCanceling} onClick={() => onCancel(g)} aria-label={`Cancel “${shortPrompt}”`}>
            Cancel
          </Button>
        </div>
      ) : (
        <div className="gen-card__actions">
          {g.status === 'succeeded' && image && (
            <>
              <IconButton label="Refine: edit this image into a new version" size="sm" variant="secondary" onClick={() => onRefine(g)}>
                <RefineIcon size={15} />
              </IconButton>
              <IconButton label="Use as reference" size="sm" variant="secondary" onClick={() => onUseAsReference(g)}>
                <ImagePlusIcon size={15} />
              </IconButton>
            </>
          )}
          {image && (
            <a
              className="btn btn--secondary btn--sm btn--icon"
              href={downloadUrl(image.url)}
              download={downloadFileName(g, image.format)}
              aria-label="Download original"
              title="Download original"
            >
              <DownloadIcon size={15} />
            </a>
          )}
          <Menu
            label="More actions"
            items={[
              { key: 'reuse', label: 'Reuse prompt and settings', icon: <ReuseIcon size={15} />, onSelect: () => onReuse(g) },
              { key: 'collect', label: 'Add to collection…', icon: <FolderPlusIcon size={15} />, onSelect: () => onAddToCollection(g) },
              { key: 'select', label: 'Select', icon: <SelectIcon size={15} />, onSelect: () => onSelect(g, { range: false }) },
              { key: 'delete', label: 'Delete', icon: <TrashIcon size={15} />, tone: 'danger', onSelect: () => onDelete(g) },
            ]}
            trigger={(props) => (
              <button {...props} type="button" className="btn btn--secondary btn--sm btn--icon" aria-label="More actions" title="More actions">
                <MoreIcon size={15} />
              </button>
            )}
          />
          {(g.status === 'succeeded' || g.favorite) && (
            <button
              type="button"
              className="btn btn--secondary btn--sm btn--icon gen-card__star"
              aria-pressed={g.favorite}
              aria-label="Favourite"
              title={g.favorite ? 'Remove from favourites' : 'Add to favourites'}
              onClick={() => onToggleFavorite(g)}
            >
              {g.favorite ? <StarFilledIcon size={15} /> : <StarIcon size={15} />}
            </button>
          )}
        </div>
      )}
    </li>
  );
});

function CardPlaceholder({ generation: g, isBroken }: { generation: Generation; isBroken: boolean }) {
  const active = isActive(g);
  const now = useNow(g.status === 'running');
  const elapsed = g.status === 'running' && g.started_at ? now - new Date(g.started_at).getTime() : null;

  if (g.status === 'failed' || g.status === 'blocked') {
    return (
      <span className={`gen-card__placeholder gen-card__placeholder--${g.status === 'blocked' ? 'blocked' : 'error'}`}>
        <AlertIcon size={22} />
        <span className="gen-card__status">{STATUS_LABEL[g.status]}</span>
        {g.error && <span className="gen-card__error">{g.error.message}</span>}
      </span>
    );
  }
  if (!active) {
    return (
      <span className="gen-card__placeholder">
        <ImageIcon size={22} />
        <span className="gen-card__status">{isBroken ? 'Image unavailable' : STATUS_LABEL[g.status]}</span>
      </span>
    );
  }
  return (
    <span className="gen-card__placeholder gen-card__placeholder--active">
      <span className="gen-card__frame" aria-hidden="true">
        <RatioGlyph ratio={`${g.width}:${g.height}`} size={44} />
      </span>
      <span className="gen-card__status">
        {progressLabel(g)}
        {elapsed !== null && elapsed > 0 && <span className="gen-card__elapsed"> · {formatDuration(elapsed)}</span>}
      </span>
      <span className="gen-card__progress">
        <ProgressBar value={g.status === 'running' ? g.progress : null} label={`Progress of “${g.prompt.slice(0, 40)}”`} />
      </span>
    </span>
  );
}
