import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.ts';

export interface LeaderMetrics {
  /** 1 while this replica holds the Lease. */
  isLeader: Gauge;
  /** acquired / lost (renewal failed or taken over) / released (shutdown). */
  transitions: Counter<'event'>;
  /** Lease reads or writes that failed (network, 5xx, timeout); conflicts are not failures. */
  renewFailures: Counter;
}

export function createLeaderMetrics(registry: Registry): LeaderMetrics {
  const name = (n: string) => `${METRIC_PREFIX}leader_${n}`;
  return {
    isLeader: new Gauge({ name: name('is_leader'), help: '1 while this replica holds the leader Lease', registers: [registry] }),
    transitions: new Counter({
      name: name('transitions_total'),
      help: 'Leadership changes seen by this replica: acquired, lost, released',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    renewFailures: new Counter({ name: name('lease_errors_total'), help: 'Lease reads or writes that failed (conflicts excluded)', registers: [registry] }),
  };
}
