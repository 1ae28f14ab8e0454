import type { Pack } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { CoinIcon } from '#/features/credits/components/coin-icon';
import { formatInteger } from '#/lib/format';
import { formatPrice } from '../money';

/** Credit packs on sale, each bought once through Stripe Checkout. */
export function PacksSection({ packs, onBuy, busyId, disabled }: { packs: Pack[]; onBuy: (pack: Pack) => void; busyId: string | null; disabled: boolean }) {
  if (packs.length === 0) return null;
  return (
    <section className="billing-section" aria-labelledby="billing-packs-title">
      <header className="billing-section__header">
        <h2 id="billing-packs-title" className="billing-section__title">
          Credit packs
        </h2>
        <p className="billing-section__text">Pay once, spend when you like. Credits that expire are used first.</p>
      </header>
      <ul className="billing-offers" role="list">
        {packs.map((pack) => {
          const price = formatPrice(pack.price);
          return (
            <li key={pack.id} className="billing-offer">
              <h3 className="billing-offer__name">{pack.name}</h3>
              <p className="billing-offer__credits">
                <CoinIcon size={18} />
                {formatInteger(pack.credits)} credits
              </p>
              <p className="billing-offer__price">{price ?? <span className="muted">Price unavailable right now</span>}</p>
              {pack.expires_in_days !== null && <p className="billing-offer__fine">Credits expire {pack.expires_in_days} days after purchase.</p>}
              <Button
                variant="primary"
                className="billing-offer__cta"
                isBusy={busyId === pack.id}
                disabled={disabled || price === null}
                onClick={() => onBuy(pack)}
                aria-label={`Buy ${pack.name}: ${formatInteger(pack.credits)} credits${price ? ` for ${price}` : ''}`}
              >
                Buy
              </Button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
