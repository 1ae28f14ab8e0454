import { z } from 'zod';
import { meSchema } from './accounts.ts';

/** A user's credits: `available` to spend now, `held` for generations in progress (charged on success, returned on failure). */
export const creditBalanceSchema = z.object({
  available: z.number().int().min(0).describe('Credits that can be spent now'),
  held: z.number().int().min(0).describe('Credits reserved for generations in progress'),
});
export type CreditBalance = z.infer<typeof creditBalanceSchema>;

/** Every kind of credit movement, as the ledger records it. */
export const CREDIT_TRANSACTION_KINDS = [
  'signup_grant',
  'allowance',
  'grant',
  'clawback',
  'purchase',
  'plan_grant',
  'hold',
  'capture',
  'release',
  'expiry',
  'reversal',
  'dispute_hold',
  'dispute_release',
  'dispute_reversal',
] as const;
export const creditTransactionKindSchema = z.enum(CREDIT_TRANSACTION_KINDS);
export type CreditTransactionKind = z.infer<typeof creditTransactionKindSchema>;

export const creditTransactionSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  kind: creditTransactionKindSchema,
  description: z.string().describe('What this movement was, in words'),
  available_change: z.number().int().describe('Change to the available balance (negative: spent, reserved or removed)'),
  held_change: z.number().int().describe('Change to the held balance'),
  generation_id: z.string().nullable().describe('The generation this movement belongs to, if any'),
  reference: z.string().nullable().describe('The purchase, invoice or refund it belongs to (Stripe id), if any'),
  expires_at: z.string().nullable().describe('For grants that expire: when unspent credits lapse'),
});
export type CreditTransaction = z.infer<typeof creditTransactionSchema>;

export const listCreditTransactionsQuerySchema = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
export type ListCreditTransactionsQuery = z.infer<typeof listCreditTransactionsQuerySchema>;

export const creditTransactionListSchema = z.object({ data: z.array(creditTransactionSchema), next_cursor: z.string().nullable() });

/** What a plan allows; the free tier has limits too. */
export const planLimitsSchema = z.object({
  max_megapixels: z.number().int().min(1).describe('Largest output, in megapixels (1024 × 1024 pixels)'),
  max_concurrent_generations: z.number().int().min(1).describe('Generations queued or running at once'),
});
export type PlanLimits = z.infer<typeof planLimitsSchema>;

export const accountSchema = meSchema.extend({
  credits: creditBalanceSchema,
  plan: z.object({ id: z.string(), name: z.string(), status: z.string().describe('"free", or the subscription status: active, past_due, canceled…'), limits: planLimitsSchema }),
  payments_enabled: z.boolean().describe('Whether credits can be bought here (Stripe configured)'),
});
export type Account = z.infer<typeof accountSchema>;

/** Staff: grant (positive) or claw back (negative) credits, always with a reason. */
export const staffCreditAdjustmentSchema = z
  .object({
    amount: z.number().int().refine((n) => n !== 0, 'amount must not be zero').refine((n) => Math.abs(n) <= 10_000_000, 'at most 10 000 000 credits at once'),
    reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(500),
    expires_in_days: z.number().int().min(1).max(3650).nullable().optional(),
  })
  .strict();
export type StaffCreditAdjustment = z.infer<typeof staffCreditAdjustmentSchema>;

export const reconciliationSchema = z.object({
  id: z.string(),
  at: z.string(),
  ok: z.boolean(),
  checked_accounts: z.number().int(),
  problems: z.array(z.object({ check: z.string(), account: z.string().nullable(), expected: z.number(), actual: z.number() })),
});
export type Reconciliation = z.infer<typeof reconciliationSchema>;
