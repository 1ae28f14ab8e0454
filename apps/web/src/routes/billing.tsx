import { useEffect, useState } from 'react';
import type { Pack, Plan } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { AlertIcon, InfoIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { AccountSummary } from '#/features/billing/components/account-summary';
import { CheckoutNotice } from '#/features/billing/components/checkout-notice';
import { PacksSection } from '#/features/billing/components/packs-section';
import { PaymentsSection } from '#/features/billing/components/payments-section';
import { PlansSection } from '#/features/billing/components/plans-section';
import { rememberCheckout } from '#/features/billing/checkout-return';
import { useBillingOverview, useCheckout, usePayments, usePortal } from '#/features/billing/hooks/use-billing';
import { describeAdmissionError } from '#/features/credits/admission';
import { CreditHistory } from '#/features/credits/components/credit-history';
import { useAccount } from '#/features/credits/hooks/use-account';
import { describeError } from '#/lib/api-client';
import { formatInteger } from '#/lib/format';
import { useDocumentTitle } from '#/lib/use-document-title';
import '#/features/billing/components/billing.css';

/** /billing — the balance and plan, credit packs and plans through Stripe, payments and receipts, and the credit history. */
export function Component() {
  useDocumentTitle('Billing & credits');
  const account = useAccount();
  const overview = useBillingOverview();
  const paymentsEnabled = overview.data?.payments_enabled ?? account.data?.payments_enabled ?? false;
  const payments = usePayments(paymentsEnabled);
  const checkout = useCheckout();
  const portal = usePortal();
  const toast = useToast();
  const [busyId, setBusyId] = useState<string | null>(null);

  // Back from Stripe with the browser's Back button: the page comes out of the back-forward cache with the
  // buttons still busy from leaving. Reset them.
  useEffect(() => {
    const onShow = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      checkout.reset();
      portal.reset();
      setBusyId(null);
    };
    window.addEventListener('pageshow', onShow);
    return () => window.removeEventListener('pageshow', onShow);
  }, [checkout, portal]);

  const fail = (title: string) => (error: unknown) => {
    setBusyId(null);
    const admission = describeAdmissionError(error);
    toast.error(title, admission?.code === 'rate_limited' ? admission.description : describeError(error));
  };

  const buy = (item: { kind: 'pack'; pack: Pack } | { kind: 'plan'; plan: Plan }) => {
    const { id, name, credits } = item.kind === 'pack' ? { ...item.pack } : { ...item.plan, credits: item.plan.monthly_credits };
    setBusyId(id);
    rememberCheckout({ kind: item.kind, id, name, credits });
    checkout.mutate({ kind: item.kind, id }, { onError: fail('Could not open the checkout') });
  };
  const manage = () => portal.mutate(undefined, { onError: fail('Could not open the billing portal') });

  const isLeaving = checkout.isPending || portal.isPending;
  const canManage = overview.data?.has_billing_account === true;
  const flagged = overview.data?.flagged ?? false;

  return (
    <div className="billing">
      <header className="billing__header">
        <h1 className="billing__title">Billing & credits</h1>
        <p className="billing__subtitle">Your balance, plan and payments, and every credit movement.</p>
      </header>

      <CheckoutNotice />

      {account.isPending ? (
        <div className="skeleton billing-skeleton billing-skeleton--summary" aria-label="Loading your balance" />
      ) : account.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your balance: {describeError(account.error)}</span>
          <Button size="sm" onClick={() => void account.refetch()}>
            Retry
          </Button>
        </div>
      ) : (
        <AccountSummary account={account.data} overview={overview.data} canManage={paymentsEnabled && canManage} onManage={manage} isOpeningPortal={portal.isPending} />
      )}

      {flagged && (
        <p className="billing-note billing-note--danger" role="alert">
          <AlertIcon size={16} />
          <span>Purchases are paused on this account while a payment dispute is open. Contact support to resolve it.</span>
        </p>
      )}

      {overview.isPending ? (
        <div className="skeleton billing-skeleton" aria-label="Loading plans and packs" />
      ) : overview.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load plans and packs: {describeError(overview.error)}</span>
          <Button size="sm" onClick={() => void overview.refetch()}>
            Retry
          </Button>
        </div>
      ) : !overview.data.payments_enabled ? (
        <section className="billing-free" aria-labelledby="billing-free-title">
          <h2 id="billing-free-title" className="billing-section__title">
            <InfoIcon size={16} /> Where credits come from here
          </h2>
          <p>
            Payments are not set up on this Atelier, so credits cannot be bought here.{' '}
            {overview.data.free.monthly_credits > 0
              ? `Every account gets ${formatInteger(overview.data.free.monthly_credits)} free credits each month. For more, ask the people who run this Atelier: they can add credits to your account.`
              : 'Credits come from the people who run this Atelier: ask them if you need more.'}
          </p>
        </section>
      ) : (
        <>
          <PacksSection packs={overview.data.packs} onBuy={(pack) => buy({ kind: 'pack', pack })} busyId={checkout.isPending ? busyId : null} disabled={isLeaving || flagged} />
          <PlansSection overview={overview.data} onSubscribe={(plan) => buy({ kind: 'plan', plan })} onManage={manage} busyId={checkout.isPending ? busyId : null} disabled={isLeaving || flagged} />
          <PaymentsSection payments={payments} />
        </>
      )}

      <CreditHistory />
    </div>
  );
}
