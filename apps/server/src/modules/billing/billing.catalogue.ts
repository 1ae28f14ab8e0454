import fs from 'node:fs';
import { billingCatalogueSchema, type BillingCatalogue, type PlanLimits } from '@atelier/contracts';

export type PackDefinition = BillingCatalogue['packs'][number];
export type PlanDefinition = BillingCatalogue['plans'][number];

/** The free tier: what every account without a subscription gets (environment variables). */
export interface FreeTier {
  monthlyCredits: number;
  maxMegapixels: number;
  maxConcurrentGenerations: number;
}

/** What operators sell, from BILLING_FILE; a bad file stops start-up with the exact problem. */
export function loadBillingFile(file: string | null): BillingCatalogue {
  if (!file) return { packs: [], plans: [] };
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`BILLING_FILE ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = billingCatalogueSchema.safeParse(json);
  if (!parsed.success) throw new Error(`BILLING_FILE ${file} is invalid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  return parsed.data;
}

export const freeLimits = (free: FreeTier): PlanLimits => ({ max_megapixels: free.maxMegapixels, max_concurrent_generations: free.maxConcurrentGenerations });
export const planLimits = (plan: PlanDefinition): PlanLimits => ({ max_megapixels: plan.max_megapixels, max_concurrent_generations: plan.max_concurrent_generations });

/** Subscription statuses that still give the plan's features (past_due keeps them while Stripe retries the payment). */
export const ENTITLED_STATUSES = ['active', 'trialing', 'past_due'] as const;
