import type { RunnerClass } from '../config/document.ts';
import { allocatable, type NodeResources } from './allocatable.ts';
import { filterInstanceTypes, instanceTypes, type InstanceTypeInfo } from './catalog.ts';
import { classRequirements } from './class-requirements.ts';
import { daemonSetOverhead } from './daemonsets.ts';

/**
 * What a runner of a class gets: the one computation behind the runner pod's requests,
 * the placeholders, the ResourceQuotas, maxRunners, warmPoolMaxCpu, the sizing policy and
 * the table in docs/configuration.md.
 *
 * A class `cpu: 4, memoryGiB: 16, runnersPerNode: N` runs on instances of exactly
 * 4·N vCPU / 16·N GiB (class-requirements.ts). Such a node does not offer 4·N vCPU to pods:
 * Karpenter predicts its allocatable (allocatable.ts) and the EKS DaemonSets take their
 * requests first (daemonsets.ts). What is left, split N ways, is the runner pod's budget.
 */

/** The class settings sizing reads (a lenient reading of a document class fits too). */
export type SizedClass = Pick<RunnerClass, 'name' | 'arch' | 'cpu' | 'memoryGiB' | 'instanceFamilies' | 'capacityTypes'> & {
  runnersPerNode?: number;
};

/** CPU in millicores, memory in MiB. */
export interface Share {
  cpuMilli: number;
  memoryMiB: number;
}

export interface RunnerAllotment {
  className: string;
  runnersPerNode: number;
  /** The catalog types the class's NodePool may launch (its size in its families and arch); empty when none. */
  instanceTypes: string[];
  /** True when no catalog type matches and `node` is estimated from the class's own size. */
  estimated: boolean;
  /** The allocatable the budget is cut from: the least of `instanceTypes`, so the pod fits whichever Karpenter picks. */
  node: NodeResources;
  daemonSets: NodeResources;
  /** One runner pod's budget: (node − DaemonSets) / runnersPerNode, rounded down. */
  pod: Share;
  /** The pod budget's split into the runner container's and the Docker sidecar's requests. */
  runner: Share;
  dind: Share;
}

/**
 * The Docker sidecar's request: dockerd itself idles at well under this. It is a floor, not
 * a cap: the pod-level limit lets either container use the whole budget (pod-template.ts).
 * At most a quarter of a small pod's budget.
 */
export const DIND_REQUEST: Share = { cpuMilli: 250, memoryMiB: 512 };
/** Below this a runner pod cannot hold dockerd and the runner's own processes (the Listener alone takes ~200 MiB). */
export const MIN_POD: Share = { cpuMilli: 2 * DIND_REQUEST.cpuMilli, memoryMiB: 2 * DIND_REQUEST.memoryMiB };

const MIB_PER_GIB = 1024;

export function runnersPerNode(cls: Pick<SizedClass, 'runnersPerNode'>): number {
  return cls.runnersPerNode ?? 1;
}

/** The instance size a class's nodes have: its cpu and memory times runnersPerNode. */
export function nodeSize(cls: SizedClass): { vcpu: number; memoryMiB: number } {
  const n = runnersPerNode(cls);
  return { vcpu: cls.cpu * n, memoryMiB: Math.round(cls.memoryGiB * MIB_PER_GIB * n) };
}

/** The catalog types a class's NodePool admits (class-requirements.ts): all of one size. */
export function classInstanceTypes(cls: SizedClass): InstanceTypeInfo[] {
  return filterInstanceTypes(classRequirements(cls, { runnersPerNode: runnersPerNode(cls) }));
}

/**
 * A node of the class's size when the catalog has none (a local or kind config with a
 * made-up size): Karpenter's formulas on that size, with the kubelet's default max-pods of
 * 110 (1 ENI × (109 − 1) + 2). Only the runtime uses this; the policy pack rejects such a class.
 */
function estimatedType(cls: SizedClass): InstanceTypeInfo {
  const { vcpu, memoryMiB } = nodeSize(cls);
  return {
    name: `${cls.name}-estimate`, vcpu, memoryMiB, arch: cls.arch, family: 'estimate', generation: 1, category: 'estimate',
    maxEnis: 1, ipv4PerEni: 109, maxPods: 110, onDemandUsdPerHour: 0,
  };
}

function least(nodes: NodeResources[]): NodeResources {
  return nodes.reduce((a, b) => ({ cpuMilli: Math.min(a.cpuMilli, b.cpuMilli), memoryMiB: Math.min(a.memoryMiB, b.memoryMiB), pods: Math.min(a.pods, b.pods) }));
}

/** Requests of the runner and dind containers that add up to `pod` exactly. */
export function splitPod(pod: Share): { runner: Share; dind: Share } {
  const dind = {
    cpuMilli: Math.min(DIND_REQUEST.cpuMilli, Math.floor(pod.cpuMilli / 4)),
    memoryMiB: Math.min(DIND_REQUEST.memoryMiB, Math.floor(pod.memoryMiB / 4)),
  };
  return { runner: { cpuMilli: pod.cpuMilli - dind.cpuMilli, memoryMiB: pod.memoryMiB - dind.memoryMiB }, dind };
}

const memo = new Map<string, RunnerAllotment>();

/**
 * The allotment of a runner of `cls` (see the module comment). `daemonSets` defaults to
 * what the Pulumi program's EKS cluster runs on every node; pass more for a cluster that adds
 * its own (a log or security agent). Pure and memoised by the settings it reads.
 */
export function runnerAllotment(cls: SizedClass, daemonSets: NodeResources = daemonSetOverhead()): RunnerAllotment {
  const key = JSON.stringify([cls.name, cls.arch, cls.cpu, cls.memoryGiB, cls.instanceFamilies, cls.capacityTypes, cls.runnersPerNode, daemonSets]);
  let a = memo.get(key);
  if (!a) memo.set(key, (a = computeAllotment(cls, daemonSets)));
  return a;
}

function computeAllotment(cls: SizedClass, daemonSets: NodeResources): RunnerAllotment {
  const n = runnersPerNode(cls);
  const types = classInstanceTypes(cls);
  const node = least((types.length ? types : [estimatedType(cls)]).map((t) => allocatable(t)));
  const pod = {
    cpuMilli: Math.max(0, Math.floor((node.cpuMilli - daemonSets.cpuMilli) / n)),
    memoryMiB: Math.max(0, Math.floor((node.memoryMiB - daemonSets.memoryMiB) / n)),
  };
  return { className: cls.name, runnersPerNode: n, instanceTypes: types.map((t) => t.name), estimated: !types.length, node, daemonSets, pod, ...splitPod(pod) };
}

/**
 * The budget of a runner sized below its class (a `cpu=`/`ram=` label asking less, see
 * runtime/labels/size.ts): the class's budget scaled by the share of the class it asks, so
 * two half-size runners fit where one full one does.
 */
export function scaledPod(cls: SizedClass, size: { cpu: number; memoryGiB: number }): Share {
  const { pod } = runnerAllotment(cls);
  if (size.cpu === cls.cpu && size.memoryGiB === cls.memoryGiB) return pod;
  return {
    cpuMilli: Math.floor((pod.cpuMilli * Math.min(size.cpu, cls.cpu)) / cls.cpu),
    memoryMiB: Math.floor((pod.memoryMiB * Math.min(size.memoryGiB, cls.memoryGiB)) / cls.memoryGiB),
  };
}

/** Runners of a class its NodePool's limits.cpu admits: whole nodes (limits count node vCPUs) times runners per node. */
export function maxRunners(cls: NodeShape & Pick<RunnerClass, 'nodePoolCpuLimit'>): number {
  return runnersWithin(cls, cls.nodePoolCpuLimit);
}

/** What node counting reads of a class (the policies read classes leniently). */
export type NodeShape = Pick<SizedClass, 'cpu' | 'runnersPerNode'>;

/** Node vCPUs that `runners` runners (or placeholders) of the class occupy: whole nodes. */
export function nodeCpuFor(cls: NodeShape, runners: number): number {
  const n = runnersPerNode(cls);
  return Math.ceil(runners / n) * cls.cpu * n;
}

/** The most runners (or placeholders) that `cpu` node vCPUs hold. */
export function runnersWithin(cls: NodeShape, cpu: number): number {
  const n = runnersPerNode(cls);
  return Math.floor(cpu / (cls.cpu * n)) * n;
}

/**
 * Why a class's runner cannot run on an instance of its size, each problem with its fix;
 * empty when it can. `at` names the class in the messages (e.g. `runs-fleet:classes[1]`).
 */
export function sizingProblems(cls: SizedClass, at: string, daemonSets?: NodeResources): string[] {
  const n = runnersPerNode(cls);
  const { vcpu, memoryMiB } = nodeSize(cls);
  const size = `${vcpu} vCPU / ${memoryMiB / MIB_PER_GIB} GiB`;
  const a = runnerAllotment(cls, daemonSets);
  if (a.estimated) return [noInstanceProblem(cls, at, size)];
  const problems: string[] = [];
  const perNode = n === 1 ? 'one runner per node' : `${n} runners per node`;
  if (a.pod.cpuMilli < MIN_POD.cpuMilli || a.pod.memoryMiB < MIN_POD.memoryMiB) {
    problems.push(`class "${cls.name}" (${at}) leaves a runner ${a.pod.cpuMilli}m CPU / ${a.pod.memoryMiB} MiB: a ${a.instanceTypes[0]} has ` +
      `${a.node.cpuMilli}m / ${a.node.memoryMiB} MiB allocatable, the DaemonSets take ${a.daemonSets.cpuMilli}m / ${a.daemonSets.memoryMiB} MiB, ` +
      `and ${perNode} share the rest; a runner needs at least ${MIN_POD.cpuMilli}m / ${MIN_POD.memoryMiB} MiB (Docker sidecar and runner). ` +
      `Fix: ${n > 1 ? `lower ${at}.runnersPerNode or ` : ''}raise ${at}.cpu and ${at}.memoryGiB`);
  }
  if (n + a.daemonSets.pods > a.node.pods) {
    problems.push(`class "${cls.name}" (${at}) puts ${perNode} beside ${a.daemonSets.pods} DaemonSet pods, but a ${a.instanceTypes[0]} holds ${a.node.pods} pods (ENI-limited max pods). ` +
      `Fix: lower ${at}.runnersPerNode to ≤ ${a.node.pods - a.daemonSets.pods}`);
  }
  return problems;
}

function noInstanceProblem(cls: SizedClass, at: string, size: string): string {
  const { vcpu, memoryMiB } = nodeSize(cls);
  const sameCpu = instanceTypes().filter((t) => t.arch === cls.arch && t.vcpu === vcpu && cls.instanceFamilies.includes(t.family));
  const memories = [...new Set(sameCpu.map((t) => t.memoryMiB))].sort((x, y) => x - y);
  const families = [...new Set(instanceTypes().filter((t) => t.arch === cls.arch && t.vcpu === vcpu && t.memoryMiB === memoryMiB).map((t) => t.family))];
  const n = runnersPerNode(cls);
  const unknown = cls.instanceFamilies.filter((f) => !instanceTypes().some((t) => t.family === f));
  const fixes: string[] = [];
  if (unknown.length)
    fixes.push(`add the ${unknown.join(', ')} types to runtime/capacity/instance-types.json with their source (the catalog does not list ${unknown.length === 1 ? 'that family' : 'those families'}, so their allocatable is unknown)`);
  if (memories.length)
    fixes.push(`set ${at}.memoryGiB to ${memories.map((m) => m / MIB_PER_GIB / n).join(' or ')} (${sameCpu.map((t) => `${t.name} ${t.memoryMiB / MIB_PER_GIB} GiB`).join(', ')})`);
  if (families.length) fixes.push(`add a family with a ${size} ${cls.arch} size to ${at}.instanceFamilies (${families.join(', ')})`);
  if (!fixes.length) fixes.push(`pick a size the catalog has (runtime/capacity/instance-types.json: 2, 4, 8, 16 or 32 vCPU per node) or add the instance type there with its source`);
  return `class "${cls.name}" (${at}) needs a ${size} ${cls.arch} instance${n > 1 ? ` (${n} runners of ${cls.cpu} vCPU / ${cls.memoryGiB} GiB)` : ''}, ` +
    `but none of its families (${cls.instanceFamilies.join(', ')}) has one in the catalog, so Karpenter could launch no node for it. Fix: ${fixes.join('; or ')}`;
}
