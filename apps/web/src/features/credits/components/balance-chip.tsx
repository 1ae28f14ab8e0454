import { useId } from 'react';
import { NavLink } from 'react-router';
import { formatCredits, formatInteger } from '#/lib/format';
import { useAccount } from '../hooks/use-account';
import { CoinIcon } from './coin-icon';
import './credits.css';

/**
 * The balance in the top bar: "1,234 credits · 12 reserved", live (credits.updated events), linking to
 * Billing & credits. Hovering or focusing it explains what the numbers mean.
 */
export function BalanceChip() {
  const account = useAccount();
  const tipId = useId();
  if (!account.data) {
    // Loading, or the account could not be read: keep the space, say nothing wrong.
    return <span className="balance-chip balance-chip--pending" aria-hidden="true" />;
  }
  const { available, held } = account.data.credits;
  return (
    <span className="balance-chip-wrap">
      <NavLink
        to="/billing"
        className={({ isActive }) => `balance-chip${available === 0 ? ' balance-chip--empty' : ''}${isActive ? ' balance-chip--active' : ''}`}
        aria-describedby={tipId}
        data-testid="balance-chip"
      >
        <CoinIcon size={15} />
        {/* The spaces between the parts are for reading and copying; flex layout ignores them. */}
        <span className="balance-chip__amount">{formatInteger(available)}</span>{' '}
        <span className="balance-chip__unit">{available === 1 ? 'credit' : 'credits'}</span>
        {held > 0 && (
          <>
            {' '}
            <span className="balance-chip__held">· {formatInteger(held)} reserved</span>
          </>
        )}
      </NavLink>
      <span role="tooltip" id={tipId} className="balance-chip__tip">
        <strong>{formatCredits(available)} to spend.</strong>
        {held > 0 ? ` ${formatCredits(held)} reserved for generations in progress: charged when they finish, returned if they fail.` : ' A generation reserves its price when it starts and is charged when it succeeds; failed work is never charged.'}{' '}
        Billing & credits shows the history{account.data.payments_enabled ? ' and sells more' : ''}.
      </span>
    </span>
  );
}
