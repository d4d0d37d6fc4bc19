import { z } from 'zod';
import raw from './instance-types.json' with { type: 'json' };

/**
 * The EC2 instance types Karpenter may launch, with the facts it schedules on. Data:
 * instance-types.json, extracted from aws/karpenter-provider-aws at 1d927085 (see SOURCE.md);
 * bundled as JSON so nothing reads ../shared at run time.
 */

const InstanceTypeInfo = z.object({
  name: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/),
  vcpu: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  arch: z.enum(['arm64', 'amd64']),
  family: z.string().min(1),
  generation: z.number().int().positive(),
  category: z.string().min(1),
  maxEnis: z.number().int().positive(),
  ipv4PerEni: z.number().int().positive(),
  maxPods: z.number().int().positive(),
  onDemandUsdPerHour: z.number().positive(),
});
export type InstanceTypeInfo = Readonly<z.infer<typeof InstanceTypeInfo>>;

const CATALOG: readonly InstanceTypeInfo[] = Object.freeze(z.array(InstanceTypeInfo).parse(raw).map((t) => Object.freeze(t)));
const BY_NAME = new Map(CATALOG.map((t) => [t.name, t]));

/** Every instance type in the catalog, in the file's order (family by family, smallest first). */
export function instanceTypes(): readonly InstanceTypeInfo[] {
  return CATALOG;
}

export function instanceType(name: string): InstanceTypeInfo {
  const t = BY_NAME.get(name);
  if (!t) {
    const families = [...new Set(CATALOG.map((c) => c.family))].join(', ');
    throw new Error(`unknown instance type "${name}": the catalog (runtime/capacity/instance-types.json) has sizes large–8xlarge of ${families}; add the type there with its source`);
  }
  return t;
}

/** The well-known labels Karpenter (AWS provider) puts on a node of an instance type. */
export const INSTANCE_LABEL = {
  family: 'karpenter.k8s.aws/instance-family',
  cpu: 'karpenter.k8s.aws/instance-cpu',
  memory: 'karpenter.k8s.aws/instance-memory',
  generation: 'karpenter.k8s.aws/instance-generation',
  category: 'karpenter.k8s.aws/instance-category',
  size: 'karpenter.k8s.aws/instance-size',
  arch: 'kubernetes.io/arch',
  os: 'kubernetes.io/os',
  instanceType: 'node.kubernetes.io/instance-type',
} as const;

/** The instance-type labels of a node of this type (values as Karpenter writes them: decimal strings). */
export function instanceTypeLabels(t: InstanceTypeInfo): Record<string, string> {
  return {
    [INSTANCE_LABEL.family]: t.family,
    [INSTANCE_LABEL.cpu]: String(t.vcpu),
    [INSTANCE_LABEL.memory]: String(t.memoryMiB),
    [INSTANCE_LABEL.generation]: String(t.generation),
    [INSTANCE_LABEL.category]: t.category,
    [INSTANCE_LABEL.size]: t.name.slice(t.name.indexOf('.') + 1),
    [INSTANCE_LABEL.arch]: t.arch,
    [INSTANCE_LABEL.os]: 'linux',
    [INSTANCE_LABEL.instanceType]: t.name,
  };
}

/** A NodePool / nodeSelector requirement (core v1 NodeSelectorRequirement). */
export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: readonly string[];
}

const TYPE_KEYS = new Set<string>(Object.values(INSTANCE_LABEL));

/** Whether one requirement admits a label set (the API's semantics: Gt/Lt compare integers). */
export function requirementAdmits(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(v) > Number(values[0]);
    case 'Lt':
      return has && Number(v) < Number(values[0]);
  }
}

/**
 * Whether an instance type satisfies the requirements. Only keys that describe the instance
 * type are judged here; others (capacity type, zone, the NodePool's own labels) belong to the
 * offering or the pool and are ignored, as Karpenter judges them separately.
 */
export function typeSatisfies(t: InstanceTypeInfo, requirements: readonly Requirement[]): boolean {
  const labels = instanceTypeLabels(t);
  return requirements.every((r) => !TYPE_KEYS.has(r.key) || requirementAdmits(r, labels));
}

/** The catalog's instance types a NodePool with these requirements may launch, in catalog order. */
export function filterInstanceTypes(requirements: readonly Requirement[], types: readonly InstanceTypeInfo[] = CATALOG): InstanceTypeInfo[] {
  return types.filter((t) => typeSatisfies(t, requirements));
}
