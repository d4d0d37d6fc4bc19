import type { ReplayResult } from './replay.ts';
import { DAY_PERIODS } from './traces.ts';

/** What the benchmark reports per policy and trace (plain JSON). */
export interface PolicyStats {
  policy: string;
  jobs: number;
  /** Webhook → runner running, seconds (nearest-rank percentiles over the jobs that started). */
  p50StartS: number;
  p90StartS: number;
  p95StartS: number;
  p99StartS: number;
  meanStartS: number;
  /** Share of jobs whose node was already up when their runner pod was created. */
  warmHitRate: number;
  /** Jobs whose node was not up yet when their runner pod was created. */
  coldStarts: number;
  /** Warm hits that still took over 10 s (their node was pulling the runner image), and how many of those took a placeholder's place. */
  slowWarmStarts: number;
  slowWarmViaPlaceholder: number;
  /** Share of jobs that took a placeholder's place. */
  placeholderHitRate: number;
  neverStarted: number;
  /** ∫ ready placeholders × CPU request dt over the day. */
  idlePlaceholderCpuHours: number;
  /** Runner nodes that came up during the day, and their capacity × time. */
  nodesLaunched: number;
  nodeCpuHours: number;
  /** The placeholders' share of node cost over the day (request ÷ node allocatable CPU × node $/h, integrated), USD. */
  idleUsdPerDay: number;
  /** What the runner-class nodes cost over the day (the sim's node cost: catalog price, spot at the documented ratio), USD. */
  nodeUsdPerDay: number;
  /** Share of the day's node-hours on spot capacity. */
  spotShare: number;
  /** Jobs, cold starts (not warm) and idle placeholder CPU-hours per part of the day. */
  byPeriod: Record<string, { jobs: number; cold: number; idleCpuHours: number }>;
  controller?: ReplayResult['controller'];
  wallMs: number;
}

/** Nearest-rank percentile of sorted values (`q` in (0, 1]). */
export function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A warm start takes ~4 s (timing profile); over 10 s it waited for something else — an image pull. */
const SLOW_WARM_MS = 10_000;

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function policyStats(r: ReplayResult): PolicyStats {
  const started = r.starts.flatMap((s) => (s.startMs === undefined ? [] : [s.startMs / 1000])).sort((a, b) => a - b);
  const jobs = r.starts.length;
  const stats: PolicyStats = {
    policy: r.policy,
    jobs,
    p50StartS: round(percentile(started, 0.5), 1),
    p90StartS: round(percentile(started, 0.9), 1),
    p95StartS: round(percentile(started, 0.95), 1),
    p99StartS: round(percentile(started, 0.99), 1),
    meanStartS: round(started.reduce((s, v) => s + v, 0) / Math.max(1, started.length), 1),
    warmHitRate: round(r.starts.filter((s) => s.warm).length / Math.max(1, jobs), 3),
    coldStarts: r.starts.filter((s) => !s.warm).length,
    slowWarmStarts: r.starts.filter((s) => s.warm && (s.startMs ?? 0) > SLOW_WARM_MS).length,
    slowWarmViaPlaceholder: r.starts.filter((s) => s.warm && s.preempted && (s.startMs ?? 0) > SLOW_WARM_MS).length,
    placeholderHitRate: round(r.starts.filter((s) => s.preempted).length / Math.max(1, jobs), 3),
    neverStarted: jobs - started.length,
    idlePlaceholderCpuHours: round(r.placeholderCpuHours, 1),
    nodesLaunched: r.nodesLaunched,
    nodeCpuHours: round(r.nodeCpuHours, 1),
    idleUsdPerDay: round(r.placeholderUsd, 2),
    nodeUsdPerDay: round(r.nodeUsd, 2),
    spotShare: round((r.nodeHoursByCapacityType.spot ?? 0) / Math.max(1e-9, Object.values(r.nodeHoursByCapacityType).reduce((a, b) => a + b, 0)), 3),
    byPeriod: Object.fromEntries(
      DAY_PERIODS.map((p) => {
        const inPeriod = r.starts.filter((s) => s.job.at >= p.from && s.job.at < p.to);
        return [p.name, { jobs: inPeriod.length, cold: inPeriod.filter((s) => !s.warm).length, idleCpuHours: round(r.placeholderCpuHoursByPeriod[p.name] ?? 0, 1) }];
      }),
    ),
    wallMs: r.wallMs,
  };
  if (r.controller) stats.controller = { ...r.controller, placeholderCpuHours: round(r.controller.placeholderCpuHours, 1) };
  return stats;
}
