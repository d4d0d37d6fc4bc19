import type { ConfigDocument, RunnerClass } from '../../runtime/config/document.ts';
import { NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { priorityClasses } from '../../infra/runner-guardrails.ts';
import type { Registry } from './api/registry.ts';
import { resource } from './api/resources.ts';
import type { KObject } from './api/types.ts';
import type { InstanceType, NodePool } from './model/nodepool.ts';

export interface FromConfigOptions {
  /** WhenEmpty consolidateAfter of the runner pools. Default 30 s (what the Pulumi program sets). */
  consolidateAfterMs?: number;
  /** How many runners of its class the largest node holds: sizes are 1, 2, 4… up to this. Default 4. */
  maxRunnersPerNode?: number;
  /** The untainted system node for everything that is not a runner. Default 8 vCPU / 32 GiB, one node. */
  systemNode?: { cpu: number; memoryGiB: number; count?: number } | false;
}

/** The pool name of the untainted system node(s). */
export const SYSTEM_POOL = 'system';

const SIZE_NAMES: Record<number, string> = {
  1: 'medium', 2: 'large', 4: 'xlarge', 8: '2xlarge', 12: '3xlarge', 16: '4xlarge', 24: '6xlarge', 32: '8xlarge',
  48: '12xlarge', 64: '16xlarge', 96: '24xlarge', 128: '32xlarge', 192: '48xlarge',
};

/** An EC2-style name for a size (`c7g.2xlarge`), or `<family>.<n>vcpu` where EC2 has none. */
export function instanceTypeName(family: string, cpu: number): string {
  return `${family}.${SIZE_NAMES[cpu] ?? `${cpu}vcpu`}`;
}

/** Instance types that hold 1, 2, 4… runners of the class, in each of its families. */
export function classInstanceTypes(cls: RunnerClass, maxRunnersPerNode = 4): InstanceType[] {
  const out: InstanceType[] = [];
  for (let k = 1; k <= maxRunnersPerNode; k *= 2) {
    for (const family of cls.instanceFamilies) out.push({ name: instanceTypeName(family, cls.cpu * k), cpu: cls.cpu * k, memoryGiB: cls.memoryGiB * k });
  }
  return out;
}

/**
 * The NodePools the Pulumi program would create for this config: one per runner class —
 * nodes labelled `runs-fleet.io/class=<class>` and the class's arch, tainted for runners only,
 * its capacity types, limits.cpu = nodePoolCpuLimit, WhenEmpty consolidation — plus an
 * untainted system pool with one node for the orchestrator and other non-runner pods.
 */
export function nodePoolsFromConfig(doc: ConfigDocument, o: FromConfigOptions = {}): NodePool[] {
  const pools: NodePool[] = doc.classes.map((cls) => ({
    name: cls.name,
    labels: { [NODE_CLASS_LABEL]: cls.name },
    taints: [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }],
    arch: cls.arch,
    capacityTypes: [...cls.capacityTypes],
    instanceTypes: classInstanceTypes(cls, o.maxRunnersPerNode),
    limitsCpu: cls.nodePoolCpuLimit,
    consolidateAfterMs: o.consolidateAfterMs ?? 30_000,
  }));
  if (o.systemNode !== false) {
    const sys = o.systemNode ?? { cpu: 8, memoryGiB: 32 };
    pools.push({
      name: SYSTEM_POOL,
      arch: 'amd64',
      capacityTypes: ['on-demand'],
      instanceTypes: [{ name: instanceTypeName('m7i', sys.cpu), cpu: sys.cpu, memoryGiB: sys.memoryGiB }],
      initialNodes: sys.count ?? 1,
      weight: 0,
    });
  }
  return pools;
}

/** The PriorityClasses the Pulumi program deploys for this config (runner and placeholder), created if missing. */
export function seedPriorityClasses(api: Registry, doc: ConfigDocument): void {
  const t = resource('priorityclasses');
  for (const pc of Object.values(priorityClasses(doc.runner))) {
    if (!api.find(t, '', pc.metadata.name)) api.create(t, '', structuredClone(pc) as KObject);
  }
}
