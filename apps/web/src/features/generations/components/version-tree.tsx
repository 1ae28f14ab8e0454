import { useId, type CSSProperties, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Generation } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { BranchIcon, ImageIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import { formatRelative } from '#/lib/format';
import { generationKeys } from '../api';
import { useGenerationVersions } from '../hooks/use-generations';
import { STATUS_LABEL } from '../status';
import { layoutVersions } from '../versions';

interface VersionTreeProps {
  generation: Generation;
  onOpen: (id: string) => void;
  now: number;
}

/** The refinement history around a generation, oldest first, forks indented; the one shown is highlighted. */
export function VersionTree({ generation: g, onOpen, now }: VersionTreeProps) {
  const client = useQueryClient();
  const titleId = useId();
  const versions = useGenerationVersions(g.id);

  if (versions.isPending) {
    // Only a refinement is known to have versions before the answer; for the rest, nothing flickers in.
    return g.parent_id ? <div className="skeleton version-skeleton" aria-label="Loading versions" /> : null;
  }
  if (versions.isError) {
    if (!g.parent_id) return null;
    return (
      <section className="detail__section" aria-labelledby={titleId}>
        <h3 id={titleId} className="detail__section-title">
          Versions
        </h3>
        <p className="detail__muted">
          Could not load the versions: {describeError(versions.error)}{' '}
          <Button size="sm" variant="ghost" onClick={() => void versions.refetch()}>
            Retry
          </Button>
        </p>
      </section>
    );
  }
  if (versions.data.data.length < 2) return null;

  const rows = layoutVersions(versions.data);
  const numberOf = new Map(rows.map((r) => [r.generation.id, r.number]));
  const parentOf = new Map(versions.data.edges.map((e) => [e.child, e.parent]));
  const open = (version: Generation) => {
    // The dialog shows it at once, whether or not the history grid has loaded that far.
    client.setQueryData<Generation>(generationKeys.detail(version.id), (old) => old ?? version);
    onOpen(version.id);
  };

  return (
    <section className="detail__section" aria-labelledby={titleId}>
      <h3 id={titleId} className="detail__section-title">
        <BranchIcon size={15} /> Versions <span className="detail__section-count">{rows.length}</span>
      </h3>
      <ol className="versions">
        {rows.map(({ generation: v, depth, number, isForkStart }) => {
          const isCurrent = v.id === g.id;
          const thumb = v.images[0]?.thumbnail_url;
          const from = isForkStart ? numberOf.get(parentOf.get(v.id) ?? '') : undefined;
          return (
            <li key={v.id} className={`version${isCurrent ? ' version--current' : ''}${isForkStart ? ' version--fork' : ''}`} style={{ '--depth': Math.min(depth, 5) } as CSSProperties}>
              <Row isCurrent={isCurrent} onOpen={() => open(v)}>
                <span className="version__rail" aria-hidden="true" />
                <span className="version__thumb">{thumb ? <img src={thumb} alt="" loading="lazy" /> : <ImageIcon size={16} />}</span>
                <span className="version__text">
                  <span className="version__title">
                    <span className="version__number">v{number}</span>
                    {isCurrent && <span className="badge badge--accent">Showing</span>}
                    {from !== undefined && <span className="version__from">from v{from}</span>}
                  </span>
                  <span className="version__prompt">{v.prompt}</span>
                  <span className="version__meta">
                    {v.status === 'succeeded' ? formatRelative(v.created_at, now) : STATUS_LABEL[v.status]}
                    {v.references.length > 0 && ` · ${v.references.length} ref${v.references.length === 1 ? '' : 's'}`}
                  </span>
                </span>
              </Row>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** The version shown is marked, not a button: opening it again would do nothing. */
function Row({ isCurrent, onOpen, children }: { isCurrent: boolean; onOpen: () => void; children: ReactNode }) {
  if (isCurrent)
    return (
      <div className="version__button" aria-current="true">
        {children}
      </div>
    );
  return (
    <button type="button" className="version__button" onClick={onOpen}>
      {children}
    </button>
  );
}
