import { Link } from 'react-router';
import type { CreditTransaction } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { AlertIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import { formatDate, formatDateTime } from '#/lib/format';
import { useCreditTransactions } from '../hooks/use-account';
import { signedCredits } from '../amounts';
import './ledger-table.css';

function Change({ value, label }: { value: number; label: string }) {
  if (value === 0) return <span className="credit-change credit-change--none" aria-label={`${label}: no change`}>—</span>;
  const { text, tone } = signedCredits(value);
  return <span className={`credit-change credit-change--${tone}`}>{text}</span>;
}

function Row({ t }: { t: CreditTransaction }) {
  return (
    <tr>
      <td data-label="Date">
        <time dateTime={t.created_at}>{formatDateTime(t.created_at)}</time>
      </td>
      <td data-label="What" className="ledger-table__what">
        {t.description}
        {t.generation_id && (
          <Link to={`/images/${t.generation_id}`} className="ledger-link ledger-table__sub">
            View the generation
          </Link>
        )}
        {t.expires_at && t.available_change > 0 && <span className="ledger-table__sub">Expires {formatDate(t.expires_at)}</span>}
      </td>
      <td data-label="Available" className="ledger-table__num">
        <Change value={t.available_change} label="Available" />
      </td>
      <td data-label="Reserved" className="ledger-table__num">
        <Change value={t.held_change} label="Reserved" />
      </td>
    </tr>
  );
}

/**
 * Every credit movement, newest first: grants and purchases (+), reservations when a generation
 * starts (available −, reserved +), the charge when it succeeds (reserved −), returns when it fails.
 */
export function CreditHistory() {
  const history = useCreditTransactions();
  return (
    <section className="billing-section" aria-labelledby="credit-history-title">
      <header className="billing-section__header">
        <h2 id="credit-history-title" className="billing-section__title">
          Credit history
        </h2>
        <p className="billing-section__text">A generation reserves its price when it starts; it is charged from the reserve when it succeeds and returned if it fails or is canceled.</p>
      </header>
      {history.isPending ? (
        <div className="skeleton ledger-skeleton" aria-label="Loading credit history" />
      ) : !history.data ? (
        // A failed "Load more" keeps the rows already shown (the query is in error, with data): only a failed first page lands here.
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your credit history: {describeError(history.error)}</span>
          <Button size="sm" onClick={() => void history.refetch()}>
            Retry
          </Button>
        </div>
      ) : history.data.items.length === 0 ? (
        <p className="ledger-empty">No credit movements yet.</p>
      ) : (
        <>
          <div className="ledger-table-wrap">
            <table className="ledger-table ledger-table--history" aria-labelledby="credit-history-title">
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">What</th>
                  <th scope="col" className="ledger-table__num">
                    Available
                  </th>
                  <th scope="col" className="ledger-table__num">
                    Reserved
                  </th>
                </tr>
              </thead>
              <tbody>
                {history.data.items.map((t) => (
                  <Row key={t.id} t={t} />
                ))}
              </tbody>
            </table>
          </div>
          {history.data.hasMore && (
            <Button className="ledger-more" isBusy={history.isFetchingNextPage} onClick={() => void history.fetchNextPage()}>
              Load more
            </Button>
          )}
          {history.isFetchNextPageError && (
            <p className="field__error" role="alert">
              Could not load more: {describeError(history.error)}
            </p>
          )}
        </>
      )}
    </section>
  );
}
