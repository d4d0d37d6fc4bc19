import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ProvisionerMetrics = ReturnType<typeof createProvisionerMetrics>;

export function createProvisionerMetrics(registry: Registry) {
  return {
    provisioned: new Counter({
      name: 'runs_fleet_jobs_provisioned_total',
      help: 'Runner Jobs created (or found already created) for queued jobs, by class.',
      labelNames: ['class', 'outcome'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'runs_fleet_jobs_failed_total',
      help: 'Queued jobs that could not be provisioned, by reason (dead-lettered ones included).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'runs_fleet_jobs_dead_lettered_total',
      help: 'Queue entries moved to the dead-letter stream, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'runs_fleet_webhook_to_job_seconds',
      help: 'Time from the webhook arriving to the runner Job being created.',
      labelNames: ['class'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    lostJitReplies: new Counter({
      name: 'runs_fleet_lost_jit_replies_total',
      help: 'generate-jitconfig tries that found the runner an earlier try registered (its reply lost): deleted and registered again, or renamed when it was busy.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'runs_fleet_provisioning_in_flight',
      help: 'Queue entries this replica is provisioning now.',
      registers: [registry],
    }),
    queue: new Gauge({
      name: 'runs_fleet_queue_entries',
      help: 'Jobs stream: entries not yet delivered (lag) and delivered but not acknowledged (pending).',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
  };
}
