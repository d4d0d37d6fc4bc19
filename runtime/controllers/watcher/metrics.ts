import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.ts';

export interface WatcherMetrics {
  /** Per-stage latency of a job, by class (config-defined) and start (warm | cold | unknown). */
  stageSeconds: Histogram<'stage' | 'class' | 'start'>;
  /** Runner failures by kind (classify.ts FAILURE_KINDS) and class. */
  failures: Counter<'kind' | 'class'>;
  /** Informer restarts after they stopped on an error. */
  informerRestarts: Counter<'resource'>;
  /** Stuck runner Jobs removed (pending past their limit). */
  stuckRemoved: Counter<'kind'>;
}

export function createWatcherMetrics(registry: Registry): WatcherMetrics {
  return {
    stageSeconds: new Histogram({
      name: `${METRIC_PREFIX}job_stage_seconds`,
      help: 'Latency of each stage of a job (queue_wait, provision, node_provisioning, scheduling, container_start, webhook_to_running, run)',
      labelNames: ['stage', 'class', 'start'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600, 7200, 21600],
      registers: [registry],
    }),
    failures: new Counter({
      name: `${METRIC_PREFIX}runner_failures_total`,
      help: 'Runner failures by kind: infrastructure (spot_interruption, node_lost, evicted, preempted, pending_timeout) or the job\'s own',
      labelNames: ['kind', 'class'] as const,
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: `${METRIC_PREFIX}informer_restarts_total`,
      help: 'Informers restarted (with backoff) after stopping on an error',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    stuckRemoved: new Counter({
      name: `${METRIC_PREFIX}stuck_runners_removed_total`,
      help: 'Runner Jobs removed because their pod stayed pending past the class limit',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}
