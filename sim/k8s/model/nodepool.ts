import type { KObject } from '../api/types.ts';
import { NODE } from '../../../runtime/k8s/labels.ts';
import { nodeLabelsMatch, untoleratedTaint } from './placement.ts';
import { fitsIn, type Res } from './resources.ts';
import { isoSeconds } from './time.ts';

export type CapacityType = 'spot' | 'on-demand';

export interface InstanceType {
  /** e.g. `c7g.2xlarge`; its family and generation become node labels. */
  name: string;
  cpu: number;
  memoryGiB: number;
  pods?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * A Karpenter NodePool as the sim models it (given as an option, not served by the API):
 * the labels and taints of its nodes, the instance types it may launch, its CPU limit and
 * its WhenEmpty consolidation delay.
 */
export interface NodePool {
  name: string;
  /** Labels every node of the pool carries (the NodePool template's labels). */
  labels?: Record<string, string>;
  taints?: Taint[];
  arch?: 'amd64' | 'arm64';
  capacityTypes?: CapacityType[];
  instanceTypes: InstanceType[];
  /** NodePool `limits.cpu`: vCPUs of all its nodes together never exceed this. */
  limitsCpu?: number;
  /** WhenEmpty consolidation: an empty node is removed after this long; undefined: never. */
  consolidateAfterMs?: number;
  /** Higher weight is tried first when several pools fit a pod. */
  weight?: number;
  /** Nodes (of the largest instance type) that exist from the start, e.g. a system node. */
  initialNodes?: number;
  zone?: string;
}

/** A node this pool could launch: the labels Karpenter puts on it. */
export function nodeLabels(pool: NodePool, type: InstanceType, capacityType: CapacityType, name?: string): Record<string, string> {
  const m = /^([a-z0-9-]+?)(\d+)([a-z-]*)\.(.+)$/.exec(type.name);
  return {
    ...(pool.labels ?? {}),
    [NODE.nodePool]: pool.name,
    [NODE.capacityType]: capacityType,
    [NODE.arch]: pool.arch ?? 'amd64',
    [NODE.os]: 'linux',
    'node.kubernetes.io/instance-type': type.name,
    'topology.kubernetes.io/zone': pool.zone ?? 'sim-zone-a',
    'karpenter.k8s.aws/instance-cpu': String(type.cpu),
    'karpenter.k8s.aws/instance-memory': String(Math.round(type.memoryGiB * 1024)),
    ...(m ? { [NODE.instanceFamily]: `${m[1]}${m[2]}${m[3]}`, [NODE.instanceGeneration]: m[2]! } : {}),
    ...(name ? { 'kubernetes.io/hostname': name } : {}),
  };
}

export function allocatableOf(type: InstanceType): Res {
  return { cpu: type.cpu * 1000, memory: Math.round(type.memoryGiB * 2 ** 30), pods: type.pods ?? 110 };
}

export function capacityTypesOf(pool: NodePool): CapacityType[] {
  return pool.capacityTypes?.length ? pool.capacityTypes : ['on-demand'];
}

const labelCache = new WeakMap<NodePool, Map<string, Record<string, string>>>();

/** nodeLabels without the hostname, memoised: the provisioner asks for them per pod and claim. */
function candidateLabels(pool: NodePool, type: InstanceType, capacityType: CapacityType): Record<string, string> {
  let m = labelCache.get(pool);
  if (!m) labelCache.set(pool, (m = new Map()));
  const key = `${type.name}/${capacityType}`;
  let labels = m.get(key);
  if (!labels) m.set(key, (labels = nodeLabels(pool, type, capacityType)));
  return labels;
}

/** Whether a pod's selectors and tolerations admit a node of this pool, type and capacity type. */
export function podFits(pod: KObject, pool: NodePool, type: InstanceType, capacityType: CapacityType): boolean {
  if (untoleratedTaint(pod, pool.taints)) return false;
  return nodeLabelsMatch(pod, candidateLabels(pool, type, capacityType));
}

/** The smallest instance type of the pool that holds `req`, is admitted by every pod, and stays within `maxCpu`. */
export function smallestFit(pool: NodePool, pods: KObject[], req: Res, capacityType: CapacityType, maxCpu: number): InstanceType | undefined {
  return [...pool.instanceTypes]
    .sort((a, b) => a.cpu - b.cpu || a.memoryGiB - b.memoryGiB)
    .find((t) => t.cpu <= maxCpu && fitsIn(req, allocatableOf(t)) && pods.every((p) => podFits(p, pool, t, capacityType)));
}

export function buildNode(pool: NodePool, type: InstanceType, capacityType: CapacityType, name: string, now: number, ip: string): KObject {
  const alloc = allocatableOf(type);
  const time = isoSeconds(now);
  const capacity = { cpu: String(type.cpu), memory: `${Math.round(type.memoryGiB * 1024)}Mi`, pods: String(alloc.pods), 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { ...nodeLabels(pool, type, capacityType, name), 'karpenter.sh/registered': 'true', 'karpenter.sh/initialized': 'true' },
      annotations: { 'karpenter.sh/nodepool-hash-version': 'v3' },
    },
    spec: {
      providerID: `sim:///${pool.zone ?? 'sim-zone-a'}/${name}`,
      ...(pool.taints?.length ? { taints: pool.taints.map((t) => ({ ...t })) } : {}),
    },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: time, lastTransitionTime: time }],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: { architecture: pool.arch ?? 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.34.0', containerRuntimeVersion: 'containerd://2.0.0', osImage: 'Amazon Linux 2023 (sim)' },
    },
  };
}
