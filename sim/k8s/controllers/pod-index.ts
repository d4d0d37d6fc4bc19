import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import { add, nodeAllocatable, podRequests, sub, ZERO, type Res } from '../model/resources.ts';
import { isTerminal, podPriority } from '../model/pods.ts';
import { splitKey } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');

/**
 * Shared indexes over pods for the scheduler, provisioner, consolidation and kubelet models:
 * pods by node and pods nominated to a node. Maintained from store events, read on demand.
 */
export class PodIndex {
  private readonly byNode = new Map<string, Set<string>>();
  private readonly nominated = new Map<string, Set<string>>();
  private readonly off: () => void;

  constructor(private readonly api: Registry) {
    this.off = api.store.onEvent((e) => {
      if (e.resource !== podsT) return;
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      move(this.byNode, key, e.old?.spec?.nodeName, e.type === 'DELETED' ? undefined : e.object.spec?.nodeName);
      move(this.nominated, key, e.old?.status?.nominatedNodeName, e.type === 'DELETED' ? undefined : e.object.status?.nominatedNodeName);
    });
  }

  stop(): void {
    this.off();
  }

  podsOn(node: string): Stored[] {
    return this.resolve(this.byNode.get(node));
  }

  nodes(): Stored[] {
    return this.api.store.list(nodesT).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** Requests of the pods bound to a node that still hold resources (terminating ones included). */
  used(node: string): Res {
    let total = ZERO;
    for (const p of this.podsOn(node)) if (!isTerminal(p)) total = add(total, podRequests(p));
    return total;
  }

  /** Allocatable minus what bound pods hold. */
  unreserved(node: Stored): Res {
    return sub(nodeAllocatable(node), this.used(node.metadata.name));
  }

  /**
   * What is free on a node for `pod`: allocatable minus bound pods minus pods nominated there
   * (waiting for their victims to go) of at least the same priority. `base` short-cuts the
   * first subtraction when the caller keeps it per scheduling pass.
   */
  free(node: Stored, pod?: Stored, base?: Res): Res {
    let free = base ?? this.unreserved(node);
    const nominated = this.nominated.get(node.metadata.name);
    if (!nominated) return free;
    for (const n of this.resolve(nominated)) {
      if (n.spec?.nodeName || (pod && (n.metadata.uid === pod.metadata.uid || podPriority(n) < podPriority(pod)))) continue;
      free = sub(free, podRequests(n));
    }
    return free;
  }

  private resolve(keys: Set<string> | undefined): Stored[] {
    const out: Stored[] = [];
    for (const key of keys ?? []) {
      const [ns, name] = splitKey(key);
      const p = this.api.find(podsT, ns, name);
      if (p) out.push(p);
    }
    return out;
  }
}

function move(index: Map<string, Set<string>>, key: string, from: string | undefined, to: string | undefined): void {
  if (from === to) return;
  if (from) {
    const s = index.get(from);
    s?.delete(key);
    if (s && s.size === 0) index.delete(from);
  }
  if (to) {
    let s = index.get(to);
    if (!s) index.set(to, (s = new Set()));
    s.add(key);
  }
}

export function nodeIsSchedulable(node: Stored): boolean {
  if (node.metadata.deletionTimestamp || node.spec?.unschedulable) return false;
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  return !ready || ready.status === 'True';
}
