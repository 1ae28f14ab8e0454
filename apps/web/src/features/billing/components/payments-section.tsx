import type { Payment } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { AlertIcon, ExternalIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import { formatDateTime } from '#/lib/format';
import { formatMoney } from '../money';
import type { usePayments } from '../hooks/use-billing';
import '#/features/credits/components/ledger-table.css';

const STATUS: Record<Payment['status'], { text: string; tone: string }> = {
  pending: { text: 'Pending', tone: 'warning' },
  paid: { text: 'Paid', tone: 'success' },
  failed: { text: 'Failed', tone: 'danger' },
  refunded: { text: 'Refunded', tone: 'accent' },
  partially_refunded: { text: 'Partly refunded', tone: 'accent' },
  disputed: { text: 'Disputed', tone: 'warning' },
  dispute_lost: { text: 'Charged back', tone: 'danger' },
};

/** Only web links: a receipt address is Stripe's, but a link must never be able to run script. */
function webUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Every payment to Atelier, with Stripe's receipt or invoice page. */
export function PaymentsSection({ payments }: { payments: ReturnType<typeof usePayments> }) {
  return (
    <section className="billing-section" aria-labelledby="billing-payments-title">
      <header className="billing-section__header">
        <h2 id="billing-payments-title" className="billing-section__title">
          Payments & receipts
        </h2>
      </header>
      {payments.isPending ? (
        <div className="skeleton ledger-skeleton" aria-label="Loading payments" />
      ) : payments.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your payments: {describeError(payments.error)}</span>
          <Button size="sm" onClick={() => void payments.refetch()}>
            Retry
          </Button>
        </div>
      ) : payments.data.length === 0 ? (
        <p className="ledger-empty">No payments yet.</p>
      ) : (
        <div className="ledger-table-wrap">
          <table className="ledger-table ledger-table--payments">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col" className="ledger-table__num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Receipt</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {payments.data.map((p) => (
                <tr key={p.id}>
                  <td data-label="Date">
                    <time dateTime={p.created_at}>{formatDateTime(p.created_at)}</time>
                  </td>
                  <td data-label="What" className="ledger-table__what">
                    {p.description}
                  </td>
                  <td data-label="Amount" className="ledger-table__num">
                    {formatMoney(p.amount, p.currency)}
                  </td>
                  <td data-label="Status">
                    <span className={`badge badge--${STATUS[p.status].tone}`}>{STATUS[p.status].text}</span>
                  </td>
                  <td className="ledger-table__action">
                    {webUrl(p.receipt_url) ? (
                      <a href={webUrl(p.receipt_url)!} target="_blank" rel="noreferrer noopener" className="ledger-link">
                        Receipt
                        <ExternalIcon size={13} />
                        <span className="visually-hidden"> for {p.description} (opens in a new tab)</span>
                      </a>
                    ) : (
                      <span className="muted">No receipt yet</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
