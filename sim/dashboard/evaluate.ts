import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { Query } from '../../infra/dashboard.ts';

/**
 * Evaluates the dashboard's queries (infra/dashboard.ts) over snapshots of a registry
 * taken during a run, the way Prometheus would over scrapes: rate() as the increase
 * over the window divided by its length, histogram_quantile() by linear interpolation
 * inside the bucket that holds the rank. Enough for the picture in docs/operations.md;
 * no counter resets (one process) and no extrapolation at the window's edges.
 */

export interface Snapshot {
  /** Milliseconds since the run started. */
  atMs: number;
  metrics: MetricObjectWithValues<MetricValue<string>>[];
}

/**
 * A copy of the registry's values now. A copy, because prom-client hands out its live
 * value objects: a later increment would change an earlier "snapshot" too.
 */
export async function snapshot(registry: Registry, atMs: number): Promise<Snapshot> {
  return { atMs, metrics: structuredClone(await registry.getMetricsAsJSON()) };
}

export interface Series {
  name: string;
  points: { atMs: number; value: number }[];
}

type Sample = { labels: Partial<Record<string, string | number>>; value: number };

function samples(s: Snapshot, metricName: string, match: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const m of s.metrics) {
    for (const v of m.values) {
      const name = (v as { metricName?: string }).metricName ?? m.name;
      if (name !== metricName) continue;
      if (Object.entries(match).every(([k, re]) => new RegExp(`^(?:${re})$`).test(String(v.labels[k] ?? '')))) out.push({ labels: v.labels, value: v.value });
    }
  }
  return out;
}

const keyOf = (labels: Partial<Record<string, string | number>>, by: readonly string[]) => by.map((k) => String(labels[k] ?? '')).join('\u0000');

function sumBy(list: Sample[], by: readonly string[], agg: 'sum' | 'max' = 'sum'): Map<string, { labels: Record<string, string>; value: number }> {
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const s of list) {
    const k = keyOf(s.labels, by);
    const prev = out.get(k);
    const labels = Object.fromEntries(by.map((b) => [b, String(s.labels[b] ?? '')]));
    if (!prev) out.set(k, { labels, value: s.value });
    else prev.value = agg === 'sum' ? prev.value + s.value : Math.max(prev.value, s.value);
  }
  return out;
}

/** Per-second increase of `metric` summed by `by`, between two snapshots. */
function rateBetween(a: Snapshot, b: Snapshot, metric: string, by: readonly string[], match?: Record<string, string>) {
  const seconds = (b.atMs - a.atMs) / 1000;
  const before = sumBy(samples(a, metric, match), by);
  const after = sumBy(samples(b, metric, match), by);
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const [k, v] of after) out.set(k, { labels: v.labels, value: Math.max(0, v.value - (before.get(k)?.value ?? 0)) / seconds });
  return out;
}

/** Prometheus's histogram_quantile over cumulative bucket counts `(le, count)`. */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | undefined {
  const sorted = [...buckets].sort((x, y) => x.le - y.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe; // the +Inf bucket: the highest finite bound
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(b.count - prevCount, Number.EPSILON);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

const legendOf = (legend: string, labels: Record<string, string>) => legend.replace(/\{\{(\w+)\}\}/g, (_, k: string) => labels[k] ?? '');

/** One series per label group, a point per snapshot (rates once a full window lies behind it). */
export function evaluate(q: Query, snaps: readonly Snapshot[], windowMs: number): Series[] {
  const series = new Map<string, Series>();
  const push = (labels: Record<string, string>, atMs: number, value: number | undefined) => {
    if (value === undefined || !Number.isFinite(value)) return;
    const name = legendOf(q.legend, labels);
    const s = series.get(name) ?? { name, points: [] };
    s.points.push({ atMs, value });
    series.set(name, s);
  };
  for (let i = 0; i < snaps.length; i++) {
    const b = snaps[i]!;
    const a = [...snaps.slice(0, i)].reverse().find((x) => b.atMs - x.atMs >= windowMs);
    if (q.kind === 'gauge') {
      for (const v of sumBy(samples(b, q.metric, q.match), q.by, q.agg ?? 'sum').values()) push(v.labels, b.atMs, v.value);
      if (!q.by.length && samples(b, q.metric, q.match).length === 0) push({}, b.atMs, 0);
      continue;
    }
    if (!a) continue;
    if (q.kind === 'rate') {
      for (const v of rateBetween(a, b, q.metric, q.by, q.match).values()) push(v.labels, b.atMs, v.value);
    } else if (q.kind === 'share') {
      const hits = rateBetween(a, b, q.hits, q.by);
      const misses = rateBetween(a, b, q.misses, q.by);
      for (const [k, h] of hits) {
        const total = h.value + (misses.get(k)?.value ?? 0);
        if (total > 0) push(h.labels, b.atMs, h.value / total);
      }
    } else {
      const rates = rateBetween(a, b, `${q.metric}_bucket`, [...q.by, 'le'], q.match);
      const groups = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
      for (const v of rates.values()) {
        const k = keyOf(v.labels, q.by);
        const g = groups.get(k) ?? { labels: Object.fromEntries(q.by.map((x) => [x, v.labels[x]!])), buckets: [] };
        g.buckets.push({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value });
        groups.set(k, g);
      }
      for (const g of groups.values()) push(g.labels, b.atMs, histogramQuantile(q.q, g.buckets));
    }
  }
  return [...series.values()].sort((x, y) => x.name.localeCompare(y.name));
}
