import type { GitHubClient } from '../../github/client.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import { PermanentError } from '../../util/errors.ts';
import type { LifecycleStore } from '../lifecycle/store.ts';
import { PassBudget } from './budget.ts';
import type { SweepMetrics } from './metrics.ts';
import { planRedeliveries } from './plan-redeliveries.ts';
import type { RedeliverySettings } from './settings.ts';

export interface RedeliveryDeps {
  store: LifecycleStore;
  github: Pick<GitHubClient, 'listHookDeliveries' | 'redeliver'>;
  clock: Clock;
  log: Logger;
  metrics: SweepMetrics;
}

export const REDELIVERIES = 'redeliveries';

/** GitHub keeps deliveries for 3 days; looking further back finds nothing. */
const RETENTION_MS = 3 * 86_400_000;

/**
 * Asks GitHub to deliver again the App's webhooks that failed (Valkey was down, the
 * orchestrator was restarting). Each pass continues from where the last one ended (kept
 * in Valkey, so a new leader does too) minus an overlap, instead of a fixed lookback
 * window that would miss failures older than the window after an outage.
 */
export class RedeliverySweep {
  constructor(private readonly d: RedeliveryDeps, private readonly s: RedeliverySettings) {}

  async run(signal: AbortSignal): Promise<void> {
    const { store, github, clock, log, metrics } = this.d;
    const now = clock.now();
    const cursor = await store.redeliveryCursor();
    const since = Math.max(now - RETENTION_MS, cursor === undefined ? now - this.s.lookbackMs : cursor - this.s.overlapMs);
    const deliveries = await github.listHookDeliveries(since, { signal });
    const redelivered = await store.redeliveries([...new Set(deliveries.map((d) => d.guid))]);
    const plan = planRedeliveries(deliveries, redelivered, this.s);
    const budget = new PassBudget(REDELIVERIES, this.s, store, now, metrics);
    for (const r of plan) {
      if (signal.aborted) return;
      if (!(await budget.take())) {
        log.warn({ sweep: REDELIVERIES, left: plan.length }, 'sweep cap reached; the rest waits for the next pass');
        return; // the cursor stays, so the next pass sees the rest
      }
      // Claimed before asking, so a concurrent pass or a crash after GitHub accepted cannot lead to an extra one.
      if (!(await store.claimRedelivery(r.guid, r.id))) continue;
      try {
        await github.redeliver(r.id, { signal });
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        log.warn({ sweep: REDELIVERIES, deliveryId: r.id, reason: err.reason }, 'GitHub refused the redelivery');
        continue;
      }
      metrics.actions.inc({ sweep: REDELIVERIES, kind: 'redeliver' });
      log.info({ sweep: REDELIVERIES, deliveryId: r.id, guid: r.guid, event: r.event, action: r.action }, 'failed webhook delivery redelivered');
    }
    await store.setRedeliveryCursor(now);
  }
}
