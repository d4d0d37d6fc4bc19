import type { ConfigDocument } from '../../config/document.ts';
import { emptyDemand, demandSnapshot, type DemandSnapshot } from './demand.ts';
import { DEFAULT_DESIRED_OPTIONS, desiredPlaceholders, type DesiredOptions, type PoolDecision, type PoolDecisionState } from './desired.ts';

export interface RunnerCounts {
  /** Waiting for a node (not merely being bound to a preempted placeholder's slot). */
  pending: number;
  running: number;
}

/**
 * The pool a runner counts towards: the pool its job named (`pool=`), if that pool keeps
 * the runner's class warm; otherwise the first pool of its class. A runner preempts any
 * placeholder of its class, whichever pool it belongs to, so a class's runners must land
 * somewhere — but only once, or two pools would yield to the same runner.
 */
export function poolOfRunner(doc: ConfigDocument, runner: { class: string; pool?: string | undefined }): string | undefined {
  const named = runner.pool ? doc.pools.find((p) => p.name === runner.pool && p.class === runner.class) : undefined;
  return (named ?? doc.pools.find((p) => p.class === runner.class))?.name;
}

/** One decision per pool of the document, in document order. */
export function desiredForPools(
  doc: ConfigDocument,
  demand: ReadonlyMap<string, DemandSnapshot>,
  runners: ReadonlyMap<string, RunnerCounts>,
  previous: ReadonlyMap<string, PoolDecisionState>,
  now: number,
  options: DesiredOptions = DEFAULT_DESIRED_OPTIONS,
): PoolDecision[] {
  const classPending = new Map<string, number>();
  for (const pool of doc.pools) classPending.set(pool.class, (classPending.get(pool.class) ?? 0) + (runners.get(pool.name)?.pending ?? 0));
  const none = demandSnapshot(emptyDemand(now), now);
  return doc.pools.map((pool) => {
    const cls = doc.classes.find((c) => c.name === pool.class);
    // parseConfigDocument guarantees every pool names a class.
    if (!cls) throw new Error(`pool "${pool.name}" names unknown class "${pool.class}"`);
    const counts = runners.get(pool.name) ?? { pending: 0, running: 0 };
    const inFlight = { pendingRunners: counts.pending, runningRunners: counts.running, classPendingRunners: classPending.get(pool.class) ?? 0 };
    return desiredPlaceholders(pool, cls, demand.get(pool.name) ?? none, inFlight, previous.get(pool.name), now, options);
  });
}
