import { COMPONENT, LABEL, NODE_CLASS_LABEL, RUNNER_CONTAINER } from '../../runtime/k8s/labels.ts';
import type { Stored } from '../../sim/k8s/index.ts';
import type { ObjectStore, StoreEvent } from '../../sim/k8s/store/store.ts';
import { hourlyUsd, type CapacityType, type PriceOptions } from '../../runtime/capacity/price.ts';

/**
 * Measures one replay from the simulated cluster's own state changes, the same way for
 * every policy: a store listener sees each write at the virtual instant it happens (no
 * polling, no whole-second timestamps). It only records; it never writes back.
 */

export interface RunnerStart {
  jobId: number;
  createdAt: number;
  /** The runner container started (undefined: never within the replay). */
  runningAt?: number;
  node?: string;
  /** The runner was nominated to a node first: it preempted a placeholder there. */
  preempted: boolean;
}

interface NodeLife {
  addedAt: number;
  removedAt?: number;
  cpu: number;
  /** Allocatable CPU (what the kubelet offers pods) and the node's price per hour, for the placeholders' share. */
  allocatableCpu: number;
  usdPerHour: number;
}

interface ReadyPlaceholder {
  cpu: number;
  node: string | undefined;
}

export interface Window {
  from: number;
  to: number;
}

/** A named part of the day (e.g. 08:00–18:00) that idle spend is also reported for. */
export interface Period extends Window {
  name: string;
}

/** ∫ value dt over the part of [from, to] inside the window, in value-seconds. */
class Integral {
  private value = 0;
  private since: number;
  total = 0;

  constructor(private readonly window: Window, start: number) {
    this.since = start;
  }

  set(value: number, now: number): void {
    this.advance(now);
    this.value = value;
  }

  advance(now: number): void {
    const from = Math.max(this.since, this.window.from);
    const to = Math.min(now, this.window.to);
    if (to > from) this.total += (this.value * (to - from)) / 1000;
    this.since = Math.max(this.since, now);
  }
}

export class Meter {
  readonly runners = new Map<string, RunnerStart>();
  private readonly nodes = new Map<string, NodeLife>();
  private readonly readyPlaceholders = new Map<string, ReadyPlaceholder>();
  private readonly placeholderCpu: Integral;
  private readonly idleUsd: Integral;
  private readonly placeholderCpuByPeriod: Map<string, Integral>;
  private readonly nodeCpu: Integral;
  private readonly off: () => void;

  constructor(
    store: ObjectStore,
    private readonly now: () => number,
    private readonly window: Window,
    periods: readonly Period[] = [],
    private readonly price: PriceOptions = {},
  ) {
    this.placeholderCpu = new Integral(window, now());
    this.idleUsd = new Integral(window, now());
    this.placeholderCpuByPeriod = new Map(periods.map((p) => [p.name, new Integral(p, now())]));
    this.nodeCpu = new Integral(window, now());
    this.off = store.onEvent((e) => this.onEvent(e));
  }

  stop(): void {
    this.off();
  }

  /** Idle placeholder CPU-hours within the window: Σ over ready placeholders of their CPU request × time. */
  placeholderCpuHours(): number {
    this.placeholderCpu.advance(this.now());
    return this.placeholderCpu.total / 3600;
  }

  /**
   * Idle placeholder dollars within the window: the placeholders' share of what their nodes
   * cost, Σ over ready placeholders of (CPU request ÷ the node's allocatable CPU) × the node's
   * $/h, integrated over time. CPU is the share because it is what a runner slot is sized by
   * (one runner's request per slot); the rest of the node (DaemonSets, unfilled room) is not
   * charged to the placeholders.
   */
  placeholderUsd(): number {
    this.idleUsd.advance(this.now());
    return this.idleUsd.total / 3600;
  }

  /** The same, per period. */
  placeholderCpuHoursByPeriod(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, integral] of this.placeholderCpuByPeriod) {
      integral.advance(this.now());
      out[name] = integral.total / 3600;
    }
    return out;
  }

  /** Runner-class node capacity × time within the window (from Node Ready to its deletion). */
  nodeCpuHours(): number {
    this.nodeCpu.advance(this.now());
    return this.nodeCpu.total / 3600;
  }

  /** Runner-class nodes that came up within the window. */
  nodesLaunched(): number {
    return [...this.nodes.values()].filter((n) => n.addedAt >= this.window.from && n.addedAt < this.window.to).length;
  }

  /** Warm: the runner's node already existed when its pod was created. */
  isWarm(r: RunnerStart): boolean {
    const node = r.node ? this.nodes.get(r.node) : undefined;
    return node !== undefined && node.addedAt <= r.createdAt;
  }

  started(): number {
    let n = 0;
    for (const r of this.runners.values()) if (r.runningAt !== undefined) n++;
    return n;
  }

  private onEvent(e: StoreEvent): void {
    const plural = e.resource.plural;
    if (plural === 'nodes') this.onNode(e);
    else if (plural === 'pods') {
      const component = e.object.metadata.labels?.[LABEL.component];
      if (component === COMPONENT.runner) this.onRunner(e);
      else if (component === COMPONENT.placeholder) this.onPlaceholder(e);
    }
  }

  private onNode(e: StoreEvent): void {
    const node = e.object;
    if (!node.metadata.labels?.[NODE_CLASS_LABEL]) return; // the system node
    const name = node.metadata.name;
    const t = this.now();
    if (e.type === 'ADDED' && !this.nodes.has(name)) {
      const labels = node.metadata.labels ?? {};
      const type = labels['node.kubernetes.io/instance-type'];
      const capacityType = (labels['karpenter.sh/capacity-type'] ?? 'on-demand') as CapacityType;
      this.nodes.set(name, {
        addedAt: t, cpu: Number(node.status?.capacity?.cpu ?? 0), allocatableCpu: parseCpu(node.status?.allocatable?.cpu),
        usdPerHour: type ? hourlyUsd(type, capacityType, this.price) : 0,
      });
    }
    else if (e.type === 'DELETED') {
      const life = this.nodes.get(name);
      if (life && life.removedAt === undefined) life.removedAt = t;
    } else return;
    this.nodeCpu.set(this.liveNodeCpu(), t);
  }

  private liveNodeCpu(): number {
    let cpu = 0;
    for (const n of this.nodes.values()) if (n.removedAt === undefined) cpu += n.cpu;
    return cpu;
  }

  private onRunner(e: StoreEvent): void {
    const pod = e.object;
    const uid = pod.metadata.uid;
    let r = this.runners.get(uid);
    if (!r) {
      if (e.type !== 'ADDED') return;
      r = { jobId: Number(pod.metadata.labels?.[LABEL.jobId]), createdAt: this.now(), preempted: false };
      this.runners.set(uid, r);
    }
    if (pod.status?.nominatedNodeName) r.preempted = true;
    if (r.runningAt === undefined && runnerRunning(pod)) {
      r.runningAt = this.now();
      r.node = pod.spec?.nodeName;
    }
  }

  private onPlaceholder(e: StoreEvent): void {
    const pod = e.object;
    const uid = pod.metadata.uid;
    const before = this.readyPlaceholders.size;
    if (e.type !== 'DELETED' && placeholderReady(pod)) this.readyPlaceholders.set(uid, { cpu: cpuOf(pod), node: pod.spec?.nodeName });
    else this.readyPlaceholders.delete(uid);
    if (this.readyPlaceholders.size === before && e.type !== 'DELETED') return;
    let cpu = 0;
    let usdPerHour = 0;
    for (const p of this.readyPlaceholders.values()) {
      cpu += p.cpu;
      const node = p.node ? this.nodes.get(p.node) : undefined;
      if (node && node.allocatableCpu > 0) usdPerHour += (p.cpu / node.allocatableCpu) * node.usdPerHour;
    }
    this.placeholderCpu.set(cpu, this.now());
    this.idleUsd.set(usdPerHour, this.now());
    for (const integral of this.placeholderCpuByPeriod.values()) integral.set(cpu, this.now());
  }
}

function runnerRunning(pod: Stored): boolean {
  const statuses: Array<{ name: string; state?: { running?: unknown } }> = pod.status?.containerStatuses ?? [];
  return statuses.some((c) => c.name === RUNNER_CONTAINER && c.state?.running !== undefined);
}

function placeholderReady(pod: Stored): boolean {
  if (pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running') return false;
  const conditions: Array<{ type: string; status: string }> = pod.status?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** CPU requested by a pod's containers (placeholders: one `pause` sized like a runner). */
function cpuOf(pod: Stored): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) total += parseCpu(c.resources?.requests?.cpu);
  return total;
}

function parseCpu(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}
