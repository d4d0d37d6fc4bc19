import { Gauge, type Registry } from 'prom-client';

export type RunnerVersionMetrics = ReturnType<typeof createRunnerVersionMetrics>;

export function createRunnerVersionMetrics(registry: Registry) {
  return {
    age: new Gauge({
      name: 'runs_fleet_runner_version_age_seconds',
      help: 'Time since the actions/runner release new runners use was published (GitHub wants each new release installed within 30 days).',
      registers: [registry],
    }),
    info: new Gauge({
      name: 'runs_fleet_runner_version_info',
      help: 'The runner version new runners use (in_use) and the one being pre-pulled before they switch (candidate, empty when none); value 1.',
      labelNames: ['in_use', 'candidate', 'mode'] as const,
      registers: [registry],
    }),
  };
}
