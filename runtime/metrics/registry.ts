import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Each component defines its own metrics (in a `metrics.ts` beside it) against a
 * registry it is given, so tests and several orchestrators in one process stay apart.
 * Label values must come from small closed sets: never job ids, repos or secrets.
 */
export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'runs_fleet_' });
  return registry;
}

export const METRIC_PREFIX = 'runs_fleet_';
