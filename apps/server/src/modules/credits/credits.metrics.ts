import { Gauge, type Registry } from 'prom-client';
import type { CreditsRepository } from './credits.repository.ts';

/**
 * Ledger health for alerting (JOB-8, LED-9), read at scrape time: holds still open past their time
 * (orphans: should be 0), and the last reconciliation's outcome and number of problems.
 */
export function registerLedgerMetrics(registry: Registry, repository: Pick<CreditsRepository, 'systemCountOverdueHolds' | 'latestReconciliation'>): void {
  new Gauge({
    name: 'atelier_credit_holds_overdue',
    help: 'Credit holds still open past their generation deadline plus grace (should be 0)',
    registers: [registry],
    async collect() {
      this.set(await repository.systemCountOverdueHolds(new Date()));
    },
  });
  new Gauge({
    name: 'atelier_ledger_reconciliation_problems',
    help: 'Problems found by the last ledger reconciliation (0 = the books balance); -1 before the first run',
    registers: [registry],
    async collect() {
      const last = await repository.latestReconciliation();
      this.set(last ? (Array.isArray(last.problems) ? last.problems.length : 0) : -1);
    },
  });
}
