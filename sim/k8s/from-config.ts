import type { ConfigDocument, RunnerClass } from '../../runtime/config/document.ts';
import { NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { runnerStartupTaints } from '../../runtime/k8s/pod-template.ts';
import { priorityClasses } from '../../infra/runner-guardrails.ts';
import type { Registry } from './api/registry.ts';
import { resource } from './api/resources.ts';
import type { KObject } from './api/types.ts';
import type { NodePool } from './model/nodepool.ts';
import type { KubeletSettings } from '../../runtime/capacity/allocatable.ts';
import { filterInstanceTypes, INSTANCE_LABEL, type Requirement } from '../../runtime/capacity/catalog.ts';
import { classRequirements, systemRequirements } from '../../runtime/capacity/class-requirements.ts';

export interface FromConfigOptions {
  /** WhenEmpty consolidateAfter of the runner pools. Default 30 s (what the Pulumi program sets). */
  consolidateAfterMs?: number;
  /**
   * A what-if: the runner pools may also launch instances of 2, 4… × the class's node, up to this
   * many runners per node. Default: the class's runnersPerNode, exactly what the Pulumi program's
   * NodePools (runtime/capacity/class-requirements.ts) ask for.
   */
  maxRunnersPerNode?: number;
  /**
   * The untainted system nodes for everything that is not a runner. Default: the Pulumi
   * program's default system node group (infra/config.ts cluster.systemNodes): 2 × m7g.large.
   */
  systemNode?: { arch: 'arm64' | 'amd64'; instanceTypes: string[]; count?: number } | false;
  /** The EC2NodeClass kubelet settings of every pool; AL2023 defaults when absent. */
  kubelet?: KubeletSettings;
  /**
   * true: the runner pools' image-warming startup taint, as the Pulumi program sets it when
   * runner.prePullImages is on. Off by default: something must remove it (the orchestrator's
   * image-warming reconcile, runtime/controllers/image-warming), or runners never land, and
   * most sims run without the orchestrator.
   */
  imageWarming?: boolean;
}

/** The pool name of the untainted system node(s). */
export const SYSTEM_POOL = 'system';

/** infra/config.ts: cluster.systemNodes defaults (arm64, m7g.large, desired 2). */
const DEFAULT_SYSTEM_NODES = { arch: 'arm64' as const, instanceTypes: ['m7g.large'], count: 2 };

/** The requirements of a class's pool: what infra/karpenter-objects.ts asks for, or (what-if) also 2, 4… × that node. */
export function classPoolRequirements(cls: RunnerClass, maxRunnersPerNode = 1): Requirement[] {
  const perNode = cls.runnersPerNode;
  const own = classRequirements(cls, { runnersPerNode: perNode });
  if (maxRunnersPerNode <= perNode) return own;
  const names = new Set<string>();
  for (let k = perNode; k <= maxRunnersPerNode; k *= 2) for (const t of filterInstanceTypes(classRequirements(cls, { runnersPerNode: k }))) names.add(t.name);
  const sizeKeys = new Set<string>([INSTANCE_LABEL.cpu, INSTANCE_LABEL.memory]);
  return [...own.filter((r) => !sizeKeys.has(r.key)), { key: INSTANCE_LABEL.instanceType, operator: 'In', values: [...names] }];
}

/**
 * The NodePools the Pulumi program would create for this config: one per runner class —
 * nodes labelled `runs-fleet.io/class=<class>`, tainted for runners only, the class's
 * requirements (arch, capacity types, families, its own size), limits.cpu = nodePoolCpuLimit,
 * its disk, WhenEmpty consolidation — plus an untainted system pool for non-runner pods.
 */
export function nodePoolsFromConfig(doc: ConfigDocument, o: FromConfigOptions = {}): NodePool[] {
  const startupTaints = o.imageWarming ? runnerStartupTaints(doc.runner) : [];
  const pools: NodePool[] = doc.classes.map((cls) => ({
    name: cls.name,
    labels: { [NODE_CLASS_LABEL]: cls.name },
    taints: [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }],
    // What infra/karpenter-objects.ts nodePoolSpec sets: the image-warming taint when placeholders pre-pull.
    ...(startupTaints.length ? { startupTaints: startupTaints.map((t) => ({ ...t })) } : {}),
    requirements: classPoolRequirements(cls, o.maxRunnersPerNode),
    ...(o.kubelet ? { kubelet: o.kubelet } : {}),
    limitsCpu: cls.nodePoolCpuLimit,
    consolidateAfterMs: o.consolidateAfterMs ?? 30_000,
    diskGiB: cls.diskGiB,
  }));
  doc.classes.forEach((cls, i) => {
    if (filterInstanceTypes(pools[i]!.requirements).length === 0) {
      const n = cls.runnersPerNode;
      throw new Error(`class "${cls.name}": no instance type of ${cls.cpu * n} vCPU / ${cls.memoryGiB * n} GiB in families ${cls.instanceFamilies.join(', ')} (runtime/capacity/instance-types.json), so its NodePool could never launch a node; pick families with that shape (c: 2 GiB per vCPU, m: 4, r: 8)`);
    }
  });
  if (o.systemNode !== false) {
    const sys = o.systemNode ?? DEFAULT_SYSTEM_NODES;
    pools.push({
      name: SYSTEM_POOL,
      requirements: systemRequirements(sys),
      ...(o.kubelet ? { kubelet: o.kubelet } : {}),
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
