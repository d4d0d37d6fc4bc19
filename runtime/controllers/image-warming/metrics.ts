import { Counter, type Registry } from 'prom-client';

export type ImageWarmingMetrics = ReturnType<typeof createImageWarmingMetrics>;

export function createImageWarmingMetrics(registry: Registry) {
  return {
    untainted: new Counter({
      name: 'runs_fleet_image_warming_untainted_total',
      help: 'Runner nodes whose image-warming taint was removed, by reason (image_pulled: a placeholder there is Ready; no_placeholder: nothing was warming it).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'runs_fleet_image_warming_failures_total',
      help: 'Image-warming passes or node patches that failed (retried on the next pass).',
      registers: [registry],
    }),
  };
}
