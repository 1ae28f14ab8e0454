import { Link } from 'react-router';
import { AlertIcon } from '#/components/ui/icons';
import { formatCredits, formatInteger } from '#/lib/format';
import '#/components/ui/inline-warning.css';
import './credits.css';

/** Next to the Generate button when the balance does not cover the price: why it is disabled, and where to get more. */
export function CreditShortfall({ id, price, available, paymentsEnabled }: { id: string; price: number; available: number; paymentsEnabled: boolean }) {
  return (
    <p className="inline-warning credit-shortfall" id={id}>
      <AlertIcon size={14} />
      <span>
        <strong>Not enough credits</strong> — this costs {formatCredits(price)}; you have {formatInteger(available)}.{' '}
        <Link to="/billing" className="credit-shortfall__link">
          {paymentsEnabled ? 'Buy credits' : 'How to get credits'}
        </Link>
      </span>
    </p>
  );
}
