import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { RUNNER_CONTAINER } from '../../k8s/labels.ts';
import type { Stage } from '../../queue/job-records.ts';
import { isWarmHit, timeOf } from '../warm-pool/observe.ts';

export type StartKind = 'warm' | 'cold';

/** Stages a runner pod shows, as epoch ms, plus whether it started warm. */
export interface PodStages {
  scheduledAt?: number;
  nodeReadyAt?: number;
  runningAt?: number;
  finishedAt?: number;
  start?: StartKind;
}

/**
 * Kubernetes timestamps have whole seconds. When we watch a transition live (observed
 * within LIVE_MS of the object's time) our own clock is the better stamp (ms, and in
 * order with the orchestrator's own stages); when catching up later (a new leader, a
 * resync) the object's time is the truth.
 */
const LIVE_MS = 2_000;
export function stampTime(objectTime: number | undefined, observedAt: number): number {
  if (objectTime === undefined) return observedAt;
  return observedAt - objectTime >= 0 && observedAt - objectTime < LIVE_MS ? observedAt : objectTime;
}

/**
 * Reads the stages from a pod (and its node, when known). Warm: the node existed when
 * the pod was created (it took a placeholder's place or a free slot); cold: the node
 * came up later, for it, and its Ready time is the node-ready stage.
 */
export function podStages(pod: V1Pod, node: V1Node | undefined, observedAt: number): PodStages {
  const out: PodStages = {};
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  if (scheduled) out.scheduledAt = stampTime(timeOf(scheduled.lastTransitionTime), observedAt);
  if (node && pod.spec?.nodeName) {
    out.start = isWarmHit(pod, node) ? 'warm' : 'cold';
    if (out.start === 'cold') {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      const at = timeOf(ready?.lastTransitionTime);
      if (at !== undefined) out.nodeReadyAt = at;
    }
  }
  const runner = pod.status?.containerStatuses?.find((s) => s.name === RUNNER_CONTAINER);
  const started = timeOf(runner?.state?.running?.startedAt) ?? timeOf(runner?.state?.terminated?.startedAt);
  if (started !== undefined || pod.status?.phase === 'Running') out.runningAt = stampTime(started, observedAt);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') out.finishedAt = stampTime(timeOf(runner?.state?.terminated?.finishedAt), observedAt);
  return out;
}

/** Latency intervals exported as histograms: name → [from, to]. */
export const INTERVALS = {
  queue_wait: ['enqueuedAt', 'dequeuedAt'],
  provision: ['dequeuedAt', 'jobCreatedAt'],
  node_provisioning: ['jobCreatedAt', 'nodeReadyAt'],
  scheduling: ['jobCreatedAt', 'scheduledAt'],
  container_start: ['scheduledAt', 'runningAt'],
  webhook_to_running: ['receivedAt', 'runningAt'],
  run: ['runningAt', 'finishedAt'],
} as const satisfies Record<string, readonly [Stage, Stage]>;
export type IntervalName = keyof typeof INTERVALS;

/**
 * The intervals whose two ends are known, in seconds. Some ends are whole-second Kubernetes
 * times, so a span down to -1 s is rounding and counts as 0; a larger negative one (clock
 * skew between writers) is dropped rather than reported.
 */
export function intervals(stages: Partial<Record<Stage, number>>, names: readonly IntervalName[]): [IntervalName, number][] {
  const out: [IntervalName, number][] = [];
  for (const name of names) {
    const [from, to] = INTERVALS[name];
    const a = stages[from];
    const b = stages[to];
    if (a !== undefined && b !== undefined && b - a > -1_000) out.push([name, Math.max(0, b - a) / 1000]);
  }
  return out;
}
