import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { errors, statusBody } from '../api/errors.ts';
import { jsonPatch, mergePatch } from '../api/patch.ts';
import type { DeleteOptions, PatchType, Registry } from '../api/registry.ts';
import { apiVersionOf, resource, type ResourceType } from '../api/resources.ts';
import { setCondition } from '../model/pods.ts';
import type { KObject, Stored } from '../api/types.ts';
import { jsonOf } from '../store/store.ts';
import { toTable, wantsTable } from './table.ts';
import type { WatchStreams } from './watch-stream.ts';

export interface Reply {
  code: number;
  /** A JSON string, or an object to stringify. */
  body: unknown;
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** Dispatches a resource request (anything under /api/v1 or /apis/<g>/<v> that names a resource). */
export function handleResource(
  registry: Registry,
  watches: WatchStreams,
  req: IncomingMessage,
  res: ServerResponse,
  r: { t: ResourceType; ns?: string; name?: string; sub?: string },
  q: URLSearchParams,
  body: string,
): Reply | undefined {
  const { t, name, sub } = r;
  const ns = t.namespaced ? r.ns : '';
  const method = req.method ?? 'GET';
  const eviction = sub === 'eviction' && t.plural === 'pods';
  if (sub && !((sub === 'status' && t.status) || (sub === 'scale' && t.scale) || eviction)) throw errors.pathNotFound(req.url ?? '');
  const dryRun = q.getAll('dryRun').includes('All');
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  // kubectl tries protobuf (or CBOR) first and falls back to JSON on 415.
  if ((method === 'POST' || method === 'PUT') && (ct.includes('protobuf') || ct.includes('cbor'))) throw errors.unsupportedMediaType(ct);

  if (name === undefined) {
    if (method === 'GET') {
      if (q.get('watch') === 'true' || q.get('watch') === '1') {
        watches.serve(req, res, t, r.ns, q);
        return undefined;
      }
      if (wantsTable(req.headers.accept)) return { code: 200, body: tableBody(registry, t, r.ns, q) };
      return { code: 200, body: listBody(registry, t, r.ns, q) };
    }
    if (method === 'POST') {
      if (ns === undefined) throw errors.methodNotAllowed(`POST is not supported on the cluster-wide ${t.plural} collection; use /namespaces/<ns>/${t.plural}`);
      return { code: 201, body: registry.create(t, ns, parseJson(body), { dryRun }) };
    }
    if (method === 'DELETE') {
      const opts = deleteOptions(q, body);
      registry.deleteCollection(t, r.ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, opts);
      return { code: 200, body: statusBody('Success', 200, undefined, undefined) };
    }
    throw errors.methodNotAllowed(`${method} is not supported on a collection`);
  }

  if (ns === undefined) throw errors.pathNotFound(req.url ?? '');
  if (eviction) {
    if (method !== 'POST') throw errors.methodNotAllowed(`${method} is not supported on pods/eviction`);
    const b = body.trim() ? parseJson(body) : {};
    evictPod(registry, ns, name, b.deleteOptions ?? {});
    return { code: 201, body: statusBody('Success', 201, undefined, undefined) };
  }
  if (sub === 'scale') return scale(registry, t, ns, name, method, req.headers['content-type'], body, dryRun);
  const subresource = sub === 'status' ? 'status' : undefined;
  switch (method) {
    case 'GET': {
      const obj = registry.get(t, ns, name);
      if (wantsTable(req.headers.accept) && !sub) return { code: 200, body: toTable(t, [obj], registry.clock.now()) };
      return { code: 200, body: obj };
    }
    case 'PUT':
      return { code: 200, body: registry.update(t, ns, name, parseJson(body), subresource, { dryRun }) };
    case 'PATCH': {
      const type = patchType(req.headers['content-type']);
      const parsed = type === 'apply' ? parseYamlBody(body) : parseJson(body);
      const out = registry.patch(t, ns, name, type, parsed, subresource, { dryRun, fieldManager: q.get('fieldManager') ?? undefined });
      return { code: out.created ? 201 : 200, body: out.obj };
    }
    case 'DELETE': {
      const out = registry.delete(t, ns, name, deleteOptions(q, body));
      if (!out.removed) return { code: 202, body: out.obj };
      if (t.plural === 'pods' || t.plural === 'namespaces') return { code: 200, body: out.obj };
      return { code: 200, body: statusBody('Success', 200, undefined, undefined, { name, group: t.group, kind: t.plural, uid: out.obj.metadata.uid }) };
    }
    default:
      throw errors.methodNotAllowed(`${method} is not supported on ${t.plural}`);
  }
}

function listBody(registry: Registry, t: ResourceType, ns: string | undefined, q: URLSearchParams): string {
  const limit = Number(q.get('limit') ?? '0');
  const out = registry.list(t, ns, {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: Number.isFinite(limit) ? limit : 0,
    continue: q.get('continue') ?? undefined,
  });
  const meta = JSON.stringify({
    resourceVersion: out.resourceVersion,
    ...(out.continue ? { continue: out.continue, remainingItemCount: out.remaining } : {}),
  });
  // Items are joined from their cached JSON: a list of a thousand objects costs no re-serialisation.
  return `{"kind":"${t.kind}List","apiVersion":"${apiVersionOf(t)}","metadata":${meta},"items":[${out.items.map(jsonOf).join(',')}]}`;
}

/** The Eviction API without PodDisruptionBudgets: DisruptionTarget (EvictionByEvictionAPI), then a graceful delete. */
function evictPod(registry: Registry, ns: string, name: string, opts: DeleteOptions): void {
  const pod = registry.get(resource('pods'), ns, name);
  registry.mutate(resource('pods'), ns, name, (d) => {
    d.status ??= {};
    setCondition(d.status, { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }, registry.now(), { lastProbeTime: null });
  });
  registry.delete(resource('pods'), ns, name, { ...opts, preconditions: { uid: pod.metadata.uid, ...(opts.preconditions ?? {}) } });
}

function tableBody(registry: Registry, t: ResourceType, ns: string | undefined, q: URLSearchParams) {
  const out = registry.list(t, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
  return toTable(t, out.items, registry.clock.now(), out.resourceVersion);
}

function scale(registry: Registry, t: ResourceType, ns: string, name: string, method: string, contentType: string | undefined, body: string, dryRun: boolean): Reply {
  const toScale = (d: Stored) => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
    spec: { replicas: d.spec?.replicas ?? 0 },
    status: { replicas: d.status?.replicas ?? 0, selector: Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  });
  const current = registry.get(t, ns, name);
  if (method === 'GET') return { code: 200, body: toScale(current) };
  let next: KObject;
  if (method === 'PUT') next = parseJson(body);
  else if (method === 'PATCH') {
    const type = patchType(contentType);
    next = (type === 'json' ? jsonPatch(toScale(current), parseJson(body)) : mergePatch(toScale(current), type === 'apply' ? parseYamlBody(body) : parseJson(body))) as KObject;
  } else throw errors.methodNotAllowed(`${method} is not supported on ${t.plural}/scale`);
  const replicas = next.spec?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    throw errors.invalid(t, name, [{ field: 'spec.replicas', message: 'Invalid value: must be a non-negative integer' }]);
  const updated = registry.update(t, ns, name, { ...current, metadata: { ...current.metadata, resourceVersion: next.metadata?.resourceVersion ?? current.metadata.resourceVersion }, spec: { ...current.spec, replicas } }, undefined, { dryRun });
  return { code: 200, body: toScale(updated) };
}

function patchType(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const type = PATCH_TYPES[ct];
  if (!type) throw errors.unsupportedMediaType(ct);
  return type;
}

function parseJson(body: string): any {
  if (!body) throw errors.badRequest('the request has no body; expected a JSON object');
  try {
    return JSON.parse(body);
  } catch (e) {
    throw errors.badRequest(`the body is not valid JSON: ${(e as Error).message}`);
  }
}

function parseYamlBody(body: string): unknown {
  try {
    return parseYaml(body);
  } catch (e) {
    throw errors.badRequest(`the body is not valid YAML: ${(e as Error).message}`);
  }
}

function deleteOptions(q: URLSearchParams, body: string): DeleteOptions {
  let opts: DeleteOptions = {};
  if (body.trim()) {
    const b = parseJson(body);
    opts = { gracePeriodSeconds: b.gracePeriodSeconds, propagationPolicy: b.propagationPolicy, orphanDependents: b.orphanDependents, preconditions: b.preconditions };
  }
  const grace = q.get('gracePeriodSeconds');
  if (grace !== null) opts.gracePeriodSeconds = Number(grace);
  const policy = q.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  const orphan = q.get('orphanDependents');
  if (orphan !== null) opts.orphanDependents = orphan === 'true';
  if (opts.propagationPolicy && !['Foreground', 'Background', 'Orphan'].includes(opts.propagationPolicy))
    throw errors.badRequest(`propagationPolicy "${opts.propagationPolicy}" is not one of Foreground, Background, Orphan`);
  if (q.getAll('dryRun').includes('All')) opts.dryRun = true;
  return opts;
}
