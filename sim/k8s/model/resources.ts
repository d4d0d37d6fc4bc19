import type { KObject } from '../api/types.ts';
import { effectiveRequest } from '../../../runtime/capacity/pod-request.ts';
import { bytes, cpuMilli } from '../../../runtime/capacity/quantity.ts';

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

/** A pod's effective requests (native sidecars, init peaks, overhead; see runtime/capacity/pod-request.ts) plus one pod slot. */
export function podRequests(pod: KObject): Res {
  const r = effectiveRequest(pod.spec ?? {});
  return { cpu: r.cpuMilli, memory: r.memoryBytes, pods: 1 };
}

export function nodeAllocatable(node: KObject): Res {
  const a = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, unknown>;
  return { cpu: cpuMilli(a.cpu ?? 0), memory: bytes(a.memory ?? 0), pods: a.pods === undefined ? 110 : Number(a.pods) };
}
