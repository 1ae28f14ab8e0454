import type { BillingOverview, Plan, PlanLimits } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { CheckIcon } from '#/components/ui/icons';
import { formatInteger } from '#/lib/format';
import { formatPrice, isEntitled } from '../money';

interface PlansSectionProps {
  overview: BillingOverview;
  onSubscribe: (plan: Plan) => void;
  onManage: () => void;
  busyId: string | null;
  disabled: boolean;
}

function LimitList({ monthly, limits, features }: { monthly: number; limits: PlanLimits; features: string[] }) {
  return (
    <ul className="billing-offer__features">
      <li>
        <CheckIcon size={14} />
        {monthly > 0 ? `${formatInteger(monthly)} credits every month` : 'No monthly credits'}
      </li>
      <li>
        <CheckIcon size={14} />
        Images up to {formatInteger(limits.max_megapixels)} MP
      </li>
      <li>
        <CheckIcon size={14} />
        {formatInteger(limits.max_concurrent_generations)} generation{limits.max_concurrent_generations === 1 ? '' : 's'} at once
      </li>
      {features.map((f) => (
        <li key={f}>
          <CheckIcon size={14} />
          {f}
        </li>
      ))}
    </ul>
  );
}

/** The free tier and the plans: monthly credits, limits and features; subscribe, or change in the portal. */
export function PlansSection({ overview, onSubscribe, onManage, busyId, disabled }: PlansSectionProps) {
  if (overview.plans.length === 0) return null;
  const current = isEntitled(overview.subscription) ? overview.subscription : null;
  return (
    <section className="billing-section" aria-labelledby="billing-plans-title">
      <header className="billing-section__header">
        <h2 id="billing-plans-title" className="billing-section__title">
          Plans
        </h2>
        <p className="billing-section__text">Monthly credits and higher limits, billed monthly by Stripe. Change or cancel any time in the billing portal.</p>
      </header>
      <ul className="billing-offers billing-offers--plans" role="list">
        <li className={`billing-offer${current ? '' : ' billing-offer--current'}`}>
          <h3 className="billing-offer__name">Free</h3>
          <p className="billing-offer__price">{formatPrice({ amount: 0, currency: overview.plans.find((p) => p.price)?.price?.currency ?? 'usd', interval: 'month' })}</p>
          <LimitList monthly={overview.free.monthly_credits} limits={overview.free.limits} features={[]} />
          {current ? (
            <Button className="billing-offer__cta" onClick={onManage} disabled={disabled}>
              Change in portal
            </Button>
          ) : (
            <Button className="billing-offer__cta" disabled>
              Current plan
            </Button>
          )}
        </li>
        {overview.plans.map((plan) => {
          const price = formatPrice(plan.price);
          const isCurrent = current?.plan_id === plan.id;
          return (
            <li key={plan.id} className={`billing-offer${isCurrent ? ' billing-offer--current' : ''}`}>
              <h3 className="billing-offer__name">{plan.name}</h3>
              <p className="billing-offer__price">{price ?? <span className="muted">Price unavailable right now</span>}</p>
              <LimitList monthly={plan.monthly_credits} limits={plan.limits} features={plan.features} />
              {isCurrent ? (
                <Button className="billing-offer__cta" disabled>
                  Current plan
                </Button>
              ) : current ? (
                <Button className="billing-offer__cta" onClick={onManage} disabled={disabled}>
                  Change in portal
                </Button>
              ) : (
                <Button
                  variant="primary"
                  className="billing-offer__cta"
                  isBusy={busyId === plan.id}
                  disabled={disabled || price === null}
                  onClick={() => onSubscribe(plan)}
                  aria-label={`Subscribe to ${plan.name}${price ? ` for ${price}` : ''}`}
                >
                  Subscribe
                </Button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
