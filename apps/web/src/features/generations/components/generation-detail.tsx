import { useEffect, useId, useState, type ReactNode } from 'react';
import { ENGINE_LABELS, LOCAL_UPSCALER_LABEL, type Generation } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { AlertIcon, ChevronLeftIcon, ChevronRightIcon, CloseIcon, CopyIcon, DownloadIcon, ImagePlusIcon, RefineIcon, ReuseIcon, StopIcon, TrashIcon } from '#/components/ui/icons';
import { ProgressBar } from '#/components/ui/progress';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { copyText } from '#/lib/clipboard';
import { durationBetween, formatBytes, formatCredits, formatDateTime, formatDuration, formatMegapixels, formatRelative } from '#/lib/format';
import { CollectionPickerDialog } from '#/features/collections/components/collection-picker-dialog';
import { useCollections } from '#/features/collections/hooks/use-collections';
import { CompareStage, useCompareCandidates } from '#/features/history/components/compare-stage';
import { DownloadMenu } from '#/features/history/components/download-menu';
import { RerunActions } from '#/features/history/components/rerun-actions';
import { CompareIcon, FolderPlusIcon, StarFilledIcon, StarIcon } from '#/features/history/icons';
import { downloadFileName, downloadUrl } from '../api';
import { reuseGeneration } from '../draft-store';
import { useCancelGeneration, useDeleteGeneration, useToggleFavorite } from '../hooks/use-generation-mutations';
import { useNow } from '../hooks/use-now';
import { useReferenceActions } from '../hooks/use-reference-actions';
import { isActive, progressLabel } from '../status';
import { StatusBadge } from './status-badge';
import { UpscaleMenu } from './upscale-menu';
import { VersionTree } from './version-tree';
import './generation-detail.css';

interface GenerationDetailProps {
  generation: Generation;
  titleId: string;
  onClose: () => void;
  /** Called after a delete succeeds, so the owner can move to a neighbour or close. */
  onDeleted: () => void;
  prev: (() => void) | null;
  next: (() => void) | null;
  position: string | null;
  /** Shows another generation in this dialog (a version from the version graph). */
  onOpen: (id: string) => void;
}

export function GenerationDetail({ generation: g, titleId, onClose, onDeleted, prev, next, position, onOpen }: GenerationDetailProps) {
  const toast = useToast();
  const cancel = useCancelGeneration();
  const remove = useDeleteGeneration();
  const { refine, addAsReference } = useReferenceActions();
  const favorite = useToggleFavorite();
  const collections = useCollections();
  const { candidates } = useCompareCandidates(g);
  const [imageIndex, setImageIndex] = useState(0);
  const [isConfirmingDelete, setConfirmingDelete] = useState(false);
  const [isComparing, setComparing] = useState(false);
  const [isPickingCollection, setPickingCollection] = useState(false);
  const image = g.images[imageIndex] ?? g.images[0];
  const active = isActive(g);
  const now = useNow(active);
  const duration = durationBetween(g.started_at ?? g.created_at, g.completed_at);
  const inCollections = (collections.data ?? []).filter((c) => g.collection_ids.includes(c.id));

  useEffect(() => {
    setImageIndex(0);
    setComparing(false);
  }, [g.id]);

  const toggleFavorite = () =>
    favorite.mutate({ id: g.id, favorite: !g.favorite }, { onError: (error) => toast.error(g.favorite ? 'Could not remove the favourite' : 'Could not add the favourite', describeError(error)) });

  const copy = async (text: string, what: string) => {
    try {
      await copyText(text);
      toast.success(`${what} copied`);
    } catch (error) {
      toast.error(`Could not copy the ${what.toLowerCase()}`, describeError(error));
    }
  };

  const doCancel = () =>
    cancel.mutate(g.id, {
      onError: (error) =>
        toast.error(isApiError(error) && error.code === 'invalid_state' ? 'It had already finished' : 'Could not cancel', describeError(error)),
    });

  const doDelete = () =>
    remove.mutate(g.id, {
      onSuccess: () => {
        setConfirmingDelete(false);
        toast.success('Image deleted');
        onDeleted();
      },
      onError: (error) => {
        setConfirmingDelete(false);
        toast.error('Could not delete the image', describeError(error));
      },
    });

  return (
    <div className="detail">
      <div className="detail__stage">
        {isComparing && g.status === 'succeeded' && image ? (
          <CompareStage generation={g} image={image} onExit={() => setComparing(false)} />
        ) : g.status === 'succeeded' && image ? (
          <img
            key={image.id}
            className="detail__image"
            src={image.preview_url}
            srcSet={`${image.preview_url} 768w, ${image.url} ${image.width}w`}
            sizes="(max-width: 900px) 100vw, calc(100vw - 420px)"
            alt={g.prompt}
            width={image.width}
            height={image.height}
          />
        ) : (
          <StagePlaceholder generation={g} now={now} onCancel={doCancel} isCanceling={cancel.isPending} />
        )}
        {!isComparing && g.status === 'succeeded' && image && candidates.length > 0 && (
          <Button size="sm" variant="secondary" className="detail__compare" icon={<CompareIcon size={14} />} title="Compare with another version, with a slider or side by side" onClick={() => setComparing(true)}>
            Compare
          </Button>
        )}
        <IconButton label="Close (Esc)" variant="secondary" className="detail__stage-close" onClick={onClose}>
          <CloseIcon size={18} />
        </IconButton>
        {prev && (
          <IconButton label="Previous image (←)" className="detail__nav detail__nav--prev" variant="secondary" onClick={prev}>
            <ChevronLeftIcon size={20} />
          </IconButton>
        )}
        {next && (
          <IconButton label="Next image (→)" className="detail__nav detail__nav--next" variant="secondary" onClick={next}>
            <ChevronRightIcon size={20} />
          </IconButton>
        )}
        {g.images.length > 1 && !isComparing && (
          <div className="detail__thumbs" role="group" aria-label="Images in this generation">
            {g.images.map((img, i) => (
              <button key={img.id} type="button" className="detail__thumb" aria-pressed={i === imageIndex} aria-label={`Image ${i + 1}`} onClick={() => setImageIndex(i)}>
                <img src={img.thumbnail_url} alt="" />
              </button>
            ))}
          </div>
        )}
      </div>

      <aside className="detail__info">
        <header className="detail__header">
          <div className="detail__heading">
            <StatusBadge status={g.status} />
            <h2 id={titleId} className="detail__title">
              Image details
            </h2>
            {position && <span className="detail__position">{position}</span>}
          </div>
          <div className="detail__header-end">
            {(g.status === 'succeeded' || g.favorite) && (
              <button
                type="button"
                className={`btn btn--ghost btn--md btn--icon detail__star${g.favorite ? ' detail__star--on' : ''}`}
                aria-pressed={g.favorite}
                aria-label="Favourite"
                title={g.favorite ? 'Remove from favourites' : 'Add to favourites'}
                onClick={toggleFavorite}
              >
                {g.favorite ? <StarFilledIcon size={18} /> : <StarIcon size={18} />}
              </button>
            )}
            <IconButton label="Close (Esc)" className="detail__close" onClick={onClose}>
              <CloseIcon size={18} />
            </IconButton>
          </div>
        </header>

        {(g.status === 'failed' || g.status === 'blocked') && g.error && (
          <div className="detail__error" role="status">
            <AlertIcon size={16} />
            <p>{g.error.message}</p>
          </div>
        )}

        <section className="detail__prompt-block" aria-label="Prompt">
          <p className="detail__prompt">{g.prompt}</p>
          <button type="button" className="detail__copy-link" onClick={() => void copy(g.prompt, 'Prompt')}>
            <CopyIcon size={13} /> Copy prompt
          </button>
        </section>

        <div className="detail__actions detail__actions--primary">
          {image && (
            <div className="split-button">
              <a className="btn btn--primary btn--md split-button__main" href={downloadUrl(image.url)} download={downloadFileName(g, image.format)}>
                <DownloadIcon size={16} /> Download
              </a>
              <DownloadMenu key={image.id} generation={g} image={image} />
            </div>
          )}
          {g.status === 'succeeded' && image && (
            <Button
              className="detail__refine"
              icon={<RefineIcon size={16} />}
              title="Edit this image into a new version: it becomes image 1 of the next generation"
              onClick={() => {
                refine(g, image);
                onClose();
              }}
            >
              Refine
            </Button>
          )}
        </div>
        <RerunActions generation={g} onOpen={onOpen} />
        <div className="detail__actions">
          {g.status === 'succeeded' && image && (
            <Button size="sm" icon={<ImagePlusIcon size={14} />} onClick={() => addAsReference(g, image)}>
              Use as reference
            </Button>
          )}
          {image && <UpscaleMenu generation={g} image={image} onOpen={onOpen} />}
          <Button size="sm" icon={<FolderPlusIcon size={14} />} onClick={() => setPickingCollection(true)}>
            Collections{g.collection_ids.length > 0 ? ` (${g.collection_ids.length})` : ''}
          </Button>
          <Button size="sm" icon={<ReuseIcon size={14} />} onClick={() => { reuseGeneration(g); onClose(); }}>
            Reuse prompt
          </Button>
          {active ? (
            <Button size="sm" variant="danger" icon={<StopIcon size={14} />} isBusy={cancel.isPending} onClick={doCancel}>
              Cancel
            </Button>
          ) : (
            <Button size="sm" variant="danger" icon={<TrashIcon size={14} />} onClick={() => setConfirmingDelete(true)}>
              Delete
            </Button>
          )}
        </div>

        {g.references.length > 0 && (
          <section className="detail__section" aria-label="Reference images">
            <h3 className="detail__section-title">
              References <span className="detail__section-count">{g.references.length}</span>
            </h3>
            <ol className="detail__refs">
              {g.references.map((r, i) => (
                <li key={`${r.id}-${i}`} className="detail__ref">
                  <img src={r.thumbnail_url} alt={`image ${i + 1}${r.kind === 'image' ? ', from your history' : ', uploaded'}`} loading="lazy" />
                  <span className="detail__ref-label">image {i + 1}</span>
                </li>
              ))}
            </ol>
          </section>
        )}

        <VersionTree generation={g} onOpen={onOpen} now={now} />

        <dl className="detail__meta">
          <Meta label="Model">
            {g.model_label}
            <span className={`badge${g.is_preview_engine ? ' badge--warning' : ''}`} title={g.is_preview_engine ? 'Offline preview engine — not a diffusion model' : undefined}>
              {g.is_preview_engine ? 'Preview engine' : g.engine === 'offline' && g.workflow === 'upscale' ? LOCAL_UPSCALER_LABEL : ENGINE_LABELS[g.engine]}
            </span>
          </Meta>
          <Meta label="Size">
            {g.width} × {g.height} <span className="detail__muted"> · {formatMegapixels(g.width, g.height)}{g.aspect_ratio ? ` · ${g.aspect_ratio}` : ''}</span>
          </Meta>
          <Meta label="Seed">
            <span className="mono">{g.seed ?? '—'}</span>
            {g.seed !== null && (
              <IconButton label="Copy seed" size="sm" className="detail__inline-action" onClick={() => void copy(String(g.seed), 'Seed')}>
                <CopyIcon size={13} />
              </IconButton>
            )}
          </Meta>
          {inCollections.length > 0 && (
            <Meta label="Collections">
              <span className="detail__collections">
                {inCollections.map((c) => (
                  <span key={c.id} className="badge">
                    {c.name}
                  </span>
                ))}
              </span>
            </Meta>
          )}
          <Meta label="Format">
            {g.output_format.toUpperCase()}
            {image && <span className="detail__muted"> · {formatBytes(image.bytes)}</span>}
          </Meta>
          <Meta label="Created">
            <time dateTime={g.created_at} title={formatDateTime(g.created_at)}>
              {formatRelative(g.created_at, now)}
            </time>
          </Meta>
          <Meta label="Completed">{g.completed_at ? <time dateTime={g.completed_at}>{formatDateTime(g.completed_at)}</time> : '—'}</Meta>
          <Meta label="Duration">{duration !== null ? formatDuration(duration) : active && g.started_at ? `${formatDuration(now - new Date(g.started_at).getTime())} so far` : '—'}</Meta>
          <Meta label="Cost">
            {formatCredits(g.cost_credits)}
            {g.cost_credits === null && <span className="detail__muted"> (billing not enabled)</span>}
          </Meta>
        </dl>
      </aside>

      {isPickingCollection && <CollectionPickerDialog target={{ mode: 'toggle', generationId: g.id }} onClose={() => setPickingCollection(false)} />}
      {isConfirmingDelete && (
        <ConfirmDialog title="Delete this image?" confirmLabel="Delete" isBusy={remove.isPending} onConfirm={doDelete} onCancel={() => setConfirmingDelete(false)}>
          <p>The image and its record are removed for good. This can’t be undone.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function Meta({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="detail__meta-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function StagePlaceholder({ generation: g, now, onCancel, isCanceling }: { generation: Generation; now: number; onCancel: () => void; isCanceling: boolean }) {
  const active = isActive(g);
  const elapsed = g.status === 'running' && g.started_at ? now - new Date(g.started_at).getTime() : null;
  const labelId = useId();
  return (
    <div className={`detail__placeholder${active ? ' detail__placeholder--active' : ''}`}>
      <div className="detail__placeholder-frame" style={{ aspectRatio: `${g.width} / ${g.height}` }}>
        {active ? (
          <div className="detail__placeholder-status">
            <p id={labelId} className="detail__placeholder-title">
              {progressLabel(g)}
            </p>
            {elapsed !== null && elapsed > 0 && <p className="detail__muted">{formatDuration(elapsed)} elapsed</p>}
            <ProgressBar value={g.status === 'running' ? g.progress : null} label="Generation progress" />
            <Button size="sm" icon={<StopIcon size={14} />} isBusy={isCanceling} onClick={onCancel}>
              Cancel
            </Button>
          </div>
        ) : (
          <div className="detail__placeholder-status">
            {g.status !== 'canceled' && <AlertIcon size={28} />}
            <p className="detail__placeholder-title">{g.status === 'canceled' ? 'Canceled' : g.status === 'blocked' ? 'Blocked' : g.status === 'failed' ? 'Failed' : 'No image'}</p>
          </div>
        )}
      </div>
    </div>
  );
}
