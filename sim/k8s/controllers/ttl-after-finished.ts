import type { Logger } from '../../../runtime/log.ts';
import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock } from '../clock.ts';
import { conditionTrue, findCondition } from '../model/pods.ts';
import { parseTime } from '../model/time.ts';
import { splitKey, WorkQueue } from './queue.ts';

const jobsT = resource('jobs');

/** When a finished Job is due for deletion; undefined while it runs or has no TTL. */
export function ttlDeadline(job: Stored): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (typeof ttl !== 'number') return undefined;
  const done = ['Complete', 'Failed'].find((c) => conditionTrue(job, c));
  if (!done) return undefined;
  const finishedAt = parseTime(job.status?.completionTime) ?? parseTime(findCondition(job, done)?.lastTransitionTime);
  return finishedAt === undefined ? undefined : finishedAt + ttl * 1000;
}

/** The TTL-after-finished controller: deletes finished Jobs (foreground, as the real one does) once their TTL passed. */
export class TtlAfterFinishedController {
  private readonly queue: WorkQueue;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    log: Logger,
  ) {
    this.queue = new WorkQueue(clock, 'ttl-after-finished', (key) => this.reconcile(key), log);
    this.off = api.store.onEvent((e) => {
      if (e.resource === jobsT && e.type !== 'DELETED' && e.object.spec?.ttlSecondsAfterFinished !== undefined)
        this.queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    });
  }

  stop(): void {
    this.off();
    this.queue.stop();
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const job = this.api.find(jobsT, ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const due = ttlDeadline(job);
    if (due === undefined) return;
    const wait = due - this.clock.now();
    if (wait > 0) return this.queue.addAfter(key, wait);
    this.api.delete(jobsT, ns, name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
  }
}
