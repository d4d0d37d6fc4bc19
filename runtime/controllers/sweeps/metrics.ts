import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.ts';

export interface SweepMetrics {
  /** Actions taken, by sweep and kind (enqueue, requeue, delete_secret, delete_job, delete_runner, delete_idle_runner, redeliver). */
  actions: Counter<'sweep' | 'kind'>;
  /** Actions a sweep wanted but its per-pass or per-window cap refused. */
  capped: Counter<'sweep'>;
  /** Passes by sweep and result (ok | error). */
  passes: Counter<'sweep' | 'result'>;
  duration: Histogram<'sweep'>;
}

export function createSweepMetrics(registry: Registry): SweepMetrics {
  return {
    actions: new Counter({
      name: `${METRIC_PREFIX}sweep_actions_total`,
      help: 'Actions taken by the leader sweeps, by sweep and kind',
      labelNames: ['sweep', 'kind'] as const,
      registers: [registry],
    }),
    capped: new Counter({
      name: `${METRIC_PREFIX}sweep_actions_capped_total`,
      help: 'Sweep actions held back by the per-pass or per-window rate cap',
      labelNames: ['sweep'] as const,
      registers: [registry],
    }),
    passes: new Counter({
      name: `${METRIC_PREFIX}sweep_passes_total`,
      help: 'Sweep passes by result',
      labelNames: ['sweep', 'result'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${METRIC_PREFIX}sweep_duration_seconds`,
      help: 'Duration of one sweep pass',
      labelNames: ['sweep'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
  };
}
