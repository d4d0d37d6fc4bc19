import type { Stored } from '../api/types.ts';
import { add, fitsIn, podRequests, sub, type Res } from '../model/resources.ts';
import { isTerminal, podPriority } from '../model/pods.ts';

export interface PreemptionCandidate {
  node: Stored;
  victims: Stored[];
}

/**
 * kube-scheduler's preemption, pure: on each node that passes the pod's non-resource filters,
 * remove every lower-priority pod, check the pod fits, then reprieve victims from the highest
 * priority down while it still fits. Picks the node whose victims have the lowest highest
 * priority, then the lowest priority sum, then the fewest victims, then the latest start time
 * of its highest-priority victims, then the first node — kube-scheduler's pickOneNodeForPreemption
 * (pkg/scheduler/framework/preemption/preemption.go, criteria 2–6; no PDBs here). Criterion 5
 * matters for placeholders: of equal placeholders it takes the most recently started, i.e. the
 * one on the newest node, which may still be pulling the runner image.
 */
export function selectPreemption(
  pod: Stored,
  nodes: { node: Stored; free: Res; pods: Stored[] }[],
): PreemptionCandidate | undefined {
  const req = podRequests(pod);
  const prio = podPriority(pod);
  let best: { c: PreemptionCandidate; score: number[] } | undefined;
  for (const { node, free, pods } of nodes) {
    const candidates = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp && podPriority(p) < prio);
    if (candidates.length === 0) continue;
    let room = free;
    for (const c of candidates) room = add(room, podRequests(c));
    if (!fitsIn(req, room)) continue;
    const victims: Stored[] = [];
    const order = [...candidates].sort(
      (a, b) => podPriority(b) - podPriority(a) || (a.status?.startTime ?? '').localeCompare(b.status?.startTime ?? ''),
    );
    for (const c of order) {
      const without = sub(room, podRequests(c));
      if (fitsIn(req, without)) room = without;
      else victims.push(c);
    }
    const score = [
      Math.max(...victims.map(podPriority)),
      victims.reduce((s, v) => s + podPriority(v), 0),
      victims.length,
      // Later is better, so negated; a victim with no start time yet counts as starting now (util.GetPodStartTime).
      -earliestStart(victims.filter((v) => podPriority(v) === Math.max(...victims.map(podPriority)))),
    ];
    if (!best || less(score, best.score)) best = { c: { node, victims }, score };
  }
  return best?.c;
}

function earliestStart(pods: Stored[]): number {
  return Math.min(...pods.map((p) => (p.status?.startTime ? Date.parse(p.status.startTime) : Number.POSITIVE_INFINITY)));
}

function less(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
