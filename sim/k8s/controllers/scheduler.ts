import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import { nodeLabelsMatch, untoleratedTaint } from '../model/placement.ts';
import { fitsIn, nodeAllocatable, podRequests, sub, type Res } from '../model/resources.ts';
import { isTerminal, podKey, podPriority, setCondition } from '../model/pods.ts';
import { isoSeconds } from '../model/time.ts';
import type { StoreEvent } from '../store/store.ts';
import { nodeIsSchedulable, type PodIndex } from './pod-index.ts';
import { selectPreemption } from './preemption.ts';
import { splitKey } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');
const SCHEDULER = 'default-scheduler';

export interface SchedulerOptions {
  recordEvents: boolean;
}

/**
 * kube-scheduler, condensed: filters (node selector and required affinity, taints vs
 * tolerations, requests vs allocatable), least-allocated scoring, and preemption of
 * lower-priority pods (DisruptionTarget PreemptionByScheduler, then graceful deletion; the
 * preemptor is nominated to the node meanwhile). Like the real one it keeps unschedulable
 * pods aside and retries them only when the cluster changes in a way that could help
 * (a node appears or changes, a pod on a node goes away or finishes).
 */
export class Scheduler {
  private active = new Set<string>();
  private readonly unschedulable = new Set<string>();
  private scheduled = false;
  private stopped = false;
  /** Bumped whenever unschedulable pods are moved back; a pod that failed during a move is retried (kube-scheduler's moveRequestCycle). */
  private moveCycle = 0;
  private passFree = new Map<string, Res>();
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    private readonly index: PodIndex,
    private readonly log: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.stopped = true;
    this.off();
  }

  private observe(e: StoreEvent): void {
    if (e.resource === nodesT) {
      if (e.type !== 'DELETED') this.retryUnschedulable();
      return;
    }
    if (e.resource !== podsT) return;
    const pod = e.object;
    const key = podKey(pod);
    if (e.type === 'DELETED') {
      this.unschedulable.delete(key);
      this.active.delete(key);
      if (e.old?.spec?.nodeName && !isTerminal(e.old)) this.retryUnschedulable();
      return;
    }
    const freed = e.old?.spec?.nodeName && !isTerminal(e.old) && isTerminal(pod);
    if (freed) this.retryUnschedulable();
    if (!pod.spec?.nodeName && !pod.metadata.deletionTimestamp && (pod.spec?.schedulerName ?? SCHEDULER) === SCHEDULER) {
      if (e.type === 'ADDED' && !this.unschedulable.has(key)) this.enqueue(key);
    } else {
      this.unschedulable.delete(key);
    }
  }

  private retryUnschedulable(): void {
    this.moveCycle++;
    for (const key of this.unschedulable) this.active.add(key);
    this.unschedulable.clear();
    this.kick();
  }

  private enqueue(key: string): void {
    this.active.add(key);
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.stopped || this.active.size === 0) return;
    this.scheduled = true;
    this.clock.setTimer(0, () => this.pass());
  }

  /** One scheduling pass over the active queue, highest priority first, then oldest. */
  private pass(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const pods: Stored[] = [];
    for (const key of this.active) {
      const [ns, name] = splitKey(key);
      const p = this.api.find(podsT, ns, name);
      if (p && !p.spec?.nodeName && !p.metadata.deletionTimestamp) pods.push(p);
    }
    this.active = new Set();
    pods.sort((a, b) => podPriority(b) - podPriority(a) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    const nodes = this.index.nodes();
    // Free resources per node for this pass, kept current as pods are bound: a pass over P pods
    // and N nodes costs P×N cheap checks, not a recount of every node's pods each time.
    this.passFree = new Map();
    for (const pod of pods) {
      const cycle = this.moveCycle;
      let placed = false;
      try {
        placed = this.scheduleOne(pod, nodes);
      } catch (e) {
        this.log.warn({ err: e, pod: podKey(pod) }, 'sim scheduler: scheduling failed; retrying with the next cluster change');
      }
      if (placed) continue;
      // The cluster changed while this pod was being tried (its own victims may be gone already): try again.
      if (cycle !== this.moveCycle) this.enqueue(podKey(pod));
      else this.unschedulable.add(podKey(pod));
    }
  }

  private scheduleOne(pod: Stored, nodes: Stored[]): boolean {
    const req = podRequests(pod);
    const reasons = new Map<string, number>();
    const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const eligible: Stored[] = [];
    let best: { node: Stored; score: number } | undefined;
    for (const node of nodes) {
      if (!nodeIsSchedulable(node)) {
        note('node(s) were unschedulable');
        continue;
      }
      if (!nodeLabelsMatch(pod, node.metadata.labels ?? {}, node.metadata.name)) {
        note("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      const taint = untoleratedTaint(pod, node.spec?.taints);
      if (taint) {
        note(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
        continue;
      }
      eligible.push(node);
      const free = this.index.free(node, pod, this.baseFree(node));
      if (!fitsIn(req, free)) {
        if (req.cpu > free.cpu) note('Insufficient cpu');
        if (req.memory > free.memory) note('Insufficient memory');
        if (req.pods > free.pods) note('Too many pods');
        continue;
      }
      const alloc = nodeAllocatable(node);
      const score = ((alloc.cpu - free.cpu + req.cpu) / Math.max(1, alloc.cpu) + (alloc.memory - free.memory + req.memory) / Math.max(1, alloc.memory)) / 2;
      if (!best || score < best.score) best = { node, score };
    }
    if (best) {
      this.bind(pod, best.node);
      return true;
    }
    const summary = `0/${nodes.length} nodes are available: ${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ') || 'no nodes'}.`;
    if (pod.spec?.preemptionPolicy !== 'Never') {
      if (this.waitingForVictims(pod)) {
        this.markUnschedulable(pod, `${summary} preemption: waiting for victims to terminate.`, pod.status?.nominatedNodeName);
        return false;
      }
      const choice = selectPreemption(
        pod,
        eligible.map((node) => ({ node, free: this.index.free(node, pod), pods: this.index.podsOn(node.metadata.name) })),
      );
      if (choice) {
        this.preempt(pod, choice.node, choice.victims);
        this.markUnschedulable(pod, `${summary} preemption: ${choice.victims.length} pod(s) on node ${choice.node.metadata.name} are being preempted.`, choice.node.metadata.name);
        return false;
      }
      this.markUnschedulable(pod, `${summary} preemption: 0/${nodes.length} nodes are available: No preemption victims found for incoming pod.`, undefined);
      return false;
    }
    this.markUnschedulable(pod, `${summary} preemption: not eligible due to preemptionPolicy=Never.`, undefined);
    return false;
  }

  /** The pod was nominated earlier and lower-priority pods on that node are still terminating. */
  private waitingForVictims(pod: Stored): boolean {
    const nominated = pod.status?.nominatedNodeName;
    if (!nominated || !this.api.find(nodesT, '', nominated)) return false;
    return this.index.podsOn(nominated).some((p) => p.metadata.deletionTimestamp && !isTerminal(p) && podPriority(p) < podPriority(pod));
  }

  private baseFree(node: Stored): Res {
    let base = this.passFree.get(node.metadata.name);
    if (!base) this.passFree.set(node.metadata.name, (base = this.index.unreserved(node)));
    return base;
  }

  private bind(pod: Stored, node: Stored): void {
    this.passFree.set(node.metadata.name, sub(this.baseFree(node), podRequests(pod)));
    const time = isoSeconds(this.clock.now());
    this.api.mutate(podsT, pod.metadata.namespace ?? '', pod.metadata.name, (d) => {
      d.spec.nodeName = node.metadata.name;
      d.status ??= {};
      delete d.status.nominatedNodeName;
      setCondition(d.status, { type: 'PodScheduled', status: 'True' }, time, { lastProbeTime: null });
      const c = d.status.conditions.find((x: { type: string }) => x.type === 'PodScheduled');
      delete c.reason;
      delete c.message;
    });
    if (this.options.recordEvents)
      this.api.recordEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${podKey(pod)} to ${node.metadata.name}`, SCHEDULER);
  }

  private markUnschedulable(pod: Stored, message: string, nominated: string | undefined): void {
    const time = isoSeconds(this.clock.now());
    let changed = false;
    const updated = this.api.mutate(podsT, pod.metadata.namespace ?? '', pod.metadata.name, (d) => {
      d.status ??= {};
      if (nominated) d.status.nominatedNodeName = nominated;
      else delete d.status.nominatedNodeName;
      changed = setCondition(d.status, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }, time, { lastProbeTime: null });
    });
    if (changed && updated && this.options.recordEvents && !pod.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'))
      this.api.recordEvent(pod, 'Warning', 'FailedScheduling', message, SCHEDULER);
  }

  private preempt(pod: Stored, node: Stored, victims: Stored[]): void {
    const time = isoSeconds(this.clock.now());
    for (const v of victims) {
      const ns = v.metadata.namespace ?? '';
      this.api.mutate(podsT, ns, v.metadata.name, (d) => {
        d.status ??= {};
        setCondition(d.status, { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `${SCHEDULER}: preempting to accommodate a higher priority pod` }, time, { lastProbeTime: null });
      });
      if (this.options.recordEvents)
        this.api.recordEvent(v, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${node.metadata.name}`, SCHEDULER);
      try {
        this.api.delete(podsT, ns, v.metadata.name, { preconditions: { uid: v.metadata.uid } });
      } catch {
        // already gone
      }
    }
  }
}
