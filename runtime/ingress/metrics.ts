import { Counter, Histogram, type Registry } from 'prom-client';

export type IngressMetrics = ReturnType<typeof createIngressMetrics>;

export function createIngressMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'runs_fleet_webhook_requests_total',
      help: 'Webhook deliveries by HTTP status and outcome.',
      labelNames: ['status', 'outcome'] as const,
      registers: [registry],
    }),
    jobsReceived: new Counter({
      name: 'runs_fleet_jobs_received_total',
      help: 'workflow_job events received, by action.',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    jobsEnqueued: new Counter({
      name: 'runs_fleet_jobs_enqueued_total',
      help: 'Queued runs-fleet jobs appended to the stream (duplicates excluded).',
      registers: [registry],
    }),
    jobsDuplicate: new Counter({
      name: 'runs_fleet_jobs_duplicate_total',
      help: 'Queued jobs already stored (redelivery or several hooks), not appended again.',
      registers: [registry],
    }),
    jobsRejected: new Counter({
      name: 'runs_fleet_jobs_rejected_total',
      help: 'Queued jobs with a runs-fleet label that cannot be served, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'runs_fleet_webhook_duration_seconds',
      help: 'Time to answer a webhook delivery.',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
  };
}
