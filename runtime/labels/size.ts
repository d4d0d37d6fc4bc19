import type { RunnerClass } from '../config/document.ts';
import type { RunnerRequest } from './types.ts';

export interface RunnerPodSize {
  cpu: number;
  memoryGiB: number;
  diskGiB: number;
}

/**
 * Sizes the pod inside the class, for a request the class fits (see misfit):
 * - cpu: the class's, or the requested maximum when that is smaller (so a cpu=2 job
 *   takes 2..4 vCPU of an 8-vCPU class node, and several such jobs share a node);
 * - memory: the class's memory per vCPU times the pod's vCPUs, raised to the requested
 *   minimum, capped by the requested maximum and the class; rounded up to a MiB;
 * - disk: the requested size (a minimum the class was checked to have), else the class's.
 */
export function podSize(request: RunnerRequest, cls: RunnerClass): RunnerPodSize {
  const cpu = request.cpu ? Math.min(cls.cpu, request.cpu.max) : cls.cpu;
  const floor = request.ramGiB?.min ?? 0;
  const ceiling = Math.min(cls.memoryGiB, request.ramGiB?.max ?? cls.memoryGiB);
  const scaled = cpu === cls.cpu ? cls.memoryGiB : (cls.memoryGiB * cpu) / cls.cpu;
  // Rounding up first then capping keeps floor ≤ memory ≤ ceiling (floor ≤ ceiling holds for a fitting request).
  const memoryGiB = Math.min(ceiling, Math.ceil(Math.max(floor, scaled) * 1024) / 1024);
  return { cpu, memoryGiB, diskGiB: request.diskGiB ?? cls.diskGiB };
}
