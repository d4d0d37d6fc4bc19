import type { Logger } from '../../../runtime/log.ts';
import { StatusError } from '../api/errors.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import { conditionTrue, controllerRef, isTerminal } from '../model/pods.ts';
import type { StoreEvent } from '../store/store.ts';
import { isJobFinished, planJob, type JobTally } from './job-plan.ts';
import { splitKey, WorkQueue } from './queue.ts';

const jobsT = resource('jobs');
const podsT = resource('pods');

/**
 * The Job controller: pods from the template (owned by the Job, with its controller-uid
 * labels), retries with exponential backoff up to backoffLimit, activeDeadlineSeconds,
 * completion once the main containers ended (native sidecars do not hold a pod open: the
 * kubelet model ends the pod). Outcomes are tallied from pod events as they happen, like
 * the real controller's tracking finalizers, so a pod deleted right after failing still counts.
 */
export class JobController {
  private readonly queue: WorkQueue;
  private readonly tallies = new Map<string, JobTally>();
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'job', (key) => this.reconcile(key), log);
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private tally(uid: string): JobTally {
    let t = this.tallies.get(uid);
    if (!t) this.tallies.set(uid, (t = { succeeded: new Set(), failed: new Set(), restarts: new Map() }));
    return t;
  }

  private observe(e: StoreEvent): void {
    if (e.resource === jobsT) {
      if (e.type === 'DELETED') this.tallies.delete(e.object.metadata.uid);
      else this.queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      return;
    }
    if (e.resource !== podsT) return;
    const ref = controllerRef(e.object);
    if (!ref || ref.kind !== 'Job') return;
    const job = this.api.store.byUid(ref.uid)?.obj;
    if (!job) return;
    const settled = isJobFinished(job) || conditionTrue(job, 'FailureTarget') || conditionTrue(job, 'SuccessCriteriaMet');
    const tally = this.tally(ref.uid);
    const podUid = e.object.metadata.uid;
    const countFailure = () => {
      if (tally.succeeded.has(podUid) || tally.failed.has(podUid)) return;
      tally.failed.add(podUid);
      tally.lastFailureAt = this.clock.now();
    };
    if (e.type !== 'DELETED') {
      const restarts = (e.object.status?.containerStatuses ?? []).reduce((n: number, c: { restartCount?: number }) => n + (c.restartCount ?? 0), 0);
      if (restarts > (tally.restarts.get(podUid) ?? 0)) {
        tally.restarts.set(podUid, restarts);
        tally.lastFailureAt = this.clock.now();
      }
      if (e.object.status?.phase === 'Succeeded' && !tally.failed.has(podUid)) tally.succeeded.add(podUid);
      else if (e.object.status?.phase === 'Failed') countFailure();
    } else if (!isTerminal(e.old ?? e.object) && !settled) {
      // Deleted before it finished (evicted, node gone): lost, so it counts as failed.
      countFailure();
    }
    this.queue.add(`${job.metadata.namespace}/${job.metadata.name}`);
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const job = this.api.find(jobsT, ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const pods = this.api.store
      .dependentsOf(job.metadata.uid)
      .filter((d) => d.t === podsT && controllerRef(d.obj)?.uid === job.metadata.uid)
      .map((d) => d.obj);
    const plan = planJob(job, pods, this.tally(job.metadata.uid), this.clock.now());
    for (const pod of plan.deletePods) {
      try {
        this.api.delete(podsT, ns, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
      } catch {
        // already gone
      }
    }
    let created = 0;
    for (let i = 0; i < plan.createPods; i++) {
      try {
        this.api.create(podsT, ns, podFromTemplate(job));
        created++;
      } catch (e) {
        const msg = e instanceof StatusError ? e.message : String(e);
        this.api.recordEvent(job, 'Warning', 'FailedCreate', `Error creating: ${msg}`, 'job-controller');
        this.queue.addAfter(key, 10_000);
        break;
      }
    }
    if (created < plan.createPods) {
      plan.status.active = (plan.status.active ?? 0) - (plan.createPods - created);
      if (plan.status.active <= 0) delete plan.status.active;
    }
    this.api.mutate(jobsT, ns, name, (d) => {
      d.status = plan.status;
    });
    if (plan.failedReason) this.api.recordEvent(job, 'Warning', plan.failedReason.reason, plan.failedReason.message, 'job-controller');
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs);
  }
}

export function podFromTemplate(job: Stored): Stored {
  const tpl = job.spec.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace,
      labels: { ...(tpl.metadata?.labels ?? {}) },
      ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(tpl.spec),
  } as unknown as Stored;
}
