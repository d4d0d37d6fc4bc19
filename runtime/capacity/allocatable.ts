import type { InstanceTypeInfo } from './catalog.ts';
import { bytes, cpuMilli } from './quantity.ts';

/**
 * A node's capacity and allocatable as Karpenter (AWS provider) predicts them for AL2023 nodes.
 * Every rule is from aws/karpenter-provider-aws 1d927085, pkg/providers/instancetype/types.go
 * (function named beside it) and core sigs.k8s.io/karpenter v1.14.0 pkg/cloudprovider/types.go
 * (allocatable = capacity − (kubeReserved + systemReserved + evictionThreshold)).
 */

/** CPU in millicores, memory in MiB, pod slots. */
export interface NodeResources {
  cpuMilli: number;
  memoryMiB: number;
  pods: number;
}

/** The EC2NodeClass `spec.kubelet` fields that change allocatable (quantities as Kubernetes writes them). */
export interface KubeletSettings {
  maxPods?: number;
  podsPerCore?: number;
  kubeReserved?: { cpu?: string; memory?: string };
  systemReserved?: { cpu?: string; memory?: string };
  evictionHard?: { 'memory.available'?: string };
}

/** Karpenter controller options (pkg/operator/options/options.go). */
export interface OperatorOptions {
  /** VM_MEMORY_OVERHEAD_PERCENT, default 0.075. */
  vmMemoryOverheadPercent?: number;
  /** RESERVED_ENIS, default 0. */
  reservedEnis?: number;
}

const MiB = 2 ** 20;
/** memory(): "Gravitons have an extra 64 MiB of cma reserved memory". */
const GRAVITON_CMA_MIB = 64;
/** evictionThreshold(): the default memory.available hard threshold. */
const DEFAULT_EVICTION_MIB = 100;
/** kubeReservedResources(): 11 MiB per pod plus 255 MiB. */
const KUBE_RESERVED_MIB_PER_POD = 11;
const KUBE_RESERVED_MIB_BASE = 255;
/** kubeReservedResources(): CPU reserved per tier of capacity (the Bottlerocket/EKS AMI tiers). */
const CPU_TIERS = [
  { start: 0, end: 1000, rate: 0.06 },
  { start: 1000, end: 2000, rate: 0.01 },
  { start: 2000, end: 4000, rate: 0.005 },
  { start: 4000, end: Infinity, rate: 0.0025 },
] as const;

/** ENILimitedPods(): usable ENIs × (IPv4 per ENI − 1) + 2, the EKS AMI's eni-max-pods formula. */
export function eniLimitedPods(t: InstanceTypeInfo, reservedEnis = 0): number {
  const usable = Math.max(t.maxEnis - reservedEnis, 0);
  return usable === 0 ? 0 : usable * (t.ipv4PerEni - 1) + 2;
}

/** memory(): the instance's MiB less the Graviton CMA reservation and the VM overhead estimate (ceil). */
export function memoryCapacityMiB(t: InstanceTypeInfo, o: OperatorOptions = {}): number {
  const m = t.memoryMiB - (t.arch === 'arm64' ? GRAVITON_CMA_MIB : 0);
  // Karpenter multiplies the byte value and divides by 1 MiB; the same in MiB, rounded up.
  return m - Math.ceil((m * MiB * (o.vmMemoryOverheadPercent ?? 0.075)) / MiB);
}

/** pods(): maxPods if set, else ENI-limited; capped by podsPerCore × vCPU when set. */
export function podsCapacity(t: InstanceTypeInfo, k: KubeletSettings = {}, o: OperatorOptions = {}): number {
  let pods = k.maxPods ?? eniLimitedPods(t, o.reservedEnis ?? 0);
  if (k.podsPerCore && k.podsPerCore > 0) pods = Math.min(pods, k.podsPerCore * t.vcpu);
  return pods;
}

export function kubeReservedCpuMilli(vcpu: number): number {
  const cpu = vcpu * 1000;
  let reserved = 0;
  for (const tier of CPU_TIERS) if (cpu >= tier.start) reserved += Math.trunc((Math.min(cpu, tier.end) - tier.start) * tier.rate);
  return reserved;
}

/** AL2023 counts the ENI-limited pods (RESERVED_ENIS ignored) for the memory reservation, even when maxPods is set. */
export function kubeReservedMemoryMiB(t: InstanceTypeInfo): number {
  return KUBE_RESERVED_MIB_PER_POD * eniLimitedPods(t, 0) + KUBE_RESERVED_MIB_BASE;
}

/** What a node of this type reports as status.capacity (Karpenter's estimate until a node has been seen). */
export function capacity(t: InstanceTypeInfo, kubelet: KubeletSettings = {}, o: OperatorOptions = {}): NodeResources {
  return { cpuMilli: t.vcpu * 1000, memoryMiB: memoryCapacityMiB(t, o), pods: podsCapacity(t, kubelet, o) };
}

function evictionMiB(memCapacityMiB: number, k: KubeletSettings): number {
  const v = k.evictionHard?.['memory.available'];
  if (v === undefined) return DEFAULT_EVICTION_MIB;
  if (v.endsWith('%')) {
    const p = Number(v.slice(0, -1));
    return p === 100 ? 0 : Math.ceil((memCapacityMiB * p) / 100);
  }
  return bytes(v) / MiB;
}

/** status.allocatable: capacity − kube-reserved − system-reserved − the hard eviction threshold. */
export function allocatable(t: InstanceTypeInfo, kubelet: KubeletSettings = {}, o: OperatorOptions = {}): NodeResources {
  const cap = capacity(t, kubelet, o);
  const kubeCpu = kubelet.kubeReserved?.cpu !== undefined ? cpuMilli(kubelet.kubeReserved.cpu) : kubeReservedCpuMilli(t.vcpu);
  const kubeMem = kubelet.kubeReserved?.memory !== undefined ? bytes(kubelet.kubeReserved.memory) / MiB : kubeReservedMemoryMiB(t);
  const sysCpu = cpuMilli(kubelet.systemReserved?.cpu ?? 0);
  const sysMem = bytes(kubelet.systemReserved?.memory ?? 0) / MiB;
  return {
    cpuMilli: cap.cpuMilli - kubeCpu - sysCpu,
    memoryMiB: cap.memoryMiB - kubeMem - sysMem - evictionMiB(cap.memoryMiB, kubelet),
    pods: cap.pods,
  };
}
