import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock, SimTimer } from '../clock.ts';
import { NODE } from '../../../runtime/k8s/labels.ts';
import type { InstanceTypeInfo } from '../../../runtime/capacity/catalog.ts';
import type { PriceOptions } from '../../../runtime/capacity/price.ts';
import { cpuMilli } from '../../../runtime/capacity/quantity.ts';
import {
  allocatableOf, buildNode, capacityTypesOf, cheapestFit, hasStartupTaint, INITIALIZED_LABEL, karpenterTaints, podFits, poolInstanceTypes,
  type CapacityType, type FitOptions, type NodePool,
} from '../model/nodepool.ts';
import { nodeLabelsMatch, untoleratedTaint } from '../model/placement.ts';
import { findCondition, podKey, podPriority } from '../model/pods.ts';
import { add, podRequests, type Res, ZERO, fitsIn, sub } from '../model/resources.ts';
import { nodeIsSchedulable, type PodIndex } from './pod-index.ts';
import type { StoreEvent } from '../store/store.ts';
import { splitKey } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');

export interface ProvisionerOptions {
  pools: NodePool[];
  /** From the decision to launch to the Node being Ready. */
  provisioningMs: number;
  /** Karpenter's batch window: closes after this long without a new pending pod… */
  batchIdleMs: number;
  /** …or this long after it opened. */
  batchMaxMs: number;
  recordEvents: boolean;
  /** Spot price ratio for choosing offerings (runtime/capacity/price.ts). */
  price?: PriceOptions;
  /** The DaemonSets' requests, which every new node must hold besides its pods. */
  daemonOverhead: Res;
  /** Called with each new node's name right after it is created (its DaemonSet pods, its cost). */
  onNodeCreated?: (name: string, pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType) => void;
  /** Called when a claim is launched: EC2 bills from launch, not from Ready. */
  onLaunch?: (name: string, type: InstanceTypeInfo, capacityType: CapacityType) => void;
  /** Pods by node, for the room left on nodes that are not initialized yet (startup taints). */
  index?: PodIndex;
}

/** A Ready node still carrying a startup taint, with the room Karpenter thinks it has. */
interface Warming {
  node: Stored;
  pool: NodePool;
  free: Res;
}

interface Claim {
  name: string;
  pool: NodePool;
  type: InstanceTypeInfo;
  capacityType: CapacityType;
  requests: Res;
  pods: Stored[];
  timer?: SimTimer;
}

/** A pod Karpenter acts on: unschedulable per the scheduler, and not about to get room by preemption. */
export function isProvisionable(pod: Stored): boolean {
  if (pod.spec?.nodeName || pod.metadata.deletionTimestamp || pod.status?.nominatedNodeName) return false;
  const c = findCondition(pod, 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable';
}

/**
 * Karpenter's provisioner, condensed: pending unschedulable pods are batched (idle/max
 * window), packed onto new nodes first-fit by priority and size, each node of the cheapest
 * offering (instance type × capacity type, priced from the catalog) of a compatible NodePool
 * whose allocatable less the DaemonSets holds its pods and keeps the pool within limits.cpu. The Node appears after provisioningMs; pods already promised to an in-flight
 * node are not provisioned again.
 */
export class Provisioner {
  private readonly candidates = new Set<string>();
  private readonly inflight = new Map<string, Claim>();
  private readonly promised = new Map<string, string>();
  private readonly warned = new Set<string>();
  private batch: { start: number; timer: SimTimer } | undefined;
  private ipCounter = 10;
  private usedCpu = new Map<NodePool, number>();
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    private readonly log: Logger,
    private readonly o: ProvisionerOptions,
  ) {
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.batch?.timer.cancel();
    for (const c of this.inflight.values()) c.timer?.cancel();
  }

  /** Creates the pools' initial nodes (e.g. the system node) at once. */
  createInitialNodes(): void {
    for (const pool of this.o.pools) {
      if (!pool.initialNodes) continue;
      const allowed = capacityTypesOf(pool);
      const offer = cheapestFit(pool, [], ZERO, Infinity, this.fit(allowed.includes('on-demand') ? ['on-demand'] : allowed));
      if (!offer) throw new Error(`sim NodePool "${pool.name}": none of its instance types holds the DaemonSets, so its initial nodes cannot exist`);
      for (let i = 0; i < pool.initialNodes; i++) {
        const name = `${pool.name}-${this.api.rng.suffix()}`;
        this.o.onLaunch?.(name, offer.type, offer.capacityType);
        this.createNode(pool, offer.type, offer.capacityType, name);
      }
    }
  }

  inflightClaims(): { name: string; pool: string; instanceType: string; pods: string[] }[] {
    return [...this.inflight.values()].map((c) => ({ name: c.name, pool: c.pool.name, instanceType: c.type.name, pods: c.pods.map(podKey) }));
  }

  private observe(e: StoreEvent): void {
    if (e.resource === nodesT) {
      if (e.type === 'MODIFIED') this.maybeInitialized(e.object);
      return;
    }
    if (e.resource !== podsT) return;
    const key = podKey(e.object);
    if (e.type === 'DELETED' || !isProvisionable(e.object)) {
      this.candidates.delete(key);
      if (e.type === 'DELETED') this.promised.delete(e.object.metadata.uid);
      return;
    }
    if (!this.candidates.has(key)) {
      this.candidates.add(key);
      this.trigger();
    }
  }

  private trigger(): void {
    const now = this.clock.now();
    if (!this.batch) {
      this.batch = { start: now, timer: this.clock.setTimer(this.o.batchIdleMs, () => this.closeBatch()) };
      return;
    }
    this.batch.timer.cancel();
    const due = Math.min(now + this.o.batchIdleMs, this.batch.start + this.o.batchMaxMs);
    this.batch.timer = this.clock.setTimer(due - now, () => this.closeBatch());
  }

  private closeBatch(): void {
    this.batch = undefined;
    try {
      this.provision();
    } catch (e) {
      this.log.warn({ err: e }, 'sim provisioner: provisioning pass failed');
    }
  }

  /**
   * Karpenter marks a node initialized once it is Ready with its startup taints gone; from then
   * its real taints count. Pods it had counted onto the node but that the scheduler did not
   * place there get another provisioning pass.
   */
  private maybeInitialized(node: Stored): void {
    const pool = this.o.pools.find((p) => p.name === node.metadata.labels?.[NODE.nodePool]);
    if (!pool?.startupTaints?.length || node.metadata.labels?.[INITIALIZED_LABEL] === 'true' || hasStartupTaint(pool, node)) return;
    const name = node.metadata.name;
    this.clock.setTimer(0, () => {
      try {
        this.api.mutate(nodesT, '', name, (d) => {
          d.metadata.labels = { ...(d.metadata.labels ?? {}), [INITIALIZED_LABEL]: 'true' };
        });
      } catch {
        return; // gone meanwhile
      }
      if (this.candidates.size > 0) this.trigger();
    });
  }

  /**
   * Nodes that are Ready but not initialized (a startup taint is still on): Karpenter's
   * scheduling simulation treats them as nodes the pending pods will fit on once the taint is
   * removed (statenode.go Taints() drops startup taints until initialization), so it launches
   * nothing for a pod that fits there.
   */
  private warmingNodes(): Warming[] {
    const index = this.o.index;
    if (!index || !this.o.pools.some((p) => p.startupTaints?.length)) return [];
    const out: Warming[] = [];
    for (const node of index.nodes()) {
      const pool = this.o.pools.find((p) => p.name === node.metadata.labels?.[NODE.nodePool]);
      if (!pool?.startupTaints?.length || node.metadata.labels?.[INITIALIZED_LABEL] === 'true' || !nodeIsSchedulable(node)) continue;
      out.push({ node, pool, free: index.free(node) });
    }
    return out;
  }

  private packIntoWarming(pod: Stored, warming: Warming[]): boolean {
    const req = podRequests(pod);
    for (const w of warming) {
      if (!fitsIn(req, w.free)) continue;
      if (!nodeLabelsMatch(pod, w.node.metadata.labels ?? {}, w.node.metadata.name) || untoleratedTaint(pod, karpenterTaints(w.pool, w.node))) continue;
      w.free = sub(w.free, req);
      return true;
    }
    return false;
  }

  private provision(): void {
    const pods: Stored[] = [];
    for (const key of this.candidates) {
      const [ns, name] = splitKey(key);
      const p = this.api.find(podsT, ns, name);
      if (p && isProvisionable(p) && !this.promised.has(p.metadata.uid)) pods.push(p);
    }
    pods.sort((a, b) => podPriority(b) - podPriority(a) || podRequests(b).cpu - podRequests(a).cpu || podKey(a).localeCompare(podKey(b)));
    this.usedCpu = this.poolUsage();
    const fresh: Claim[] = [];
    const warming = this.warmingNodes();
    for (const pod of pods) {
      if (this.packIntoWarming(pod, warming) || this.packIntoInflight(pod) || this.packIntoFresh(pod, fresh) || this.openClaim(pod, fresh)) continue;
      this.warnOnce(pod);
    }
    if (fresh.length > 0) this.launch(fresh);
  }

  /** vCPUs per pool in nodes and in-flight claims, computed once per provisioning pass. */
  private poolUsage(): Map<NodePool, number> {
    const used = new Map<NodePool, number>();
    const byName = new Map(this.o.pools.map((p) => [p.name, p]));
    for (const n of this.api.store.iterate(nodesT)) {
      const pool = byName.get(n.metadata.labels?.[NODE.nodePool] ?? '');
      if (pool) used.set(pool, (used.get(pool) ?? 0) + cpuMilli(n.status?.capacity?.cpu ?? 0) / 1000);
    }
    for (const c of this.inflight.values()) used.set(c.pool, (used.get(c.pool) ?? 0) + c.type.vcpu);
    return used;
  }

  private packIntoInflight(pod: Stored): boolean {
    const req = podRequests(pod);
    for (const c of this.inflight.values()) {
      if (!fitsIn(add(add(c.requests, req), this.o.daemonOverhead), allocatableOf(c.pool, c.type)) || !podFits(pod, c.pool, c.type, c.capacityType)) continue;
      c.requests = add(c.requests, req);
      c.pods.push(pod);
      this.promised.set(pod.metadata.uid, c.name);
      return true;
    }
    return false;
  }

  /** Adds the pod to a claim of this batch, growing its instance type when the pool's limit allows. */
  private packIntoFresh(pod: Stored, fresh: Claim[]): boolean {
    const req = podRequests(pod);
    for (const c of fresh) {
      const pods = [...c.pods, pod];
      const grown = cheapestFit(c.pool, pods, add(c.requests, req), this.remainingCpu(c.pool, fresh) + c.type.vcpu, this.fit([c.capacityType]));
      if (!grown) continue;
      c.type = grown.type;
      c.requests = add(c.requests, req);
      c.pods = pods;
      return true;
    }
    return false;
  }

  private openClaim(pod: Stored, fresh: Claim[]): boolean {
    const req = podRequests(pod);
    const pools = [...this.o.pools].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0) || a.name.localeCompare(b.name));
    for (const pool of pools) {
      const offer = cheapestFit(pool, [pod], req, this.remainingCpu(pool, fresh), this.fit());
      if (!offer) continue;
      fresh.push({ name: `${pool.name}-${this.api.rng.suffix()}`, pool, type: offer.type, capacityType: offer.capacityType, requests: add(ZERO, req), pods: [pod] });
      return true;
    }
    return false;
  }

  private fit(capacityTypes?: CapacityType[]): FitOptions {
    return { overhead: this.o.daemonOverhead, ...(this.o.price ? { price: this.o.price } : {}), ...(capacityTypes ? { capacityTypes } : {}) };
  }

  /** vCPUs the pool may still add: limits.cpu minus its nodes, in-flight claims and this batch's claims. */
  private remainingCpu(pool: NodePool, fresh: Claim[]): number {
    if (pool.limitsCpu === undefined) return Infinity;
    let used = this.usedCpu.get(pool) ?? 0;
    for (const c of fresh) if (c.pool === pool) used += c.type.vcpu;
    return pool.limitsCpu - used;
  }

  /** One timer per batch: the batch's nodes appear together, as one scheduling round sees them. */
  private launch(claims: Claim[]): void {
    for (const claim of claims) {
      this.inflight.set(claim.name, claim);
      this.o.onLaunch?.(claim.name, claim.type, claim.capacityType);
      for (const p of claim.pods) {
        this.promised.set(p.metadata.uid, claim.name);
        if (this.o.recordEvents) this.api.recordEvent(p, 'Normal', 'Nominated', `Pod should schedule on: nodeclaim/${claim.name}`, 'karpenter');
      }
    }
    const timer = this.clock.setTimer(this.o.provisioningMs, () => {
      for (const claim of claims) {
        this.inflight.delete(claim.name);
        for (const p of claim.pods) this.promised.delete(p.metadata.uid);
        this.createNode(claim.pool, claim.type, claim.capacityType, claim.name);
      }
      // Pods the scheduler placed elsewhere meanwhile, or that did not fit after all, get another pass.
      if (this.candidates.size > 0) this.trigger();
    });
    for (const claim of claims) claim.timer = timer;
  }

  private createNode(pool: NodePool, type: InstanceTypeInfo, capacityType: CapacityType, name: string): void {
    const n = this.ipCounter++;
    const ip = `10.0.${(n >> 8) & 255}.${n & 255}`;
    try {
      this.api.create(nodesT, '', buildNode(pool, type, capacityType, name, this.clock.now(), ip));
    } catch (e) {
      this.log.warn({ err: e, node: name }, 'sim provisioner: creating the node failed');
      return;
    }
    this.o.onNodeCreated?.(name, pool, type, capacityType);
  }

  private warnOnce(pod: Stored): void {
    if (this.warned.has(pod.metadata.uid)) return;
    this.warned.add(pod.metadata.uid);
    if (this.o.recordEvents) {
      const fitting = this.o.pools.filter((pool) => poolInstanceTypes(pool).some((t) => capacityTypesOf(pool).some((ct) => podFits(pod, pool, t, ct))));
      const msg = fitting.length
        ? `Failed to schedule pod, all available instance types exceed limits for nodepool: ${fitting.map((p) => `"${p.name}"`).join(', ')}`
        : 'Failed to schedule pod, incompatible with all nodepools';
      this.api.recordEvent(pod, 'Warning', 'FailedScheduling', msg, 'karpenter');
    }
  }
}
