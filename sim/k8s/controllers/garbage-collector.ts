import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import type { StoreEvent } from '../store/store.ts';
import { WorkQueue } from './queue.ts';

const FOREGROUND = 'foregroundDeletion';

function inForeground(obj: Stored): boolean {
  return !!obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(FOREGROUND);
}

/**
 * The garbage collector: deletes dependents whose owners are all gone (background), deletes
 * the dependents of an owner in foreground deletion and drops its finalizer once they are
 * gone, and removes references to owners that no longer exist. Keyed by uid; the store's
 * owner index means nothing is scanned.
 */
export class GarbageCollector {
  private readonly queue: WorkQueue;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    clock: SimClock,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'garbage-collector', (uid) => this.reconcile(uid), log);
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private observe(e: StoreEvent): void {
    const uid = e.object.metadata.uid;
    if (e.type === 'DELETED') {
      for (const d of this.api.store.dependentsOf(uid)) this.queue.add(d.obj.metadata.uid);
      for (const ref of e.old?.metadata.ownerReferences ?? []) this.queue.add(ref.uid);
      return;
    }
    if (e.object.metadata.ownerReferences && (e.type === 'ADDED' || e.old?.metadata.ownerReferences !== e.object.metadata.ownerReferences)) this.queue.add(uid);
    if (inForeground(e.object) && !(e.old && inForeground(e.old))) this.queue.add(uid);
  }

  private reconcile(uid: string): void {
    const found = this.api.store.byUid(uid);
    if (!found) return;
    const { t, obj } = found;
    const ns = obj.metadata.namespace ?? '';
    if (inForeground(obj)) {
      const deps = this.api.store.dependentsOf(uid);
      if (deps.length === 0) {
        this.api.mutate(t, ns, obj.metadata.name, (d) => {
          d.metadata.finalizers = (d.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND);
        });
        return;
      }
      for (const dep of deps) if (!dep.obj.metadata.deletionTimestamp) this.deleteQuietly(dep.t, dep.obj, 'Foreground');
      return;
    }
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0 || obj.metadata.deletionTimestamp) return;
    const owners = refs.map((ref) => this.api.store.byUid(ref.uid)?.obj);
    const alive = owners.filter((o) => o && !inForeground(o));
    if (alive.length === 0) {
      this.deleteQuietly(t, obj, owners.some((o) => o && inForeground(o)) ? 'Foreground' : 'Background');
      return;
    }
    if (owners.some((o) => !o)) {
      this.api.mutate(t, ns, obj.metadata.name, (d) => {
        d.metadata.ownerReferences = refs.filter((_, i) => owners[i]);
      });
    }
  }

  private deleteQuietly(t: Parameters<Registry['delete']>[0], obj: Stored, policy: 'Foreground' | 'Background'): void {
    try {
      this.api.delete(t, obj.metadata.namespace ?? '', obj.metadata.name, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid } });
    } catch {
      // Already gone or replaced by a namesake: nothing left to collect.
    }
  }
}
