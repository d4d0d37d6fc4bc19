import type { WorkflowJobEvent } from '../../ingress/payload.ts';
import { LabelError } from '../../labels/errors.ts';
import type { QueuedJob } from '../../queue/types.ts';
import { notifyAuthor, recordRejection, type RejectableJob, type RejectDeps } from './reject.ts';

export interface Rejections {
  /** For the ingress: record at once (awaited), tell the author in the background. */
  onRejected(job: WorkflowJobEvent, err: LabelError): Promise<void>;
  /** For the consumer: a queued job failed permanently on its labels (the config changed since it was accepted). */
  onPermanent(job: QueuedJob, err: unknown): void;
  /** Resolves when every notice in flight has settled (shutdown, tests). */
  settled(): Promise<void>;
}

/** Rejected jobs: the record says so and the author gets one check run, while the webhook answer does not wait for GitHub. */
export function createRejections(deps: RejectDeps): Rejections {
  const inFlight = new Set<Promise<unknown>>();
  const background = (p: Promise<unknown>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  return {
    async onRejected(job, err) {
      await recordRejection(job, err, 'rejected', deps);
      background(notifyAuthor(job, err, deps));
    },
    onPermanent(job, err) {
      if (err instanceof LabelError) background(notifyAuthor(fromQueued(job), err, deps));
    },
    async settled() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

function fromQueued(job: QueuedJob): RejectableJob {
  return { ...job, headSha: job.headSha };
}
