import type { CreditTransaction, CreditTransactionKind } from '@atelier/contracts';
import { creditTransactionKindSchema } from '@atelier/contracts';

export interface TransactionRow {
  id: string;
  kind: string;
  generation_id: string | null;
  reference: string | null;
  reason: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  available_change: number | null;
  held_change: number | null;
  expires_at: Date | null;
}

const RELEASE_WHY: Record<string, string> = {
  failed: 'the generation failed',
  blocked: 'the generation was blocked',
  canceled: 'the generation was canceled',
  deleted: 'the generation was deleted before it finished',
};

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);

function describe(kind: CreditTransactionKind, row: TransactionRow): string {
  const m = row.metadata;
  switch (kind) {
    case 'signup_grant':
      return 'Welcome credits';
    case 'allowance':
      return `Free credits for ${formatPeriod(text(m.period))}`;
    case 'grant':
      return row.reason ? `Added by Atelier: ${row.reason}` : 'Added by Atelier';
    case 'clawback':
      return row.reason ? `Removed by Atelier: ${row.reason}` : 'Removed by Atelier';
    case 'purchase':
      return `Bought ${text(m.item_name) ?? 'credits'}`;
    case 'plan_grant':
      return `${text(m.item_name) ?? 'Plan'} credits for the period`;
    case 'hold':
      return 'Reserved for a generation';
    case 'capture':
      return 'Charged for a generation';
    case 'release':
      return `Returned: ${RELEASE_WHY[text(m.why) ?? 'failed'] ?? 'the generation did not complete'}`;
    case 'expiry':
      return 'Unused credits expired';
    case 'reversal':
      return 'Taken back: a payment was refunded';
    case 'dispute_hold':
      return 'Set aside: a payment is disputed';
    case 'dispute_release':
      return 'Returned: the payment dispute was resolved';
    case 'dispute_reversal':
      return 'Taken back: a disputed payment was reversed';
  }
}

function formatPeriod(period: string | null): string {
  if (!period) return 'this month';
  const [y, mo] = period.split('-').map(Number);
  return new Date(Date.UTC(y!, (mo ?? 1) - 1, 1)).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

export function presentTransaction(row: TransactionRow): CreditTransaction {
  const kind = creditTransactionKindSchema.parse(row.kind);
  return {
    id: row.id,
    created_at: row.created_at.toISOString(),
    kind,
    description: describe(kind, row),
    available_change: Number(row.available_change ?? 0),
    held_change: Number(row.held_change ?? 0),
    generation_id: row.generation_id,
    reference: row.reference,
    expires_at: row.expires_at?.toISOString() ?? null,
  };
}
