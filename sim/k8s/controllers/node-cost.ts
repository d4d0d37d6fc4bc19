import { costUsd, type CapacityType, type PriceOptions } from '../../../runtime/capacity/price.ts';
import type { InstanceTypeInfo } from '../../../runtime/capacity/catalog.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { SimClock } from '../clock.ts';

const nodesT = resource('nodes');

export interface NodeCostLine {
  instanceType: string;
  capacityType: CapacityType;
  nodeSeconds: number;
  usd: number;
}

export interface NodeCostReport {
  lines: NodeCostLine[];
  nodeSeconds: number;
  usd: number;
}

interface Running {
  type: InstanceTypeInfo;
  capacityType: CapacityType;
  since: number;
}

/**
 * What the nodes cost: node-seconds per instance type and capacity type, from launch (EC2
 * bills from the instance's start, before the Node is Ready; per second for Linux) to the
 * Node's deletion, priced from the catalog (runtime/capacity/price.ts).
 */
export class NodeCosts {
  private readonly running = new Map<string, Running>();
  private readonly done = new Map<string, number>();
  private readonly types = new Map<string, InstanceTypeInfo>();
  private readonly off: () => void;

  constructor(
    api: Registry,
    private readonly clock: SimClock,
    private readonly price: PriceOptions = {},
  ) {
    this.off = api.store.onEvent((e) => {
      if (e.resource === nodesT && e.type === 'DELETED') this.end(e.object.metadata.name);
    });
  }

  stop(): void {
    this.off();
  }

  /** A claim was launched (or an initial node created). */
  start(name: string, type: InstanceTypeInfo, capacityType: CapacityType): void {
    if (!this.running.has(name)) this.running.set(name, { type, capacityType, since: this.clock.now() });
  }

  private end(name: string): void {
    const r = this.running.get(name);
    if (!r) return;
    this.running.delete(name);
    this.add(r, this.clock.now());
  }

  private add(r: Running, until: number): void {
    const key = `${r.type.name}/${r.capacityType}`;
    this.types.set(r.type.name, r.type);
    this.done.set(key, (this.done.get(key) ?? 0) + Math.max(0, until - r.since) / 1000);
  }

  /** Node-seconds and dollars so far, running nodes counted up to now. */
  report(): NodeCostReport {
    const seconds = new Map(this.done);
    const now = this.clock.now();
    for (const r of this.running.values()) {
      const key = `${r.type.name}/${r.capacityType}`;
      this.types.set(r.type.name, r.type);
      seconds.set(key, (seconds.get(key) ?? 0) + Math.max(0, now - r.since) / 1000);
    }
    const lines = [...seconds].sort(([a], [b]) => a.localeCompare(b)).map(([key, nodeSeconds]) => {
      const [instanceType, capacityType] = key.split('/') as [string, CapacityType];
      return { instanceType, capacityType, nodeSeconds, usd: costUsd(this.types.get(instanceType)!, capacityType, nodeSeconds, this.price) };
    });
    return { lines, nodeSeconds: lines.reduce((s, l) => s + l.nodeSeconds, 0), usd: lines.reduce((s, l) => s + l.usd, 0) };
  }
}
