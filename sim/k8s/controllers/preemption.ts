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
 * priority, then the lowest priority sum, then the fewest victims, then by name.
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
    ];
    if (!best || less(score, best.score)) best = { c: { node, victims }, score };
  }
  return best?.c;
}

function less(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
