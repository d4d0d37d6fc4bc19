import type { CoreV1Api, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { COMPONENT, IMAGE_WARMING_TAINT, LABEL, MANAGED_BY, NODE_CLASS_LABEL } from '../../k8s/labels.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import type { ImageWarmingMetrics } from './metrics.ts';
import { planImageWarming, type UntaintDecision, type WarmingNode, type WarmingPod } from './plan.ts';

export interface ImageWarmingDeps {
  core: Pick<CoreV1Api, 'listNode' | 'listNamespacedPod' | 'patchNode'>;
  /** The runner namespace, where the placeholders run. */
  namespace: string;
  clock: Clock;
  log: Logger;
  metrics?: ImageWarmingMetrics;
  /** planImageWarming's grace for a node no placeholder is warming. */
  graceMs?: number;
}

/**
 * The edge of the image-warming reconcile (plan.ts decides): lists the runner-class nodes, the
 * placeholders and the pending runner pods, and removes the image-warming taint from the nodes the plan names. Each
 * PATCH first tests that the taints are still what was read, so a taint another controller
 * added meanwhile (Karpenter's disruption taint) is never dropped; a failed test is retried on
 * the next pass with fresh state.
 */
export class ImageWarmingController {
  constructor(private readonly d: ImageWarmingDeps) {}

  async reconcile(): Promise<UntaintDecision[]> {
    const [nodes, pods, runners] = await Promise.all([
      this.d.core.listNode({ labelSelector: NODE_CLASS_LABEL }),
      // Placeholders and the image pre-pull pods: what warms a node, in one list.
      this.d.core.listNamespacedPod({ namespace: this.d.namespace, labelSelector: WARMING_SELECTOR }),
      // Pending runner pods only: the field selector keeps this small however many runners run.
      this.d.core.listNamespacedPod({ namespace: this.d.namespace, labelSelector: RUNNER_SELECTOR, fieldSelector: 'spec.nodeName=' }),
    ]);
    const byName = new Map(nodes.items.map((n) => [n.metadata?.name ?? '', n]));
    const decisions = planImageWarming(
      nodes.items.map(warmingNode), pods.items.flatMap(warmingPod),
      this.d.clock.now(), this.d.graceMs, waitingRunners(runners.items),
    );
    const done: UntaintDecision[] = [];
    for (const decision of decisions) {
      const taints = byName.get(decision.node)?.spec?.taints ?? [];
      const body = [
        { op: 'test', path: '/spec/taints', value: taints },
        { op: 'replace', path: '/spec/taints', value: taints.filter((t) => !isWarmingTaint(t)) },
      ];
      try {
        await this.d.core.patchNode({ name: decision.node, body });
        this.d.metrics?.untainted.inc({ reason: decision.reason });
        done.push(decision);
      } catch (err) {
        this.d.metrics?.failures.inc();
        this.d.log.warn({ err, node: decision.node }, 'image-warming: removing the taint failed; retrying next pass');
      }
    }
    if (done.length) this.d.log.debug({ nodes: done }, 'image-warming: runner nodes opened to runners');
    return done;
  }

  forget(): void {}
}

const RUNNER_SELECTOR = `${LABEL.component}=${COMPONENT.runner},${LABEL.managedBy}=${MANAGED_BY}`;
const WARMING_SELECTOR = `${LABEL.component} in (${COMPONENT.placeholder},${COMPONENT.imagePrePull}),${LABEL.managedBy}=${MANAGED_BY}`;

/** Runner pods kube-scheduler could place nowhere, by class: Unschedulable and not nominated to a node (no victim on any node it may use). */
function waitingRunners(pods: readonly V1Pod[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) {
    if (p.spec?.nodeName || p.metadata?.deletionTimestamp || p.status?.nominatedNodeName) continue;
    const cond = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const cls = p.metadata?.labels?.[LABEL.class];
    if (cond?.status !== 'False' || cond.reason !== 'Unschedulable' || !cls) continue;
    out[cls] = (out[cls] ?? 0) + 1;
  }
  return out;
}

function isWarmingTaint(t: V1Taint): boolean {
  return t.key === IMAGE_WARMING_TAINT.key && t.effect === IMAGE_WARMING_TAINT.effect;
}

function warmingNode(n: V1Node): WarmingNode {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const at = ready?.lastTransitionTime as Date | string | undefined;
  const since = ready?.status !== 'True' || !at ? Number.NaN : at instanceof Date ? at.getTime() : Date.parse(at);
  const cls = n.metadata?.labels?.[NODE_CLASS_LABEL];
  return {
    name: n.metadata?.name ?? '',
    ...(cls ? { class: cls } : {}),
    tainted: (n.spec?.taints ?? []).some(isWarmingTaint),
    ...(Number.isFinite(since) ? { readySince: since } : {}),
  };
}

function warmingPod(p: V1Pod): WarmingPod[] {
  const nodeName = p.spec?.nodeName;
  const phase = p.status?.phase;
  const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const prePull = p.metadata?.labels?.[LABEL.component] === COMPONENT.imagePrePull;
  return [{ ...(nodeName ? { nodeName } : {}), ready, terminating: !!p.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed', ...(prePull ? { prePull } : {}) }];
}
