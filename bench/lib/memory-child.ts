// The orchestrator as bench/memory.bench.ts runs it: bundled with esbuild like the Deployment's
// main.mjs (infra/bundle.ts) and started in its own process with or without the Node flags of
// runtime/node-flags.ts, so its RSS is its own. Unlike runtime/main.ts it takes a kubeconfig
// and the scaled-down secondary limit of the bench (the environment cannot carry those).
// Input: one JSON argument. Output: one JSON line when serving; on IPC 'report', its GC totals.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { RuntimeEnv } from '../../runtime/config/env.ts';
import { silentLogger } from '../../runtime/log.ts';
import { startOrchestrator } from '../../runtime/orchestrator.ts';
import { makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';

export interface MemoryChildInput {
  env: RuntimeEnv;
  kubeconfigYaml: string;
  queuePrefix: string;
  secondary: { points: number; windowMs: number };
}

export interface MemoryChildReport {
  gcCount: number;
  /** Sum of GC pause durations (perf_hooks 'gc' entries), ms. */
  gcMs: number;
  gcByKind: Record<string, { count: number; ms: number }>;
  rssBytes: number;
}

// GC pauses as V8 reports them to perf_hooks: a pause per entry, on the main thread.
const gc = { count: 0, ms: 0, byKind: {} as Record<string, { count: number; ms: number }> };
const KIND: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    const kind = KIND[((e as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
    const k = (gc.byKind[kind] ??= { count: 0, ms: 0 });
    k.count++;
    k.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const input = JSON.parse(process.argv[2] ?? '{}') as MemoryChildInput;
const o = await startOrchestrator(input.env, {
  kubeConfig: makeKubeConfig(input.kubeconfigYaml), queuePrefix: input.queuePrefix, host: '127.0.0.1', log: silentLogger(),
  githubSecondaryLimit: input.secondary,
});
process.on('message', (m) => {
  if (m !== 'report') return;
  const report: MemoryChildReport = { gcCount: gc.count, gcMs: gc.ms, gcByKind: gc.byKind, rssBytes: process.memoryUsage.rss() };
  process.send?.(report);
});
process.on('SIGTERM', () => void o.stop().then(() => process.exit(0), () => process.exit(1)));
process.stdout.write(`${JSON.stringify({ ready: true, url: o.url })}\n`);
