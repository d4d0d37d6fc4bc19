import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.ts';

/** Warm-pool metrics. Labels are the pool and class names from the config document only (a small, operator-defined set). */
export interface WarmPoolMetrics {
  desired: Gauge<'pool' | 'class'>;
  ready: Gauge<'pool' | 'class'>;
  /** A runner scheduled onto a node that was already up (it took a placeholder's place or a free slot). */
  hits: Counter<'pool' | 'class'>;
  /** A runner that had to wait for a new node. */
  misses: Counter<'pool' | 'class'>;
  /** Ready placeholder CPUs × seconds: the idle capacity paid for (÷ 3600 for CPU-hours). */
  cpuSeconds: Counter<'pool' | 'class'>;
}

const LABELS = ['pool', 'class'] as const;

export function createWarmPoolMetrics(registry: Registry): WarmPoolMetrics {
  const name = (n: string) => `${METRIC_PREFIX}warm_pool_${n}`;
  return {
    desired: new Gauge({ name: name('desired_placeholders'), help: 'Placeholders the controller wants per pool', labelNames: LABELS, registers: [registry] }),
    ready: new Gauge({ name: name('ready_placeholders'), help: 'Placeholders running and ready per pool', labelNames: LABELS, registers: [registry] }),
    hits: new Counter({ name: name('hits_total'), help: 'Runners scheduled onto a node that was already up', labelNames: LABELS, registers: [registry] }),
    misses: new Counter({ name: name('misses_total'), help: 'Runners that waited for a new node', labelNames: LABELS, registers: [registry] }),
    cpuSeconds: new Counter({
      name: name('placeholder_cpu_seconds_total'),
      help: 'CPU-seconds held by ready placeholders (idle capacity paid for)',
      labelNames: LABELS,
      registers: [registry],
    }),
  };
}

/** Drops a removed pool's series so its last values are not reported forever. */
export function forgetPool(metrics: WarmPoolMetrics, pool: string, cls: string): void {
  const labels = { pool, class: cls };
  metrics.desired.remove(labels);
  metrics.ready.remove(labels);
}
