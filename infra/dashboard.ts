/**
 * The Grafana dashboard, defined once as panel specs. Each query is a small structured
 * spec from which both the PromQL (for Grafana) and an evaluation against scraped samples
 * (for the rendered picture in docs/operations.md, sim/render-dashboard.ts) are derived,
 * so the picture shows exactly what the dashboard plots.
 */

export type Query =
  /** `sum by (by) (rate(metric{match}[window]))`, per second. */
  | { kind: 'rate'; metric: string; by: string[]; match?: Record<string, string>; legend: string }
  /** `sum by (by) (metric{match})` (or max). */
  | { kind: 'gauge'; metric: string; by: string[]; match?: Record<string, string>; agg?: 'sum' | 'max'; legend: string }
  /** `histogram_quantile(q, sum by (le, by) (rate(metric_bucket{match}[window])))`. */
  | { kind: 'quantile'; metric: string; q: number; by: string[]; match?: Record<string, string>; legend: string }
  /** `sum(rate(num)) / (sum(rate(num)) + sum(rate(den)))`: a share, 0..1. */
  | { kind: 'share'; hits: string; misses: string; by: string[]; legend: string };

export interface Panel {
  title: string;
  unit: 'reqps' | 'short' | 's' | 'percentunit' | 'ops';
  queries: Query[];
}

export const RATE_WINDOW = '5m';
/** The stages before a job runs (runtime/controllers/watcher/runner-watcher.ts PRE_RUN); `run` is the job itself. */
export const PICKUP_STAGES = ['queue_wait', 'provision', 'node_provisioning', 'scheduling', 'container_start', 'webhook_to_running'] as const;

export const DASHBOARD_PANELS: readonly Panel[] = [
  { title: 'Webhook intake by status', unit: 'reqps', queries: [{ kind: 'rate', metric: 'runs_fleet_webhook_requests_total', by: ['status'], legend: '{{status}}' }] },
  {
    title: 'Jobs enqueued, duplicate, rejected', unit: 'ops', queries: [
      { kind: 'rate', metric: 'runs_fleet_jobs_enqueued_total', by: [], legend: 'enqueued' },
      { kind: 'rate', metric: 'runs_fleet_jobs_duplicate_total', by: [], legend: 'duplicate' },
      { kind: 'rate', metric: 'runs_fleet_jobs_rejected_total', by: [], legend: 'rejected' },
    ],
  },
  { title: 'Queue entries (lag, pending)', unit: 'short', queries: [{ kind: 'gauge', metric: 'runs_fleet_queue_entries', by: ['state'], agg: 'max', legend: '{{state}}' }] },
  {
    title: 'Pickup latency p95 by stage', unit: 's',
    queries: [{ kind: 'quantile', metric: 'runs_fleet_job_stage_seconds', q: 0.95, by: ['stage'], match: { stage: PICKUP_STAGES.join('|') }, legend: '{{stage}}' }],
  },
  {
    title: 'Warm-pool hit ratio', unit: 'percentunit',
    queries: [{ kind: 'share', hits: 'runs_fleet_warm_pool_hits_total', misses: 'runs_fleet_warm_pool_misses_total', by: ['pool'], legend: '{{pool}}' }],
  },
  {
    title: 'GitHub budget remaining', unit: 'short',
    queries: [{ kind: 'gauge', metric: 'runs_fleet_github_rate_limit_remaining', by: ['app', 'resource'], agg: 'max', legend: 'App {{app}} {{resource}}' }],
  },
  {
    title: 'Rate-limit waits and dead letters', unit: 'ops', queries: [
      { kind: 'rate', metric: 'runs_fleet_github_rate_limit_waits_total', by: ['kind'], legend: 'wait {{kind}}' },
      { kind: 'rate', metric: 'runs_fleet_jobs_dead_lettered_total', by: ['reason'], legend: 'dead letter {{reason}}' },
    ],
  },
  { title: 'Leader replicas', unit: 'short', queries: [{ kind: 'gauge', metric: 'runs_fleet_leader_is_leader', by: [], agg: 'sum', legend: 'leaders' }] },
];

const selector = (match: Record<string, string> = {}) => {
  const parts = Object.entries(match).map(([k, v]) => `${k}=~"${v}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const by = (labels: string[]) => (labels.length ? ` by (${labels.join(', ')})` : '');

export function promql(q: Query, window = RATE_WINDOW): string {
  switch (q.kind) {
    case 'rate':
      return `sum${by(q.by)} (rate(${q.metric}${selector(q.match)}[${window}]))`;
    case 'gauge':
      return `${q.agg ?? 'sum'}${by(q.by)} (${q.metric}${selector(q.match)})`;
    case 'quantile':
      return `histogram_quantile(${q.q}, sum${by(['le', ...q.by])} (rate(${q.metric}_bucket${selector(q.match)}[${window}])))`;
    case 'share': {
      const h = `sum${by(q.by)} (rate(${q.hits}[${window}]))`;
      return `${h} / (${h} + sum${by(q.by)} (rate(${q.misses}[${window}])))`;
    }
  }
}

/** Grafana dashboard JSON (schema 39, Grafana 10/11), on the `datasource` variable. */
export function grafanaDashboard(): Record<string, unknown> {
  const ds = { type: 'prometheus', uid: '${datasource}' };
  return {
    uid: 'runs-fleet',
    title: 'runs-fleet',
    tags: ['runs-fleet'],
    schemaVersion: 39,
    editable: false,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    panels: DASHBOARD_PANELS.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      datasource: ds,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr: promql(q), legendFormat: q.legend })),
    })),
  };
}
