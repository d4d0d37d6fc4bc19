import type { Logger } from '../../../runtime/log.ts';
import { StatusError } from '../api/errors.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import { conditionTrue, controllerRef, isTerminal, setCondition } from '../model/pods.ts';
import { isoSeconds } from '../model/time.ts';
import type { StoreEvent } from '../store/store.ts';
import { splitKey, WorkQueue } from './queue.ts';

const deploymentsT = resource('deployments');
const podsT = resource('pods');
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/**
 * The Deployment controller, condensed: the sim has no ReplicaSets, so a Deployment owns its
 * pods directly; pods carry `pod-template-hash` as they would. Scales up and down (deleting
 * unscheduled, then pending, then not-ready, then newest pods first, as a ReplicaSet does) and
 * rolls pods to a changed template within maxSurge / maxUnavailable.
 */
export class DeploymentController {
  private readonly queue: WorkQueue;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'deployment', (key) => this.reconcile(key), log);
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private observe(e: StoreEvent): void {
    if (e.resource === deploymentsT && e.type !== 'DELETED') this.queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    if (e.resource !== podsT) return;
    const ref = controllerRef(e.object);
    if (ref?.kind === 'Deployment') this.queue.add(`${e.object.metadata.namespace}/${ref.name}`);
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const d = this.api.find(deploymentsT, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const hash = templateHash(d.spec.template);
    const pods = this.api.store
      .dependentsOf(d.metadata.uid)
      .filter((x) => x.t === podsT && controllerRef(x.obj)?.uid === d.metadata.uid)
      .map((x) => x.obj);
    // A terminal pod of a Deployment (its node vanished) is replaced, and removed.
    for (const p of pods.filter(isTerminal)) this.deletePod(p);
    const live = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
    const current = live.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH] === hash);
    const old = live.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH] !== hash);
    const desired: number = d.spec.replicas ?? 1;
    const { maxSurge, maxUnavailable } = rollingBounds(d, desired);
    const recreate = d.spec.strategy?.type === 'Recreate';

    let toCreate = 0;
    const toDelete: Stored[] = [];
    if (current.length > desired) toDelete.push(...rankForDeletion(current).slice(0, current.length - desired));
    if (recreate) {
      toDelete.push(...old);
      const terminatingOld = pods.some((p) => !isTerminal(p) && p.metadata.deletionTimestamp && p.metadata.labels?.[POD_TEMPLATE_HASH] !== hash);
      if (old.length === 0 && !terminatingOld) toCreate = Math.max(0, desired - current.length);
    } else {
      const room = old.length === 0 ? desired - current.length : desired + maxSurge - live.length;
      toCreate = Math.max(0, Math.min(desired - current.length, room));
      const ready = live.filter(isReady).length;
      let removable = Math.max(0, ready - (desired - maxUnavailable));
      for (const p of rankForDeletion(old)) {
        if (!isReady(p)) toDelete.push(p);
        else if (removable > 0) {
          toDelete.push(p);
          removable--;
        }
      }
    }
    for (const p of toDelete) this.deletePod(p);
    for (let i = 0; i < toCreate; i++) {
      try {
        this.api.create(podsT, ns, podFor(d, hash));
      } catch (e) {
        this.api.recordEvent(d, 'Warning', 'FailedCreate', `Error creating: ${e instanceof StatusError ? e.message : String(e)}`, 'deployment-controller');
        this.queue.addAfter(key, 10_000);
        break;
      }
    }
    this.writeStatus(d, live.filter((p) => !toDelete.includes(p)), hash, desired, maxUnavailable);
  }

  private deletePod(p: Stored): void {
    try {
      this.api.delete(podsT, p.metadata.namespace ?? '', p.metadata.name, { preconditions: { uid: p.metadata.uid } });
    } catch {
      // already gone
    }
  }

  private writeStatus(d: Stored, live: Stored[], hash: string, desired: number, maxUnavailable: number): void {
    const ns = d.metadata.namespace ?? '';
    const updated = live.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH] === hash).length;
    const ready = live.filter(isReady).length;
    const time = isoSeconds(this.clock.now());
    this.api.mutate(deploymentsT, ns, d.metadata.name, (draft) => {
      const s = (draft.status ??= {});
      s.observedGeneration = draft.metadata.generation;
      count(s, 'replicas', live.length);
      count(s, 'updatedReplicas', updated);
      count(s, 'readyReplicas', ready);
      count(s, 'availableReplicas', ready);
      count(s, 'unavailableReplicas', Math.max(0, desired - ready));
      const available = ready >= desired - maxUnavailable;
      setCondition(
        s,
        available
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        time,
        { lastUpdateTime: time },
      );
      const done = updated === desired && live.length === desired && ready === desired;
      setCondition(
        s,
        done
          ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${d.metadata.name}-${hash}" has successfully progressed.` }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${d.metadata.name}-${hash}" is progressing.` },
        time,
        { lastUpdateTime: time },
      );
    });
  }
}

function isReady(p: Stored): boolean {
  return conditionTrue(p, 'Ready');
}

function count(s: Record<string, unknown>, k: string, n: number): void {
  if (n > 0) s[k] = n;
  else delete s[k];
}

function rollingBounds(d: Stored, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const resolve = (v: unknown, round: (x: number) => number, dflt: string) => {
    const s = String(v ?? dflt);
    return s.endsWith('%') ? round((Number(s.slice(0, -1)) / 100) * desired) : Number(s);
  };
  const maxSurge = resolve(ru.maxSurge, Math.ceil, '25%');
  let maxUnavailable = resolve(ru.maxUnavailable, Math.floor, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** ReplicaSet's deletion order: unscheduled, pending, not ready, then newest first. */
function rankForDeletion(pods: Stored[]): Stored[] {
  const rank = (p: Stored) => [p.spec?.nodeName ? 1 : 0, p.status?.phase === 'Pending' ? 0 : 1, isReady(p) ? 1 : 0];
  return [...pods].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name);
  });
}

/** A short stable hash of the pod template (FNV-1a), like the `pod-template-hash` label. */
export function templateHash(template: unknown): string {
  const s = JSON.stringify(template ?? {});
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).slice(0, 10).replace(/[^a-z0-9]/g, 'x');
}

function podFor(d: Stored, hash: string): Stored {
  const tpl = d.spec.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${d.metadata.name}-${hash}-`,
      namespace: d.metadata.namespace,
      labels: { ...(tpl.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash },
      ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(tpl.spec),
  } as unknown as Stored;
}
