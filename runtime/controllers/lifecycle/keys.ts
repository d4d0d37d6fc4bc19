/**
 * Valkey keys of the lifecycle controllers (watcher, recovery, sweeps). They share the
 * queue's `{prefix}` hash tag, so the Lua steps that touch a job record and the jobs
 * stream together stay in one Valkey Cluster slot.
 */
export interface LifecycleKeys {
  /** Once-only marker of one observation or action on one runner object. */
  mark(objectName: string, what: string): string;
  /** Lost runners waiting for recovery: zset, member objectName, score due ms. */
  recoveryDue: string;
  /** One lost runner's recovery item (JSON); kept after it finished, as a tombstone. */
  recoveryItem(objectName: string): string;
  /** Marker of one recovery action for one job, from one cause. */
  acted(cause: string, jobId: number, runAttempt: number): string;
  /** Infrastructure re-runs of one job across its attempts. */
  lineage(repository: string, runId: number, jobName: string): string;
  /** The job a GitHub runner took (from in_progress events). */
  runnerJob(runnerName: string): string;
  /** Repositories with runs-fleet jobs: zset member JSON {repository, installationId, org}, score last seen ms. */
  repos: string;
  /** Registered runners first seen without a runner Job: hash runner name → ms. */
  orphanSeen: string;
  /** Webhook deliveries already redelivered: hash guid → count. */
  redelivered: string;
  /** One failed delivery attempt whose redelivery was asked for. */
  redeliveryClaim(attemptId: number): string;
  /** Redelivery sweep: the time up to which deliveries were checked. */
  redeliveryCursor: string;
  /** Action budget of one sweep in one window. */
  budget(sweep: string, window: number): string;
}

export function lifecycleKeys(prefix = 'runs-fleet'): LifecycleKeys {
  const p = `{${prefix}}:lifecycle`;
  return {
    mark: (objectName, what) => `${p}:mark:${objectName}:${what}`,
    recoveryDue: `${p}:recovery:due`,
    recoveryItem: (objectName) => `${p}:recovery:item:${objectName}`,
    acted: (cause, jobId, runAttempt) => `${p}:acted:${cause}:${jobId}:${runAttempt}`,
    lineage: (repository, runId, jobName) => `${p}:lineage:${repository.toLowerCase()}:${runId}:${jobName}`,
    runnerJob: (runnerName) => `${p}:runner:${runnerName}`,
    repos: `${p}:repos`,
    orphanSeen: `${p}:orphan-seen`,
    redelivered: `${p}:redelivered`,
    redeliveryClaim: (attemptId) => `${p}:redelivery:${attemptId}`,
    redeliveryCursor: `${p}:redelivery-cursor`,
    budget: (sweep, window) => `${p}:budget:${sweep}:${window}`,
  };
}
