import { Counter, type Registry } from 'prom-client';

export type RejectionMetrics = ReturnType<typeof createRejectionMetrics>;

export function createRejectionMetrics(registry: Registry) {
  return {
    checkRuns: new Counter({
      name: 'runs_fleet_rejection_check_runs_total',
      help: 'Check runs telling a workflow author why a job gets no runner, by outcome (created, skipped: no commit or installation, failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
