import type { KObject } from '../api/types.ts';
import { bytes, cpuMilli } from './quantity.ts';

/** What the scheduler and the provisioner count: millicores, bytes and pod slots. */
export interface Res {
  cpu: number;
  memory: number;
  pods: number;
}

export const ZERO: Res = { cpu: 0, memory: 0, pods: 0 };

export function add(a: Res, b: Res): Res {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods };
}

export function sub(a: Res, b: Res): Res {
  return { cpu: a.cpu - b.cpu, memory: a.memory - b.memory, pods: a.pods - b.pods };
}

export function max(a: Res, b: Res): Res {
  return { cpu: Math.max(a.cpu, b.cpu), memory: Math.max(a.memory, b.memory), pods: Math.max(a.pods, b.pods) };
}

export function fitsIn(req: Res, free: Res): boolean {
  return req.cpu <= free.cpu && req.memory <= free.memory && req.pods <= free.pods;
}

interface ContainerLike {
  restartPolicy?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

function containerRequests(c: ContainerLike): Res {
  // The API server defaults a missing request to the limit; requests here are post-defaulting,
  // but fall back to limits so objects written straight into the store count the same.
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  return { cpu: cpuMilli(req.cpu ?? lim.cpu ?? 0), memory: bytes(req.memory ?? lim.memory ?? 0), pods: 0 };
}

/**
 * A pod's effective requests as kube-scheduler computes them with native sidecars:
 * max(sum(containers) + sum(sidecars), the largest of each regular init container plus the
 * sidecars started before it), plus pod overhead, plus one pod slot.
 */
export function podRequests(pod: KObject): Res {
  const spec = pod.spec ?? {};
  let regular = ZERO;
  for (const c of (spec.containers ?? []) as ContainerLike[]) regular = add(regular, containerRequests(c));
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of (spec.initContainers ?? []) as ContainerLike[]) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, r);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(r, sidecars));
    }
  }
  let total = max(add(regular, sidecars), initPeak);
  const overhead = spec.overhead as Record<string, unknown> | undefined;
  if (overhead) total = add(total, { cpu: cpuMilli(overhead.cpu ?? 0), memory: bytes(overhead.memory ?? 0), pods: 0 });
  return { ...total, pods: 1 };
}

export function nodeAllocatable(node: KObject): Res {
  const a = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, unknown>;
  return { cpu: cpuMilli(a.cpu ?? 0), memory: bytes(a.memory ?? 0), pods: a.pods === undefined ? 110 : Number(a.pods) };
}
