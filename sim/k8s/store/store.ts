import type { ResourceType } from '../api/resources.ts';
import type { Stored, WatchEventType } from '../api/types.ts';

export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceType;
  /** The new state; for DELETED the last state, carrying the deletion's resourceVersion. */
  object: Stored;
  /** The state before a MODIFIED or DELETED. */
  old?: Stored;
  rv: number;
}

export type StoreListener = (event: StoreEvent) => void;

const jsonCache = new WeakMap<object, string>();

/** The object's JSON, computed once per stored version (objects are never mutated once stored). */
export function jsonOf(obj: object): string {
  let s = jsonCache.get(obj);
  if (s === undefined) {
    s = JSON.stringify(obj);
    jsonCache.set(obj, s);
  }
  return s;
}

interface UidEntry {
  t: ResourceType;
  ns: string;
  name: string;
}

/**
 * The in-memory object store: tables per resource, then per namespace, then by name; an index
 * by uid and one from owner uid to dependents, so garbage collection never scans. Writes get
 * a resourceVersion from one global counter (like etcd's revision) and are announced to
 * listeners synchronously; listeners must only record or enqueue, never write back.
 */
export class ObjectStore {
  private rv = 0;
  private readonly tables = new Map<string, Map<string, Map<string, Stored>>>();
  private readonly uids = new Map<string, UidEntry>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly listeners: StoreListener[] = [];

  currentRv(): number {
    return this.rv;
  }

  onEvent(listener: StoreListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get(t: ResourceType, ns: string, name: string): Stored | undefined {
    return this.tables.get(t.plural)?.get(t.namespaced ? ns : '')?.get(name);
  }

  /** Objects of a resource, in one namespace or (ns undefined) all, in insertion order. */
  *iterate(t: ResourceType, ns?: string): Iterable<Stored> {
    const table = this.tables.get(t.plural);
    if (!table) return;
    if (ns !== undefined && t.namespaced) {
      const m = table.get(ns);
      if (m) yield* m.values();
      return;
    }
    for (const m of table.values()) yield* m.values();
  }

  list(t: ResourceType, ns?: string): Stored[] {
    return [...this.iterate(t, ns)];
  }

  count(t: ResourceType): number {
    let n = 0;
    for (const m of this.tables.get(t.plural)?.values() ?? []) n += m.size;
    return n;
  }

  byUid(uid: string): { t: ResourceType; obj: Stored } | undefined {
    const e = this.uids.get(uid);
    if (!e) return undefined;
    const obj = this.get(e.t, e.ns, e.name);
    return obj ? { t: e.t, obj } : undefined;
  }

  /** Objects whose ownerReferences name this uid. */
  dependentsOf(uid: string): { t: ResourceType; obj: Stored }[] {
    const out: { t: ResourceType; obj: Stored }[] = [];
    for (const d of this.dependents.get(uid) ?? []) {
      const found = this.byUid(d);
      if (found) out.push(found);
    }
    return out;
  }

  hasDependents(uid: string): boolean {
    return (this.dependents.get(uid)?.size ?? 0) > 0;
  }

  /** Stores a new object (metadata already complete except resourceVersion). */
  insert(t: ResourceType, obj: Stored): Stored {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const ns = t.namespaced ? obj.metadata.namespace ?? '' : '';
    this.nsTable(t, ns).set(obj.metadata.name, obj);
    this.uids.set(obj.metadata.uid, { t, ns, name: obj.metadata.name });
    this.indexOwners(obj, undefined);
    this.emit({ type: 'ADDED', resource: t, object: obj, rv });
    return obj;
  }

  /** Replaces the stored version of `next`'s object; the caller has checked preconditions. */
  replace(t: ResourceType, next: Stored): Stored {
    const ns = t.namespaced ? next.metadata.namespace ?? '' : '';
    const table = this.nsTable(t, ns);
    const old = table.get(next.metadata.name);
    if (!old) throw new Error(`store: replace of missing ${t.plural} ${ns}/${next.metadata.name}`);
    const rv = ++this.rv;
    next.metadata.resourceVersion = String(rv);
    table.set(next.metadata.name, next);
    this.indexOwners(next, old);
    this.emit({ type: 'MODIFIED', resource: t, object: next, old, rv });
    return next;
  }

  remove(t: ResourceType, ns: string, name: string): Stored | undefined {
    const table = this.tables.get(t.plural)?.get(t.namespaced ? ns : '');
    const old = table?.get(name);
    if (!table || !old) return undefined;
    table.delete(name);
    this.uids.delete(old.metadata.uid);
    this.indexOwners(undefined, old);
    const rv = ++this.rv;
    const last = { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } } as Stored;
    this.emit({ type: 'DELETED', resource: t, object: last, old, rv });
    return last;
  }

  private nsTable(t: ResourceType, ns: string): Map<string, Stored> {
    let table = this.tables.get(t.plural);
    if (!table) this.tables.set(t.plural, (table = new Map()));
    let m = table.get(ns);
    if (!m) table.set(ns, (m = new Map()));
    return m;
  }

  private indexOwners(next: Stored | undefined, old: Stored | undefined): void {
    const before = old?.metadata.ownerReferences ?? [];
    const after = next?.metadata.ownerReferences ?? [];
    if (before === after) return;
    const uid = (next ?? old)!.metadata.uid;
    for (const ref of before) {
      if (after.some((a) => a.uid === ref.uid)) continue;
      const set = this.dependents.get(ref.uid);
      set?.delete(uid);
      if (set && set.size === 0) this.dependents.delete(ref.uid);
    }
    for (const ref of after) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(uid);
    }
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }
}
