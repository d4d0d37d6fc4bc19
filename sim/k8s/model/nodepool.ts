import type { KObject } from '../api/types.ts';
import { NODE } from '../../../runtime/k8s/labels.ts';
import { allocatable, capacity, type KubeletSettings, type NodeResources } from '../../../runtime/capacity/allocatable.ts';
import { filterInstanceTypes, INSTANCE_LABEL, instanceTypeLabels, type InstanceTypeInfo, type Requirement } from '../../../runtime/capacity/catalog.ts';
import { daemonSetOverhead, type DaemonSetInfo } from '../../../runtime/capacity/daemonsets.ts';
import { hourlyUsd, type PriceOptions } from '../../../runtime/capacity/price.ts';
import { formatCpu } from '../../../runtime/capacity/quantity.ts';
import { nodeLabelsMatch, untoleratedTaint } from './placement.ts';
import { add, fitsIn, type Res } from './resources.ts';
import { isoSeconds } from './time.ts';

export type CapacityType = 'spot' | 'on-demand';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * A Karpenter NodePool as the sim models it (given as an option, not served by the API): the
 * labels and taints of its nodes, the requirements that choose its instance types from the
 * catalog (runtime/capacity), its CPU limit and its WhenEmpty consolidation delay.
 */
export interface NodePool {
  name: string;
  /** Labels every node of the pool carries (the NodePool template's labels). */
  labels?: Record<string, string>;
  taints?: Taint[];
  /**
   * spec.template.spec.startupTaints: put on every new node, but ignored when Karpenter decides
   * whether a pod fits the pool — "pods do not need to tolerate the taint. Karpenter assumes that
   * the taint is temporary and some other system will remove the taint" (karpenter.sh/v1.9/
   * concepts/nodepools). The node counts as initialized (label karpenter.sh/initialized) once
   * they are gone; until then Karpenter's own scheduling simulation drops them from the node's
   * taints (pkg/controllers/state/statenode.go Taints()).
   */
  startupTaints?: Taint[];
  /** spec.template.spec.requirements: instance-type keys pick catalog types, karpenter.sh/capacity-type the offerings. */
  requirements: Requirement[];
  /** The EC2NodeClass kubelet settings (maxPods, reserved…); AL2023 defaults when absent. */
  kubelet?: KubeletSettings;
  /** NodePool `limits.cpu`: vCPUs of all its nodes together never exceed this. */
  limitsCpu?: number;
  /** WhenEmpty consolidation: an empty node is removed after this long; undefined: never. */
  consolidateAfterMs?: number;
  /** Higher weight is tried first when several pools fit a pod. */
  weight?: number;
  /** Nodes (of the cheapest on-demand instance type) that exist from the start, e.g. the system nodes. */
  initialNodes?: number;
  zone?: string;
  /** Root volume of its EC2NodeClass (GiB); default 20, Karpenter's default block device. */
  diskGiB?: number;
}

/** Requirement helper for tests and the CLI: exactly these instance types. */
export function instanceTypesRequirement(...names: string[]): Requirement {
  return { key: INSTANCE_LABEL.instanceType, operator: 'In', values: names };
}

const typeCache = new WeakMap<NodePool, readonly InstanceTypeInfo[]>();

/** The catalog types the pool's requirements admit; a pool that admits none is a configuration error. */
export function poolInstanceTypes(pool: NodePool): readonly InstanceTypeInfo[] {
  let types = typeCache.get(pool);
  if (!types) {
    types = filterInstanceTypes(pool.requirements);
    if (types.length === 0) throw new Error(`sim NodePool "${pool.name}": no instance type in runtime/capacity/instance-types.json satisfies its requirements ${JSON.stringify(pool.requirements)}`);
    typeCache.set(pool, types);
  }
  return types;
}

/** Karpenter's default is on-demand when a NodePool does not name capacity types. */
export function capacityTypesOf(pool: NodePool): CapacityType[] {
  const r = pool.requirements.find((q) => q.key === NODE.capacityType && q.operator === 'In');
  return r?.values?.length ? (r.values.filter((v) => v === 'spot' || v === 'on-demand') as CapacityType[]) : ['on-demand'];
}

/** A node this pool could launch: the labels Karpenter puts on it. */
export function nodeLabels(pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType, name?: string): Record<string, string> {
  return {
    ...(pool.labels ?? {}),
    ...instanceTypeLabels(type),
    [NODE.nodePool]: pool.name,
    [NODE.capacityType]: capacityType,
    'topology.kubernetes.io/zone': pool.zone ?? 'sim-zone-a',
    ...(name ? { 'kubernetes.io/hostname': name } : {}),
  };
}

const MiB = 2 ** 20;

function asRes(r: NodeResources): Res {
  return { cpu: r.cpuMilli, memory: r.memoryMiB * MiB, pods: r.pods };
}

/** status.allocatable of a node of this type, in the scheduler's units. */
export function allocatableOf(pool: NodePool, type: InstanceTypeInfo): Res {
  return asRes(allocatable(type, pool.kubelet));
}

/** What these DaemonSets take from every node (their pods are created on it, see controllers/daemonset.ts). */
export function daemonOverhead(list: readonly DaemonSetInfo[]): Res {
  return asRes(daemonSetOverhead(list));
}

const labelCache = new WeakMap<NodePool, Map<string, Record<string, string>>>();

/** nodeLabels without the hostname, memoised: the provisioner asks for them per pod and claim. */
function candidateLabels(pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType): Record<string, string> {
  let m = labelCache.get(pool);
  if (!m) labelCache.set(pool, (m = new Map()));
  const key = `${type.name}/${capacityType}`;
  let labels = m.get(key);
  if (!labels) m.set(key, (labels = nodeLabels(pool, type, capacityType)));
  return labels;
}

/** Whether a pod's selectors and tolerations admit a node of this pool, type and capacity type. */
export function podFits(pod: KObject, pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType): boolean {
  if (untoleratedTaint(pod, pool.taints)) return false;
  return nodeLabelsMatch(pod, candidateLabels(pool, type, capacityType));
}

export interface Offering {
  type: InstanceTypeInfo;
  capacityType: CapacityType;
  usdPerHour: number;
}

/**
 * Karpenter's choice for a set of pods: the cheapest offering (instance type × capacity type)
 * of the pool whose allocatable, less the DaemonSets' requests, holds `req`, that every pod admits, and
 * that keeps the pool within `maxCpu`. Ties go to the smaller type. Spot costs a fraction of
 * on-demand (runtime/capacity/price.ts), so a pool that allows spot launches spot, as Karpenter does.
 */
export interface FitOptions {
  /** Requests of the DaemonSet pods every node runs (daemonOverhead). */
  overhead: Res;
  price?: PriceOptions;
  /** Default: the pool's. */
  capacityTypes?: CapacityType[];
}

export function cheapestFit(pool: NodePool, pods: KObject[], req: Res, maxCpu: number, o: FitOptions): Offering | undefined {
  const need = add(req, o.overhead);
  const capacityTypes = o.capacityTypes ?? capacityTypesOf(pool);
  const price = o.price ?? {};
  let best: Offering | undefined;
  for (const type of poolInstanceTypes(pool)) {
    if (type.vcpu > maxCpu || !fitsIn(need, allocatableOf(pool, type))) continue;
    for (const capacityType of capacityTypes) {
      if (!pods.every((p) => podFits(p, pool, type, capacityType))) continue;
      const usdPerHour = hourlyUsd(type, capacityType, price);
      if (!best || usdPerHour < best.usdPerHour || (usdPerHour === best.usdPerHour && type.vcpu < best.type.vcpu)) best = { type, capacityType, usdPerHour };
    }
  }
  return best;
}

/** As the kubelet writes them: whole cores where they are whole ("4", "3920m"), memory in Ki. */
function quantities(r: NodeResources): Record<string, string> {
  return { cpu: formatCpu(r.cpuMilli), memory: `${r.memoryMiB * 1024}Ki`, pods: String(r.pods) };
}

/** The root volume less kube-reserved 1Gi and the 10 % nodefs.available threshold (allocatable.md: 20Gi → 17Gi). */
function allocatableDiskMiB(diskGiB: number): number {
  return diskGiB * 1024 - 1024 - Math.ceil(diskGiB * 1024 * 0.1);
}

/** Karpenter's label for a node that is Ready with its startup taints removed. */
export const INITIALIZED_LABEL = 'karpenter.sh/initialized';

/** Whether the node still carries one of its pool's startup taints (Karpenter: not initialized). */
export function hasStartupTaint(pool: NodePool, node: KObject): boolean {
  const startup = pool.startupTaints ?? [];
  return startup.length > 0 && ((node.spec?.taints ?? []) as Taint[]).some((t) => startup.some((s) => s.key === t.key && s.effect === t.effect));
}

/** The node's taints as Karpenter's scheduling simulation sees them: without startup taints until it is initialized. */
export function karpenterTaints(pool: NodePool, node: KObject): Taint[] {
  const taints = (node.spec?.taints ?? []) as Taint[];
  if (node.metadata?.labels?.[INITIALIZED_LABEL] === 'true') return taints;
  const startup = pool.startupTaints ?? [];
  return taints.filter((t) => !startup.some((s) => s.key === t.key && s.effect === t.effect));
}

export function buildNode(pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType, name: string, now: number, ip: string): KObject {
  const time = isoSeconds(now);
  const disk = pool.diskGiB ?? 20;
  const taints = [...(pool.taints ?? []), ...(pool.startupTaints ?? [])].map((t) => ({ ...t }));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        ...nodeLabels(pool, type, capacityType, name), 'karpenter.sh/registered': 'true',
        ...(pool.startupTaints?.length ? {} : { [INITIALIZED_LABEL]: 'true' }),
      },
      annotations: { 'karpenter.sh/nodepool-hash-version': 'v3' },
    },
    spec: {
      providerID: `sim:///${pool.zone ?? 'sim-zone-a'}/${name}`,
      ...(taints.length ? { taints } : {}),
    },
    status: {
      // The kubelet reports what the instance has (Karpenter's estimate of it) and, separately,
      // what is left for pods after kube-reserved, system-reserved and the eviction threshold.
      capacity: { ...quantities(capacity(type, pool.kubelet)), 'ephemeral-storage': `${disk}Gi` },
      allocatable: { ...quantities(allocatable(type, pool.kubelet)), 'ephemeral-storage': `${allocatableDiskMiB(disk)}Mi` },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: time, lastTransitionTime: time }],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: { architecture: type.arch, operatingSystem: 'linux', kubeletVersion: 'v1.34.0', containerRuntimeVersion: 'containerd://2.0.0', osImage: 'Amazon Linux 2023 (sim)' },
    },
  };
}
