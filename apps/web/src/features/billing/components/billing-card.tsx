import { Link } from 'react-router';
import { useAccount } from '#/features/credits/hooks/use-account';
import { formatCredits } from '#/lib/format';
import './billing.css';

/** Settings' way to Billing & credits, with the balance and plan at a glance. */
export function BillingCard() {
  const account = useAccount();
  return (
    <section className="settings-card" aria-labelledby="billing-card-title">
      <header className="settings-card__header billing-card">
        <div>
          <h2 id="billing-card-title" className="settings-card__title">
            Billing & credits
          </h2>
          <p className="settings-card__text">
            {account.data ? `${formatCredits(account.data.credits.available)} available · ${account.data.plan.name} plan. ` : ''}
            {account.data?.payments_enabled ?? true ? 'Buy credits, manage your plan and payment method, download receipts and see every credit movement.' : 'See where your credits come from and every credit movement.'}
          </p>
        </div>
        <Link to="/billing" className="btn btn--secondary btn--md">
          Open Billing & credits
        </Link>
      </header>
    </section>
  );
}
