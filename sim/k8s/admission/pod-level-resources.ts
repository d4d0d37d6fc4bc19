import { effectiveRequest, type PodSpecLike } from '../../../runtime/capacity/pod-request.ts';
import { bytes, cpuMilli, formatCpu, formatMemory } from '../../../runtime/capacity/quantity.ts';

/**
 * The API server's checks of pod-level resources (`spec.resources`, KEP-2837; beta and on by
 * default in Kubernetes 1.34): only cpu, memory and hugepages; each pod-level request at least
 * the containers' aggregate (the sidecar rule, as the scheduler counts it); no container limit
 * above the pod's; the pod's requests within its limits. Message texts as the API server
 * words them ("must be greater than or equal to aggregate container requests of 1500m").
 */

type Cause = { field: string; message: string };
const KINDS = {
  cpu: { parse: cpuMilli, format: formatCpu, aggregate: (spec: PodSpecLike) => effectiveRequest(spec).cpuMilli },
  memory: { parse: bytes, format: formatMemory, aggregate: (spec: PodSpecLike) => effectiveRequest(spec).memoryBytes },
} as const;

export function podLevelResourceCauses(spec: any, path: string): Cause[] {
  const res = spec?.resources;
  if (!res || typeof res !== 'object') return [];
  const out: Cause[] = [];
  const requests: Record<string, unknown> = res.requests ?? {};
  const limits: Record<string, unknown> = res.limits ?? {};
  for (const [side, list] of [['requests', requests], ['limits', limits]] as const) {
    for (const key of Object.keys(list))
      if (!(key in KINDS) && !key.startsWith('hugepages-'))
        out.push({ field: `${path}.resources.${side}[${key}]`, message: `Unsupported value: "${key}": supported values: "cpu", "memory", "hugepages-*"` });
  }
  for (const [key, kind] of Object.entries(KINDS)) {
    const req = requests[key];
    const lim = limits[key];
    if (req !== undefined) {
      // The containers alone: effectiveRequest would let the pod-level value under test replace them.
      const aggregate = kind.aggregate({ ...spec, resources: undefined, overhead: undefined });
      if (kind.parse(req) < aggregate)
        out.push({ field: `${path}.resources.requests[${key}]`, message: `Invalid value: "${String(req)}": must be greater than or equal to aggregate container requests of ${kind.format(aggregate)}` });
      if (lim !== undefined && kind.parse(req) > kind.parse(lim))
        out.push({ field: `${path}.resources.requests[${key}]`, message: `Invalid value: "${String(req)}": must be less than or equal to ${key} limit of ${String(lim)}` });
    }
    if (lim === undefined) continue;
    const containers: [string, any][] = [
      ...(spec.initContainers ?? []).map((c: any, i: number): [string, any] => [`${path}.initContainers[${i}]`, c]),
      ...(spec.containers ?? []).map((c: any, i: number): [string, any] => [`${path}.containers[${i}]`, c]),
    ];
    for (const [at, c] of containers) {
      const own = c?.resources?.limits?.[key];
      if (own !== undefined && kind.parse(own) > kind.parse(lim))
        out.push({ field: `${at}.resources.limits[${key}]`, message: `Invalid value: "${String(own)}": must be less than or equal to pod limits of ${String(lim)}` });
    }
  }
  return out;
}
