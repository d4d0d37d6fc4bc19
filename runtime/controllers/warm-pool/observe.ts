import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ConfigDocument } from '../../config/document.ts';
import { ANNOTATION, COMPONENT, LABEL, MANAGED_BY } from '../../k8s/labels.ts';
import type { Arrival } from './fan-out.ts';
import { poolOfRunner, type RunnerCounts } from './desired-pools.ts';

/** Pure readings of observed objects: what the reconciler knows before it decides. */

export const RUNNER_LIST_SELECTOR = `${LABEL.component}=${COMPONENT.runner},${LABEL.managedBy}=${MANAGED_BY}`;

export type RunnerPhase = 'new' | 'waiting_for_node' | 'binding' | 'running' | 'done';

export function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Where a runner pod is on its way to running. Only `waiting_for_node` — the scheduler
 * found no room and nothing to preempt — makes placeholders yield. `binding` is a pod the
 * scheduler has found room for (nominated onto a node while a placeholder there is
 * evicted, or bound and starting): it is taking a warm slot. `new` has not been tried yet.
 */
export function runnerPhase(pod: V1Pod): RunnerPhase {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) return 'done';
  if (phase === 'Running') return 'running';
  if (pod.spec?.nodeName || pod.status?.nominatedNodeName) return 'binding';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' ? 'waiting_for_node' : 'new';
}

/** Runner pods per pool: waiting for a node vs on one (not-yet-scheduled ones are neither). Pods of classes without a pool are left out. */
export function countRunners(doc: ConfigDocument, pods: readonly V1Pod[]): Map<string, RunnerCounts> {
  const counts = new Map<string, RunnerCounts>();
  for (const pod of pods) {
    const pool = runnerPool(doc, pod);
    const phase = runnerPhase(pod);
    if (!pool || phase === 'done' || phase === 'new') continue;
    const c = counts.get(pool) ?? { pending: 0, running: 0 };
    if (phase === 'waiting_for_node') c.pending++;
    else c.running++;
    counts.set(pool, c);
  }
  return counts;
}

export function runnerPool(doc: ConfigDocument, pod: V1Pod): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  const cls = labels[LABEL.class];
  return cls ? poolOfRunner(doc, { class: cls, pool: labels[LABEL.pool] }) : undefined;
}

/** The run a runner pod's job belongs to, and the job's identity (repository / workflow / job name), from its annotations. */
export function arrivalOf(pod: V1Pod, at: number): Arrival {
  const a = pod.metadata?.annotations ?? {};
  const repo = a[ANNOTATION.repo];
  const arrival: Arrival = { at };
  const runId = a[ANNOTATION.runId];
  if (repo && runId) arrival.run = `${repo}#${runId}#${pod.metadata?.labels?.[LABEL.runAttempt] ?? '1'}`;
  const workflow = a[ANNOTATION.workflow];
  const job = a[ANNOTATION.jobName];
  if (repo && workflow !== undefined && job !== undefined) arrival.key = `${repo}/${workflow}/${job}`;
  return arrival;
}

/**
 * Arrivals per pool: runner pods not seen before, in creation order. `seen` is
 * the set of pod uids this leader already counted; a new leader (`seen` undefined) counts
 * only pods created after the newest arrival in the stored history (`since`), so the
 * previous leader's arrivals are not counted twice.
 */
export function newArrivals(
  doc: ConfigDocument,
  pods: readonly V1Pod[],
  seen: ReadonlySet<string> | undefined,
  since: ReadonlyMap<string, number | undefined>,
): Map<string, Arrival[]> {
  const out = new Map<string, Arrival[]>();
  for (const pod of pods) {
    const uid = pod.metadata?.uid;
    const created = timeOf(pod.metadata?.creationTimestamp);
    const pool = runnerPool(doc, pod);
    if (!uid || created === undefined || !pool || seen?.has(uid)) continue;
    const after = since.get(pool);
    if (!seen && after !== undefined && created <= after) continue;
    out.set(pool, [...(out.get(pool) ?? []), arrivalOf(pod, created)]);
  }
  for (const arrivals of out.values()) arrivals.sort((a, b) => a.at - b.at);
  return out;
}

/**
 * A warm hit: the runner went onto a node that existed when the runner was created
 * (it took a placeholder's place or a free slot). A miss: its node came up later, for it.
 */
export function isWarmHit(pod: V1Pod, node: V1Node): boolean {
  const created = timeOf(pod.metadata?.creationTimestamp) ?? 0;
  const nodeCreated = timeOf(node.metadata?.creationTimestamp) ?? 0;
  return nodeCreated <= created;
}

/** Placeholder Deployments by pool name (from the pool label). */
export function placeholdersByPool(deployments: readonly V1Deployment[]): Map<string, V1Deployment> {
  const out = new Map<string, V1Deployment>();
  for (const d of deployments) {
    const pool = d.metadata?.labels?.[LABEL.pool];
    if (pool) out.set(pool, d);
  }
  return out;
}
