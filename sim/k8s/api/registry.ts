import type { SimClock } from '../clock.ts';
import { isoSeconds } from '../model/time.ts';
import type { Rng } from '../model/random.ts';
import { isTerminal } from '../model/pods.ts';
import { jsonOf, type ObjectStore } from '../store/store.ts';
import { jsonEqual } from './equal.ts';
import { errors } from './errors.ts';
import { clone, jsonPatch, mergePatch } from './patch.ts';
import { apiVersionOf, resource, RESOURCES, type ResourceType } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { KObject, Stored } from './types.ts';

/** Kind-specific defaulting and validation, run on every create and update (clients' and controllers'). */
export interface Admission {
  create?(obj: Stored, api: Registry): void;
  update?(next: Stored, old: Stored, api: Registry): void;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The API semantics between HTTP and the store: names, uids, resourceVersion checks,
 * admission, status subresources, finalizers, graceful pod deletion and propagation
 * policies. HTTP handlers and the sim's controllers both write through here, so a pod the
 * Job controller creates is admitted exactly like one a client posts.
 */
export class Registry {
  constructor(
    readonly store: ObjectStore,
    readonly clock: SimClock,
    readonly rng: Rng,
    private readonly admission: Record<string, Admission>,
  ) {}

  now(): string {
    return isoSeconds(this.clock.now());
  }

  get(t: ResourceType, ns: string, name: string): Stored {
    const obj = this.store.get(t, ns, name);
    if (!obj) throw errors.notFound(t, name);
    return obj;
  }

  find(t: ResourceType, ns: string, name: string): Stored | undefined {
    return this.store.get(t, ns, name);
  }

  list(t: ResourceType, ns: string | undefined, opts: ListOptions = {}): { items: Stored[]; resourceVersion: string; continue?: string; remaining?: number } {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector, t);
    const rv = String(this.store.currentRv());
    let items: Stored[] = [];
    for (const obj of this.store.iterate(t, ns)) if (labels(obj.metadata.labels) && fields(obj)) items.push(obj);
    items.sort((a, b) => cmp(keyOf(a), keyOf(b)));
    if (opts.continue) {
      const after = decodeContinue(opts.continue);
      items = items.filter((o) => keyOf(o) > after);
    }
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      return { items: page, resourceVersion: rv, continue: encodeContinue(keyOf(page[page.length - 1]!)), remaining: items.length - opts.limit };
    }
    return { items, resourceVersion: rv };
  }

  create(t: ResourceType, ns: string, body: KObject, opts: { dryRun?: boolean } = {}): Stored {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the body of a ${t.kind} create must be a JSON object`);
    const meta = { ...(body.metadata ?? {}) };
    if (t.namespaced) {
      if (meta.namespace && meta.namespace !== ns)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      const nsObj = this.store.get(resource('namespaces'), '', ns);
      if (!nsObj) throw errors.notFound(resource('namespaces'), ns);
      if (nsObj.metadata.deletionTimestamp && t.plural !== 'events')
        throw errors.forbidden(t, meta.name ?? meta.generateName ?? '', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
    let name = meta.name;
    if (!name) {
      if (!meta.generateName) throw errors.invalid(t, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
      do name = `${meta.generateName}${this.rng.suffix()}`;
      while (this.store.get(t, ns, name));
    }
    this.validateName(t, name);
    if (this.store.get(t, ns, name)) throw errors.alreadyExists(t, name);
    const obj = {
      ...body,
      apiVersion: apiVersionOf(t),
      kind: t.kind,
      metadata: {
        ...meta,
        name,
        uid: this.rng.uuid(),
        resourceVersion: '',
        creationTimestamp: this.now(),
      },
    } as Stored;
    if (t.namespaced) obj.metadata.namespace = ns;
    else delete obj.metadata.namespace;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    delete obj.metadata.managedFields;
    if (t.generation) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    // The status of a resource with a status subresource belongs to its controller, not its creator.
    if (t.status && t.plural !== 'nodes') obj.status = {};
    this.admission[t.plural]?.create?.(obj, this);
    if (opts.dryRun) return obj;
    return this.store.insert(t, obj);
  }

  /** PUT: replaces the object (or its status), with optimistic concurrency on metadata.resourceVersion. */
  update(t: ResourceType, ns: string, name: string, body: KObject, sub?: 'status', opts: { dryRun?: boolean } = {}): Stored {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the body of a ${t.kind} update must be a JSON object`);
    const old = this.get(t, ns, name);
    const meta = body.metadata ?? {};
    if (meta.name && meta.name !== name)
      throw errors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (t.namespaced && meta.namespace && meta.namespace !== ns)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) throw errors.conflict(t, name);
    if (meta.uid && meta.uid !== old.metadata.uid)
      throw errors.conflict(t, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    let next: Stored;
    if (sub === 'status') {
      next = { ...old, metadata: { ...old.metadata }, status: body.status } as Stored;
    } else {
      next = {
        ...body,
        apiVersion: apiVersionOf(t),
        kind: t.kind,
        metadata: {
          ...meta,
          name,
          uid: old.metadata.uid,
          creationTimestamp: old.metadata.creationTimestamp,
          resourceVersion: old.metadata.resourceVersion,
        },
      } as Stored;
      if (t.namespaced) next.metadata.namespace = ns;
      for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (old.metadata[k] !== undefined) (next.metadata as Record<string, unknown>)[k] = old.metadata[k];
        else delete next.metadata[k];
      }
      if (t.status) next.status = old.status;
      if (t.generation && !jsonEqual(next.spec, old.spec)) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    this.admission[t.plural]?.update?.(next, old, this);
    if (opts.dryRun) return next;
    return this.write(t, next, old);
  }

  /** PATCH in any of the four content types; server-side apply creates a missing object. */
  patch(t: ResourceType, ns: string, name: string, type: PatchType, body: unknown, sub?: 'status', opts: { dryRun?: boolean; fieldManager?: string } = {}): { obj: Stored; created: boolean } {
    if (type === 'apply' && !opts.fieldManager) throw errors.badRequest('PATCH /apply requires fieldManager to be set');
    const old = this.store.get(t, ns, name);
    if (!old) {
      if (type !== 'apply' || sub) throw errors.notFound(t, name);
      const b = asObject(body, t);
      if (b.metadata?.name && b.metadata.name !== name)
        throw errors.badRequest(`the name of the object (${b.metadata.name}) does not match the name on the URL (${name})`);
      return { obj: this.create(t, ns, { ...b, metadata: { ...(b.metadata ?? {}), name } }, opts), created: true };
    }
    let patched: KObject;
    if (type === 'json') patched = jsonPatch(old, body) as KObject;
    else patched = mergePatch(old, asObject(body, t)) as KObject;
    if (!patched || typeof patched !== 'object' || !patched.metadata) throw errors.badRequest('the patch removed the object metadata');
    return { obj: this.update(t, ns, name, patched, sub, opts), created: false };
  }

  /**
   * DELETE with propagation: Background removes now and lets the garbage collector take the
   * dependents; Foreground keeps the owner (foregroundDeletion finalizer) until they are gone;
   * Orphan strips the owner references first. A scheduled pod gets a deletionTimestamp and is
   * removed by the kubelet model once its containers stopped (grace 0: at once).
   */
  delete(t: ResourceType, ns: string, name: string, opts: DeleteOptions = {}): { obj: Stored; removed: boolean } {
    const obj = this.get(t, ns, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== obj.metadata.uid)
      throw errors.conflict(t, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
      throw errors.conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
    if (opts.dryRun) return { obj, removed: false };
    if (t.plural === 'namespaces') return this.deleteNamespace(obj);

    let next: Stored = { ...obj, metadata: { ...obj.metadata } } as Stored;
    const now = this.clock.now();
    if (t.plural === 'pods') {
      let grace = opts.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
      if (!obj.spec?.nodeName || isTerminal(obj)) grace = 0;
      const current = obj.metadata.deletionGracePeriodSeconds;
      if (current !== undefined && grace >= current && current > 0) return { obj, removed: false };
      next.metadata.deletionGracePeriodSeconds = grace;
      if (grace > 0) {
        next.metadata.deletionTimestamp = isoSeconds(now + grace * 1000);
        return { obj: this.store.replace(t, next), removed: false };
      }
    }
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : t.defaultPropagation);
    if (policy === 'Orphan') this.orphanDependents(obj.metadata.uid);
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && this.store.hasDependents(obj.metadata.uid) && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (finalizers.length > 0) {
      next.metadata.finalizers = finalizers;
      next.metadata.deletionTimestamp ??= isoSeconds(now);
      next.metadata.deletionGracePeriodSeconds ??= 0;
      if (sameContent(next, obj)) return { obj, removed: false };
      return { obj: this.store.replace(t, next), removed: false };
    }
    return { obj: this.store.remove(t, ns, name)!, removed: true };
  }

  deleteCollection(t: ResourceType, ns: string | undefined, list: ListOptions, opts: DeleteOptions): Stored[] {
    const out: Stored[] = [];
    for (const obj of this.list(t, ns, list).items) {
      try {
        out.push(this.delete(t, obj.metadata.namespace ?? '', obj.metadata.name, opts).obj);
      } catch {
        // gone in between: nothing to delete
      }
    }
    return out;
  }

  /**
   * For the sim's own controllers: applies `fn` to a copy of the current object and writes it
   * when it changed. No resourceVersion check: controllers run synchronously on the sim's
   * clock, so nothing can interleave between their read and their write.
   */
  mutate(t: ResourceType, ns: string, name: string, fn: (draft: Stored) => void): Stored | undefined {
    const old = this.store.get(t, ns, name);
    if (!old) return undefined;
    const draft = clone(old);
    fn(draft);
    draft.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.write(t, draft, old, true);
  }

  /** Records a core/v1 Event about an object, as a controller would. */
  recordEvent(involved: KObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const ns = involved.metadata.namespace || 'default';
    if (!this.store.get(resource('namespaces'), '', ns)) return;
    const now = this.now();
    this.create(resource('events'), ns, {
      metadata: { name: `${involved.metadata.name}.${this.rng.hex(16)}`, namespace: ns },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        namespace: involved.metadata.namespace,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component },
      reportingComponent: component,
      reportingInstance: component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  private write(t: ResourceType, next: Stored, old: Stored, sameKeyOrder = false): Stored {
    if (sameContent(next, old, sameKeyOrder)) return old;
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      // The last finalizer is gone: the object goes (a pod in its grace period waits for the kubelet).
      if (!(t.plural === 'pods' && (next.metadata.deletionGracePeriodSeconds ?? 0) > 0)) {
        this.store.replace(t, next);
        return this.store.remove(t, next.metadata.namespace ?? '', next.metadata.name)!;
      }
    }
    if ((next.metadata.finalizers ?? []).length === 0) delete next.metadata.finalizers;
    return this.store.replace(t, next);
  }

  private orphanDependents(uid: string): void {
    for (const { t, obj } of this.store.dependentsOf(uid)) {
      this.mutate(t, obj.metadata.namespace ?? '', obj.metadata.name, (d) => {
        d.metadata.ownerReferences = (d.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (d.metadata.ownerReferences.length === 0) delete d.metadata.ownerReferences;
      });
    }
  }

  /** The namespace controller, condensed: everything in the namespace goes, then the namespace. */
  private deleteNamespace(ns: Stored): { obj: Stored; removed: boolean } {
    const nsT = resource('namespaces');
    const name = ns.metadata.name;
    this.store.replace(nsT, { ...ns, metadata: { ...ns.metadata, deletionTimestamp: this.now() }, status: { ...(ns.status ?? {}), phase: 'Terminating' } } as Stored);
    for (const t of RESOURCES) {
      if (!t.namespaced) continue;
      for (const obj of this.store.list(t, name)) this.store.remove(t, name, obj.metadata.name);
    }
    return { obj: this.store.remove(nsT, '', name)!, removed: true };
  }

  private validateName(t: ResourceType, name: string): void {
    const re = t.plural === 'namespaces' ? DNS_LABEL : DNS_SUBDOMAIN;
    const max = t.plural === 'namespaces' ? 63 : 253;
    if (!re.test(name) || name.length > max)
      throw errors.invalid(t, name, [
        { field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 ${t.plural === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` },
      ]);
  }
}

/** Whether a write would change nothing (the API server then keeps the resourceVersion and sends no event). */
function sameContent(next: Stored, old: Stored, sameKeyOrder = false): boolean {
  // Not jsonOf(next): its cache would keep the JSON from before the store assigns the new resourceVersion.
  const candidate = { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } };
  if (JSON.stringify(candidate) === jsonOf(old)) return true;
  // A copy of the stored object keeps its key order, so the string comparison was conclusive.
  return !sameKeyOrder && jsonEqual(JSON.parse(JSON.stringify(candidate)), old);
}

function asObject(body: unknown, t: ResourceType): KObject {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`a ${t.kind} patch body must be a JSON object`);
  return body as KObject;
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (typeof v.after === 'string') return v.after;
  } catch {
    // fall through
  }
  throw errors.badRequest('continue key is not valid: it was not issued by this server');
}
