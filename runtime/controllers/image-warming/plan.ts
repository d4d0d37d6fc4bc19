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
 * - a runner of its class is waiting with nowhere better to go: kube-scheduler found no
 *   untainted node with room and no placeholder to preempt on one (it would have nominated a
 *   node), so holding the runner off would only make Karpenter launch a node for it, which
 *   pulls the same image from scratch. On the warming node it waits for the rest of a pull that
 *   is already under way (the kubelet shares one pull per image). The nodes that became Ready
 *   first go first (their pulls are furthest along), one per waiting runner.
 * So the taint only ever sends a runner somewhere better; it never makes one wait longer than
 * a pass of the reconcile. A node that is not Ready keeps it: nothing can run there yet anyway.
 *
 * With the image pre-pull DaemonSet (build-prepull.ts) every runner node has a pod pulling the
 * image from the moment it is Ready, so a node launched for runners is warmed too: it opens when
 * that pod is Ready, like one a placeholder warms, and the last rule skips it while its pull runs
 * — the waiting runner would only wait for the same pull on it, and opening it early would let
 * every runner that comes meanwhile into its free slots to wait too, instead of preempting a
 * placeholder where the image is. A pull that takes longer than `prePullHoldMs` stops holding
 * the node (a stuck pull must not strand runners).
 */

export interface WarmingNode {
  name: string;
  /** Its runner class (runs-fleet.io/class). */
  class?: string;
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
  /** The image pre-pull DaemonSet's pod, not a placeholder: always bound, never preempted. */
  prePull?: boolean;
}

export type UntaintReason = 'image_pulled' | 'no_placeholder' | 'runner_waiting';

export interface UntaintDecision {
  node: string;
  reason: UntaintReason;
}

/** Default grace: the scheduler binds pending placeholders within a second of a node going Ready. */
export const DEFAULT_NO_PLACEHOLDER_GRACE_MS = 5_000;
/** The runner image takes ≈ 88 s to pull on a new node (sim/k8s/timing-profile.ts); twice that and more is a pull gone wrong. */
export const DEFAULT_PREPULL_HOLD_MS = 180_000;

export function planImageWarming(
  nodes: readonly WarmingNode[],
  placeholders: readonly WarmingPod[],
  now: number,
  graceMs = DEFAULT_NO_PLACEHOLDER_GRACE_MS,
  /** Runner pods per class that are unschedulable and nominated nowhere (no room and no victim on any untainted node). */
  waitingRunners: Readonly<Record<string, number>> = {},
  prePullHoldMs = DEFAULT_PREPULL_HOLD_MS,
): UntaintDecision[] {
  const byNode = new Map<string, WarmingPod[]>();
  let pending = false;
  for (const p of placeholders) {
    if (p.terminating) continue;
    if (p.nodeName === undefined) {
      pending ||= !p.prePull;
      continue;
    }
    let list = byNode.get(p.nodeName);
    if (!list) byNode.set(p.nodeName, (list = []));
    list.push(p);
  }
  const out: UntaintDecision[] = [];
  const held: WarmingNode[] = [];
  for (const n of nodes) {
    if (!n.tainted || n.readySince === undefined) continue;
    const here = byNode.get(n.name) ?? [];
    if (here.some((p) => p.ready)) out.push({ node: n.name, reason: 'image_pulled' });
    else if (here.length === 0 && (!pending || now - n.readySince >= graceMs)) out.push({ node: n.name, reason: 'no_placeholder' });
    else held.push(n);
  }
  // Nodes opened above take waiting runners first.
  const waiting = new Map(Object.entries(waitingRunners));
  for (const d of out) {
    const cls = nodes.find((n) => n.name === d.node)?.class;
    if (cls !== undefined && (waiting.get(cls) ?? 0) > 0) waiting.set(cls, waiting.get(cls)! - 1);
  }
  const pulling = (n: WarmingNode) => now - n.readySince! < prePullHoldMs && (byNode.get(n.name) ?? []).some((p) => p.prePull);
  for (const n of held.sort((a, b) => a.readySince! - b.readySince! || a.name.localeCompare(b.name))) {
    if (pulling(n)) continue;
    const left = n.class === undefined ? 0 : (waiting.get(n.class) ?? 0);
    if (left <= 0) continue;
    waiting.set(n.class!, left - 1);
    out.push({ node: n.name, reason: 'runner_waiting' });
  }
  return out;
}
