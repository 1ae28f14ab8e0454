import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { AlertIcon, CheckIcon, CloseIcon, InfoIcon } from '#/components/ui/icons';
import { useAccount, useCreditTransactions } from '#/features/credits/hooks/use-account';
import { formatCredits } from '#/lib/format';
import { checkoutReturn, forgetCheckout, recallCheckout } from '../checkout-return';
import { useBillingOverview } from '../hooks/use-billing';

const SLOW_MS = 90_000;

/**
 * After Stripe Checkout: "Payment received — your credits arrive in a moment", until Stripe's webhook
 * has landed and the credits are here (pushed over the event stream), or "Checkout canceled". One live
 * region that stays mounted, so screen readers hear each change.
 */
export function CheckoutNotice() {
  const [params, setParams] = useSearchParams();
  const param = params.get('checkout');
  const account = useAccount();
  const overview = useBillingOverview();
  const transactions = useCreditTransactions();
  const [pending] = useState(recallCheckout);
  const available = account.data?.credits.available ?? null;
  // The balance as it was when the page came back from Checkout: a rise from there is the purchase landing.
  const baseline = useRef<number | null>(null);
  if (baseline.current === null && available !== null) baseline.current = available;
  const [isSlow, setSlow] = useState(false);

  const result = checkoutReturn({ param, pending, transactions: transactions.data?.items ?? [], baseline: baseline.current, available, subscription: overview.data?.subscription ?? null });
  const state = result?.state ?? null;

  useEffect(() => {
    if (state !== 'waiting') return;
    const timer = setTimeout(() => setSlow(true), SLOW_MS);
    return () => clearTimeout(timer);
  }, [state]);
  useEffect(() => {
    if (state === 'arrived' || state === 'canceled') forgetCheckout();
  }, [state]);

  const dismiss = () =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        next.delete('checkout');
        return next;
      },
      { replace: true },
    );

  let body = null;
  if (result?.state === 'canceled') {
    body = (
      <>
        <InfoIcon size={18} className="checkout-notice__icon" />
        <p className="checkout-notice__text">
          <strong>Checkout canceled.</strong> Nothing was charged{pending ? ` for ${pending.name}` : ''}.
        </p>
      </>
    );
  } else if (result?.state === 'waiting') {
    body = (
      <>
        <span className="spinner checkout-notice__icon" aria-hidden="true" />
        <p className="checkout-notice__text">
          <strong>Payment received — your credits arrive in a moment.</strong>{' '}
          {isSlow
            ? 'Stripe is taking longer than usual to confirm it. Your balance updates here by itself as soon as it does; there is no need to pay again.'
            : `Stripe is confirming the payment${pending ? ` for ${pending.name}` : ''}; this page updates by itself.`}
        </p>
      </>
    );
  } else if (result?.state === 'arrived') {
    body = (
      <>
        <CheckIcon size={18} className="checkout-notice__icon" />
        <p className="checkout-notice__text">
          <strong>{result.plan ? `You’re subscribed to ${result.plan}.` : 'Payment complete.'}</strong>{' '}
          {result.credits !== null ? `${formatCredits(result.credits)} added to your balance.` : result.plan ? 'Its monthly credits are added at the start of each period.' : 'Your credits are in your balance.'}
        </p>
      </>
    );
  }

  return (
    <div role="status" aria-live="polite" className="checkout-notice-region">
      {body && (
        <div className={`checkout-notice checkout-notice--${state}`}>
          {body}
          {state !== 'waiting' && (
            <button type="button" className="checkout-notice__close" aria-label="Dismiss" onClick={dismiss}>
              <CloseIcon size={14} />
            </button>
          )}
        </div>
      )}
      {transactions.isError && state === 'waiting' && (
        <p className="checkout-notice__error">
          <AlertIcon size={14} /> Could not check your credit history; your balance above still updates live.
        </p>
      )}
    </div>
  );
}
