import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.ts';

export interface RecoveryMetrics {
  /** Infrastructure retries taken: action requeue (provisioned again) or rerun (re-run through GitHub), by failure kind. */
  infraRetries: Counter<'action' | 'kind'>;
  /** Lost runners that ended without a retry, by outcome (own_failure, exhausted, succeeded, …). */
  outcomes: Counter<'outcome'>;
  /** Lost runners waiting for recovery. */
  pending: Gauge;
}

export function createRecoveryMetrics(registry: Registry): RecoveryMetrics {
  return {
    infraRetries: new Counter({
      name: `${METRIC_PREFIX}infra_retries_total`,
      help: 'Infrastructure retries: requeue (GitHub still had the job queued) or rerun (failed mid-run, re-run through GitHub)',
      labelNames: ['action', 'kind'] as const,
      registers: [registry],
    }),
    outcomes: new Counter({
      name: `${METRIC_PREFIX}recovery_outcomes_total`,
      help: 'Lost runners that ended without a retry, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    pending: new Gauge({ name: `${METRIC_PREFIX}recovery_pending`, help: 'Lost runners waiting for recovery', registers: [registry] }),
  };
}
