import type { Logger } from '../../../runtime/log.ts';
import { daemonSetPodSpec, type DaemonSetInfo } from '../../../runtime/capacity/daemonsets.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { KObject, Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import type { StoreEvent } from '../store/store.ts';
import { nodeLabelsMatch, untoleratedTaint } from '../model/placement.ts';
import type { PodIndex } from './pod-index.ts';
import { WorkQueue } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');
const dsT = resource('daemonsets');
const NS = 'kube-system';

/** The DaemonSet object for one of runtime/capacity's EKS DaemonSets, as the add-ons install it. */
export function daemonSetObject(ds: DaemonSetInfo): KObject {
  const labels = { 'k8s-app': ds.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: ds.name, namespace: NS, labels, annotations: { 'sim.runs-fleet.io/requests-source': ds.source } },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...structuredClone(daemonSetPodSpec(ds)),
          priorityClassName: 'system-node-critical',
          // Every EKS add-on DaemonSet tolerates every taint, so it lands on tainted runner nodes too.
          tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  };
}

/**
 * The DaemonSet controller, condensed: one pod of every DaemonSet in kube-system on every node,
 * bound to it directly (as the controller's node affinity makes the scheduler do). Node
 * creators call place() in the same step as the node, so no other pod can take the
 * DaemonSets' share first; the queue covers nodes made any other way and pods that went away.
 */
export class DaemonSetController {
  private readonly queue: WorkQueue;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    clock: SimClock,
    private readonly index: PodIndex,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'daemonset', (node) => this.place(node), log);
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  /** Creates the DaemonSet objects (idempotent). */
  install(list: readonly DaemonSetInfo[]): void {
    for (const ds of list) if (!this.api.find(dsT, NS, ds.name)) this.api.create(dsT, NS, daemonSetObject(ds));
  }

  private observe(e: StoreEvent): void {
    if (e.resource === nodesT && e.type !== 'MODIFIED') this.queue.add(e.object.metadata.name);
    // A DaemonSet created after the nodes runs on them too.
    if (e.resource === dsT && e.type === 'ADDED') for (const n of this.index.nodes()) this.queue.add(n.metadata.name);
    if (e.resource === podsT && e.type === 'DELETED' && ownedByDaemonSet(e.object) && e.object.spec?.nodeName) this.queue.add(e.object.spec.nodeName);
  }

  /** Reconciles one node: every DaemonSet has exactly one live pod on it. */
  place(nodeName: string): void {
    const node = this.api.find(nodesT, '', nodeName);
    if (node && !node.metadata.deletionTimestamp) {
      const present = new Set(this.index.podsOn(nodeName).filter((p) => !p.metadata.deletionTimestamp).flatMap((p) => (p.metadata.ownerReferences ?? []).map((r) => r.uid)));
      for (const ds of this.api.store.list(dsT)) {
        if (!present.has(ds.metadata.uid) && shouldRunOn(ds, node)) this.api.create(podsT, ds.metadata.namespace!, this.podFor(ds, nodeName));
      }
    }
    this.updateStatus();
  }

  private podFor(ds: Stored, nodeName: string): KObject {
    const t = ds.spec.template;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${ds.metadata.name}-${this.api.rng.suffix()}`,
        namespace: ds.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...structuredClone(t.spec), nodeName, restartPolicy: 'Always' },
    };
  }

  /** desired/current counts (readiness is the pods' own: `kubectl get pods -n kube-system`). */
  private updateStatus(): void {
    const live = this.index.nodes().filter((n) => !n.metadata.deletionTimestamp);
    for (const ds of this.api.store.list(dsT)) {
      const nodes = live.filter((n) => shouldRunOn(ds, n as Stored)).length;
      const current = this.api.store.list(podsT, ds.metadata.namespace).filter((p) => !p.metadata.deletionTimestamp && (p.metadata.ownerReferences ?? []).some((r) => r.uid === ds.metadata.uid)).length;
      if (ds.status?.desiredNumberScheduled === nodes && ds.status?.currentNumberScheduled === current) continue;
      this.api.mutate(dsT, ds.metadata.namespace!, ds.metadata.name, (d) => {
        d.status = { ...(d.status ?? {}), desiredNumberScheduled: nodes, currentNumberScheduled: current, numberMisscheduled: 0, observedGeneration: d.metadata.generation ?? 1 };
      });
    }
  }
}

/**
 * The DaemonSet controller's NodeShouldRunDaemonPod, condensed: the template's nodeSelector and
 * required node affinity match the node, and its tolerations admit the node's NoSchedule and
 * NoExecute taints (the EKS add-ons tolerate every taint; the image pre-pull DaemonSet only
 * runner nodes and their taints).
 */
function shouldRunOn(ds: Stored, node: Stored): boolean {
  const template = { spec: ds.spec?.template?.spec ?? {} } as KObject;
  return nodeLabelsMatch(template, node.metadata.labels ?? {}, node.metadata.name) && !untoleratedTaint(template, node.spec?.taints);
}

function ownedByDaemonSet(pod: KObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'DaemonSet');
}
