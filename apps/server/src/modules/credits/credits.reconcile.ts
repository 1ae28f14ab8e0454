import type { Logger } from 'pino';
import type { Reconciliation } from '@atelier/contracts';
import { newId } from '#src/lib/ids.ts';
import type { CreditsRepository } from './credits.repository.ts';

type Problem = Reconciliation['problems'][number];

/**
 * The nightly checks of LED-9, with zero tolerance: all postings sum to zero; every materialised user
 * balance equals the sum of its postings; a user's available credits equal what their lots hold; their
 * held credits equal their open holds. The result is stored (staff see it) and any drift is logged as
 * an error for alerting. Stripe's side is reconciled by the billing module's own job.
 */
export async function reconcileLedger(deps: { repository: CreditsRepository; logger: Logger }): Promise<Reconciliation> {
  const { repository: repo } = deps;
  const problems: Problem[] = [];
  const total = await repo.systemSumAllPostings();
  if (total !== 0) problems.push({ check: 'postings_sum_to_zero', account: null, expected: 0, actual: total });
  for (const d of await repo.systemBalanceDrift()) problems.push({ check: 'balance_equals_postings', account: d.id, expected: Number(d.postings), actual: Number(d.balance) });
  for (const d of await repo.systemLotDrift()) problems.push({ check: 'available_equals_lots', account: `user:${d.user_id}:available`, expected: Number(d.lots), actual: Number(d.balance) });
  for (const d of await repo.systemHoldDrift()) problems.push({ check: 'held_equals_open_holds', account: `user:${d.user_id}:held`, expected: Number(d.holds), actual: Number(d.balance) });
  const checked = await repo.systemCountUserAccounts();
  const id = newId();
  await repo.insertReconciliation({ id, ok: problems.length === 0, checkedAccounts: checked, problems });
  if (problems.length) deps.logger.error({ problems: problems.slice(0, 20), count: problems.length }, 'ledger reconciliation found drift');
  else deps.logger.info({ accounts: checked }, 'ledger reconciled: no drift');
  return { id, at: new Date().toISOString(), ok: problems.length === 0, checked_accounts: checked, problems };
}
