/** A `queued` workflow_job with a runs-fleet label, as stored in the jobs stream. */
export interface QueuedJob {
  jobId: number;
  runId: number;
  runAttempt: number;
  /** `owner/name` */
  repository: string;
  owner: string;
  repo: string;
  /** Present for organisation-owned repositories. */
  org: string | undefined;
  installationId: number;
  /** The job's runs-on labels, as GitHub sent them. */
  labels: string[];
  /** The parsed runs-fleet label (a RunnerRequest from runtime/labels), plain JSON. */
  request: unknown;
  deliveryId: string;
  workflowName: string | undefined;
  jobName: string | undefined;
  /** The job's commit, for a check run if the job cannot be served (absent on entries stored before it was kept). */
  headSha?: string;
  /** Epoch ms the webhook arrived / the job was appended. */
  receivedAt: number;
  enqueuedAt: number;
  /** Set when a sweep or the watcher queues the job again after infrastructure loss. */
  requeue?: { reason: string; count: number };
}

/** One stream entry handed to a consumer. */
export interface QueueEntry {
  id: string;
  job: QueuedJob;
  /** How many times the group has delivered this entry (1 on first read). */
  deliveries: number;
  /**
   * `dequeued`: read in the enqueue step itself (handed from the ingress to this replica's
   * consumer), which also marked its record dequeued — the job had not finished on GitHub then.
   */
  handedOff?: 'dequeued';
}

/** A free consumer slot offered to an enqueue: `take` receives the entry read for it, `done` always follows. */
export interface HandOff {
  take(entry: QueueEntry): void;
  done(): void;
}

export type EnqueueResult = { status: 'enqueued'; id: string } | { status: 'duplicate' };
