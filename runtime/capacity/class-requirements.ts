import type { RunnerClass } from '../config/document.ts';
import { NODE } from '../k8s/labels.ts';
import { INSTANCE_LABEL, type Requirement } from './catalog.ts';

/** The parts of a runner class that decide which nodes Karpenter may launch for it. */
export type ClassShape = Pick<RunnerClass, 'arch' | 'cpu' | 'memoryGiB' | 'instanceFamilies' | 'capacityTypes'>;

export interface ClassRequirementOptions {
  /** Runners of the class one node is sized for (instance = N × the class). Default 1. */
  runnersPerNode?: number;
}

/**
 * The NodePool requirements of a runner class: its arch, Linux, its capacity types and
 * families, and an instance of exactly the class's size (instance-cpu = cpu × N,
 * instance-memory = memoryGiB × 1024 × N MiB), so Karpenter cannot pick a larger type when a
 * runner pod does not fit (the pod then stays Pending and the policy pack says why).
 * Used by infra/karpenter-objects.ts and by the sim's NodePools alike.
 */
export function classRequirements(cls: ClassShape, o: ClassRequirementOptions = {}): Requirement[] {
  const n = o.runnersPerNode ?? 1;
  return [
    { key: NODE.arch, operator: 'In', values: [cls.arch] },
    { key: NODE.os, operator: 'In', values: ['linux'] },
    { key: NODE.capacityType, operator: 'In', values: [...cls.capacityTypes] },
    { key: NODE.instanceFamily, operator: 'In', values: [...cls.instanceFamilies] },
    { key: INSTANCE_LABEL.cpu, operator: 'In', values: [String(cls.cpu * n)] },
    { key: INSTANCE_LABEL.memory, operator: 'In', values: [String(Math.round(cls.memoryGiB * 1024 * n))] },
  ];
}

/** The system node group's instance types as requirements (infra/config.ts cluster.systemNodes). */
export function systemRequirements(sys: { arch: 'arm64' | 'amd64'; instanceTypes: readonly string[] }): Requirement[] {
  return [
    { key: NODE.arch, operator: 'In', values: [sys.arch] },
    { key: NODE.os, operator: 'In', values: ['linux'] },
    { key: NODE.capacityType, operator: 'In', values: ['on-demand'] },
    { key: INSTANCE_LABEL.instanceType, operator: 'In', values: [...sys.instanceTypes] },
  ];
}
