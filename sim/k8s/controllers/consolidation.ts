import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { SimClock } from '../clock.ts';
import { ANNOTATION, NODE } from '../../../runtime/k8s/labels.ts';
import type { NodePool } from '../model/nodepool.ts';
import { isDaemonPod, isTerminal } from '../model/pods.ts';
import type { StoreEvent } from '../store/store.ts';
import type { PodIndex } from './pod-index.ts';
import { WorkQueue } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');
export const DISRUPTED_TAINT = { key: 'karpenter.sh/disrupted', effect: 'NoSchedule' } as const;

/**
 * WhenEmpty consolidation: a node of a NodePool with consolidateAfter is removed once it has
 * held no pods other than DaemonSet pods and finished ones for that long. Placeholders are
 * pods: a node holding them is not empty. A node annotated karpenter.sh/do-not-disrupt is
 * never consolidated (a pod with that annotation keeps its node non-empty anyway).
 */
export class Consolidation {
  private readonly queue: WorkQueue;
  private readonly emptySince = new Map<string, number>();
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    private readonly index: PodIndex,
    private readonly pools: NodePool[],
    log: Logger,
    private readonly recordEvents: boolean,
  ) {
    this.queue = new WorkQueue(clock, 'consolidation', (node) => this.reconcile(node), log);
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private observe(e: StoreEvent): void {
    if (e.resource === nodesT) {
      if (e.type === 'DELETED') this.emptySince.delete(e.object.metadata.name);
      else this.queue.add(e.object.metadata.name);
      return;
    }
    if (e.resource !== podsT) return;
    const before = e.old?.spec?.nodeName;
    const after = e.type === 'DELETED' ? undefined : e.object.spec?.nodeName;
    // Any pod activity on a node restarts its consolidateAfter clock, as Karpenter's does.
    for (const n of new Set([before, after])) {
      if (!n) continue;
      this.emptySince.delete(n);
      this.queue.add(n);
    }
  }

  private reconcile(name: string): void {
    const node = this.api.find(nodesT, '', name);
    if (!node || node.metadata.deletionTimestamp) return;
    const pool = this.pools.find((p) => p.name === node.metadata.labels?.[NODE.nodePool]);
    if (!pool || pool.consolidateAfterMs === undefined) return;
    if (node.metadata.annotations?.[ANNOTATION.doNotDisrupt] === 'true') return;
    const busy = this.index.podsOn(name).some((p) => !isTerminal(p) && !isDaemonPod(p));
    if (busy) {
      this.emptySince.delete(name);
      return;
    }
    const now = this.clock.now();
    const since = this.emptySince.get(name) ?? now;
    this.emptySince.set(name, since);
    const due = since + pool.consolidateAfterMs;
    if (now < due) return this.queue.addAfter(name, due - now);
    this.api.mutate(nodesT, '', name, (d) => {
      d.spec ??= {};
      d.spec.taints = [...(d.spec.taints ?? []).filter((t: { key: string }) => t.key !== DISRUPTED_TAINT.key), { ...DISRUPTED_TAINT }];
    });
    if (this.recordEvents) this.api.recordEvent(node, 'Normal', 'DisruptionTerminating', 'Disrupting Node: Empty/Delete', 'karpenter');
    this.api.delete(nodesT, '', name, {});
    this.emptySince.delete(name);
  }
}
