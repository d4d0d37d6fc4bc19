/**
 * When a runner node may take runners: the image-warming decision, pure.
 *
 * Runner nodes start with the image-warming startup taint (runtime/k8s/labels.ts
 * IMAGE_WARMING_TAINT), which placeholders tolerate and runners do not. A placeholder's
 * pre-pull init containers run the runner image, so its Ready means the image is on the node;
 * until then a runner that lands there would wait for the rest of the pull (≈ 88 s for the
 * 1.6 GB image, sim/k8s/timing-profile.ts) — a "warm" start as slow as a cold one. With the
 * taint on, kube-scheduler keeps runners off such nodes (TaintToleration filter) and, because
 * that filter is unresolvable by preemption, preempts placeholders only on nodes that already
 * hold the image (kube-scheduler preemption: nodes failing with UnschedulableAndUnresolvable
 * are not candidates, pkg/scheduler/framework/preemption/preemption.go).
 *
 * Karpenter ignores startup taints when it decides a pod fits a NodePool and expects another
 * system to remove them (karpenter.sh/v1.9/concepts/nodepools, "startupTaints"; its
 * scheduling simulation drops them from not-yet-initialized nodes, pkg/controllers/state/
 * statenode.go Taints()). This is that system. A node's taint comes off when
 * - a placeholder on it is Ready (the image is there), or
 * - no placeholder is on it and none is pending: nothing will warm it (Karpenter launched it
 *   for runners, or its placeholders were taken away), and holding it would strand the runners
 *   it was launched for — a cold start must not wait on the reconcile;
 * - no placeholder is on it `graceMs` after it became Ready while some are pending: the
 *   scheduler binds the placeholders Karpenter launched a node for as soon as it is Ready, so
 *   a pending one still unbound after the grace is not coming here.
 * A node that is not Ready keeps it: nothing can run there yet anyway.
 */

export interface WarmingNode {
  name: string;
  /** It still carries the image-warming taint. */
  tainted: boolean;
  /** Epoch ms its Ready condition turned True; undefined while not Ready. */
  readySince?: number;
}

export interface WarmingPod {
  /** Undefined while it is pending (not bound to a node yet). */
  nodeName?: string;
  /** Ready condition True: every init container (the pre-pulls) finished and pause runs. */
  ready: boolean;
  /** Being deleted (preempted or scaled down): it no longer warms the node. */
  terminating: boolean;
}

export type UntaintReason = 'image_pulled' | 'no_placeholder';

export interface UntaintDecision {
  node: string;
  reason: UntaintReason;
}

/** Default grace: the scheduler binds pending placeholders within a second of a node going Ready. */
export const DEFAULT_NO_PLACEHOLDER_GRACE_MS = 5_000;

export function planImageWarming(
  nodes: readonly WarmingNode[],
  placeholders: readonly WarmingPod[],
  now: number,
  graceMs = DEFAULT_NO_PLACEHOLDER_GRACE_MS,
): UntaintDecision[] {
  const byNode = new Map<string, WarmingPod[]>();
  let pending = false;
  for (const p of placeholders) {
    if (p.terminating) continue;
    if (p.nodeName === undefined) {
      pending = true;
      continue;
    }
    let list = byNode.get(p.nodeName);
    if (!list) byNode.set(p.nodeName, (list = []));
    list.push(p);
  }
  const out: UntaintDecision[] = [];
  for (const n of nodes) {
    if (!n.tainted || n.readySince === undefined) continue;
    const here = byNode.get(n.name) ?? [];
    if (here.some((p) => p.ready)) out.push({ node: n.name, reason: 'image_pulled' });
    else if (here.length === 0 && (!pending || now - n.readySince >= graceMs)) out.push({ node: n.name, reason: 'no_placeholder' });
  }
  return out;
}
