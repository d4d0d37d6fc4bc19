import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import { isTerminal, setCondition } from '../model/pods.ts';
import { isoSeconds } from '../model/time.ts';
import type { PodIndex } from './pod-index.ts';
import { WorkQueue } from './queue.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');

/**
 * PodGC for orphaned pods: when a node is gone, its pods that were still running are marked
 * Failed with a DisruptionTarget condition (DeletionByPodGC) and, like finished ones, removed.
 */
export class PodGarbageCollector {
  private readonly queue: WorkQueue;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    private readonly index: PodIndex,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'pod-gc', (node) => this.reconcile(node), log);
    this.off = api.store.onEvent((e) => {
      if (e.resource === nodesT && e.type === 'DELETED') this.queue.add(e.object.metadata.name);
    });
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private reconcile(node: string): void {
    if (this.api.find(nodesT, '', node)) return;
    for (const pod of this.index.podsOn(node)) {
      if (!isTerminal(pod)) failPod(this.api, pod, isoSeconds(this.clock.now()), { reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
      try {
        this.api.delete(podsT, pod.metadata.namespace ?? '', pod.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Marks a pod as lost to a disruption: DisruptionTarget condition, containers terminated
 * (exit 137), phase Failed — what the Job controller and the lifecycle watcher observe when
 * a node disappears under a pod.
 */
export function failPod(api: Registry, pod: Stored, time: string, why: { reason: string; message: string }, podReason?: string): void {
  api.mutate(podsT, pod.metadata.namespace ?? '', pod.metadata.name, (d) => {
    const s = (d.status ??= {});
    setCondition(s, { type: 'DisruptionTarget', status: 'True', reason: why.reason, message: why.message }, time, { lastProbeTime: null });
    if (isTerminal(d)) return;
    s.phase = 'Failed';
    if (podReason) {
      s.reason = podReason;
      s.message = why.message;
    }
    for (const cs of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
      if (cs.state?.terminated) continue;
      cs.ready = false;
      cs.started = false;
      cs.state = { terminated: { exitCode: 137, reason: 'Error', startedAt: cs.state?.running?.startedAt ?? time, finishedAt: time, containerID: cs.containerID } };
    }
    setCondition(s, { type: 'Ready', status: 'False', reason: 'PodFailed' }, time, { lastProbeTime: null });
    setCondition(s, { type: 'ContainersReady', status: 'False', reason: 'PodFailed' }, time, { lastProbeTime: null });
  });
}
