import { Link } from 'react-router';
import { CloseIcon, RefineIcon } from '#/components/ui/icons';
import { clearRefineParent, type RefineParent } from '#/features/references/reference-store';

/** "Refining ‹thumb›": the next generation becomes a new version of this one, until cleared. */
export function RefineChip({ parent, error }: { parent: RefineParent; error: string | undefined }) {
  return (
    <div className="refine-chip-wrap">
      <div className={`refine-chip${error ? ' refine-chip--invalid' : ''}`}>
        <RefineIcon size={15} className="refine-chip__icon" />
        <span className="refine-chip__label">Refining</span>
        <Link to={`/images/${parent.id}`} state={{ fromGrid: true }} className="refine-chip__link" title={parent.prompt}>
          <img className="refine-chip__thumb" src={parent.thumbnailUrl} alt="" />
          <span className="refine-chip__prompt">{parent.prompt}</span>
        </Link>
        <button type="button" className="refine-chip__clear" aria-label="Stop refining: the next image starts a new history" title="Stop refining" onClick={clearRefineParent}>
          <CloseIcon size={14} />
        </button>
      </div>
      {error && <p className="field__error">{error}</p>}
    </div>
  );
}
