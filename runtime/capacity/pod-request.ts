import { bytes, cpuMilli } from './quantity.ts';

/**
 * A pod's effective request as kube-scheduler and the kubelet's admission compute it
 * (KEP-753 "Sidecar Containers", section "Resources calculation for scheduling and pod
 * admission"; kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers):
 *
 *   max( Σ containers + Σ sidecars,  max over init containers i of (request(i) + Σ sidecars started before i) )
 *   + pod overhead (RuntimeClass)
 *
 * where a sidecar is an init container with restartPolicy: Always; a sidecar counts itself
 * in its own step. Requests missing from a container default to its limits, as API-server
 * defaulting does. Pod-level resources (KEP-2837, beta and on by default in 1.34): a resource
 * set in spec.resources.requests (or, failing that, spec.resources.limits) replaces the
 * containers' figure for that resource, before the overhead is added.
 */

export interface ContainerLike {
  restartPolicy?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

export interface PodSpecLike {
  containers?: readonly ContainerLike[];
  initContainers?: readonly ContainerLike[];
  overhead?: Record<string, unknown>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

/** CPU in millicores and memory in bytes: exact, whatever the quantity's suffix. */
export interface Request {
  cpuMilli: number;
  memoryBytes: number;
}

const NONE: Request = { cpuMilli: 0, memoryBytes: 0 };
const add = (a: Request, b: Request): Request => ({ cpuMilli: a.cpuMilli + b.cpuMilli, memoryBytes: a.memoryBytes + b.memoryBytes });
const max = (a: Request, b: Request): Request => ({ cpuMilli: Math.max(a.cpuMilli, b.cpuMilli), memoryBytes: Math.max(a.memoryBytes, b.memoryBytes) });

export function containerRequest(c: ContainerLike): Request {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  return { cpuMilli: cpuMilli(req.cpu ?? lim.cpu ?? 0), memoryBytes: bytes(req.memory ?? lim.memory ?? 0) };
}

export function effectiveRequest(spec: PodSpecLike): Request {
  const regular = (spec.containers ?? []).reduce((sum, c) => add(sum, containerRequest(c)), NONE);
  let sidecars = NONE;
  let initPeak = NONE;
  for (const c of spec.initContainers ?? []) {
    const r = containerRequest(c);
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, r);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(r, sidecars));
    }
  }
  const total = podLevel(spec, max(add(regular, sidecars), initPeak));
  const o = spec.overhead;
  return o ? add(total, { cpuMilli: cpuMilli(o.cpu ?? 0), memoryBytes: bytes(o.memory ?? 0) }) : total;
}

function podLevel(spec: PodSpecLike, fromContainers: Request): Request {
  const req = spec.resources?.requests ?? {};
  const lim = spec.resources?.limits ?? {};
  const cpu = req.cpu ?? lim.cpu;
  const memory = req.memory ?? lim.memory;
  return { cpuMilli: cpu === undefined ? fromContainers.cpuMilli : cpuMilli(cpu), memoryBytes: memory === undefined ? fromContainers.memoryBytes : bytes(memory) };
}

/** The same in the units the capacity module counts: millicores, MiB (not rounded) and one pod slot. */
export function podRequest(spec: PodSpecLike): { cpuMilli: number; memoryMiB: number; pods: number } {
  const r = effectiveRequest(spec);
  return { cpuMilli: r.cpuMilli, memoryMiB: r.memoryBytes / 2 ** 20, pods: 1 };
}
