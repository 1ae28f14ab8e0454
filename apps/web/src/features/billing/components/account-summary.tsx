import type { Account, BillingOverview } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { AlertIcon, ExternalIcon, InfoIcon } from '#/components/ui/icons';
import { CoinIcon } from '#/features/credits/components/coin-icon';
import { formatDate, formatInteger } from '#/lib/format';
import { formatPrice, isEntitled, subscriptionNotice } from '../money';

const STATUS_LABEL: Record<string, { text: string; tone: string }> = {
  active: { text: 'Active', tone: 'success' },
  trialing: { text: 'Trial', tone: 'accent' },
  past_due: { text: 'Payment due', tone: 'warning' },
  unpaid: { text: 'Unpaid', tone: 'danger' },
  incomplete: { text: 'Incomplete', tone: 'warning' },
  incomplete_expired: { text: 'Expired', tone: 'danger' },
  canceled: { text: 'Ended', tone: 'danger' },
  paused: { text: 'Paused', tone: 'warning' },
};

/** The balance, the plan (or the free tier) with its limits and status, and the way to the Customer Portal. */
export function AccountSummary({ account, overview, canManage, onManage, isOpeningPortal }: {
  account: Account;
  overview: BillingOverview | undefined;
  /** There is a Stripe customer (a purchase or a subscription) to manage. */
  canManage: boolean;
  onManage: () => void;
  isOpeningPortal: boolean;
}) {
  const { available, held } = account.credits;
  const subscription = overview?.subscription ?? null;
  const plan = overview?.plans.find((p) => p.id === account.plan.id);
  const status = subscription && isEntitled(subscription) ? subscription : null;
  const label = status ? (STATUS_LABEL[status.status] ?? { text: status.status, tone: 'accent' }) : null;
  const notice = subscriptionNotice(subscription, formatDate);
  const price = formatPrice(plan?.price ?? null);
  const limits = account.plan.limits;

  return (
    <section className="billing-summary" aria-labelledby="billing-summary-title">
      <h2 id="billing-summary-title" className="visually-hidden">
        Your balance and plan
      </h2>
      <div className="billing-summary__grid">
        <div className="billing-summary__block">
          <p className="billing-summary__label">Balance</p>
          <p className="billing-summary__balance" data-testid="billing-balance">
            <CoinIcon size={22} />
            <span className="billing-summary__amount">{formatInteger(available)}</span>{' '}
            <span className="billing-summary__unit">{available === 1 ? 'credit' : 'credits'}</span>
          </p>
          <p className="billing-summary__hint">
            {held > 0 ? `${formatInteger(held)} more reserved for generations in progress — charged if they succeed, returned if not.` : 'Available to spend now.'}
          </p>
        </div>
        <div className="billing-summary__block">
          <p className="billing-summary__label">Plan</p>
          <p className="billing-summary__plan">
            <span className="billing-summary__plan-name">{account.plan.name}</span>
            {label && <span className={`badge badge--${label.tone}`}>{label.text}</span>}
            {price && status && <span className="billing-summary__price">{price}</span>}
          </p>
          <p className="billing-summary__hint">
            Images up to {formatInteger(limits.max_megapixels)} MP · {formatInteger(limits.max_concurrent_generations)} generation{limits.max_concurrent_generations === 1 ? '' : 's'} at once
            {status?.current_period_end && !status.cancel_at_period_end && status.status === 'active' ? ` · renews ${formatDate(status.current_period_end)}` : ''}
            {!status && overview && overview.free.monthly_credits > 0 ? ` · ${formatInteger(overview.free.monthly_credits)} free credits a month` : ''}
          </p>
        </div>
      </div>
      {notice && (
        <p className={`billing-note billing-note--${notice.tone}`}>
          {notice.tone === 'info' ? <InfoIcon size={16} /> : <AlertIcon size={16} />}
          <span>{notice.text}</span>
        </p>
      )}
      {canManage && (
        <div className="billing-summary__actions">
          <Button icon={<ExternalIcon size={15} />} isBusy={isOpeningPortal} onClick={onManage} variant={subscription?.status === 'past_due' ? 'primary' : 'secondary'}>
            {subscription ? 'Manage subscription / payment method' : 'Manage payment method & invoices'}
          </Button>
          <span className="billing-summary__hint">Opens Stripe’s secure billing portal.</span>
        </div>
      )}
    </section>
  );
}
