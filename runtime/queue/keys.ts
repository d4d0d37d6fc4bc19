/** Every Valkey key runs-fleet uses, built in one place. */
export interface QueueKeys {
  jobs: string;
  deadLetter: string;
  group: string;
  /** Sorted set: consumer name → its last heartbeat (Valkey ms); see liveness.ts. */
  consumers: string;
  dedupe(jobId: number, runAttempt: number): string;
  record(jobId: number, runAttempt: number): string;
  /** Claimed (SET NX) by whoever creates the check run telling the author a job is not served: once per job and attempt. */
  checkRun(jobId: number, runAttempt: number): string;
}

export function queueKeys(prefix = 'runs-fleet'): QueueKeys {
  // The hash tag {prefix} keeps every key of one deployment in one Valkey Cluster slot,
  // which the multi-key Lua scripts require.
  const p = `{${prefix}}`;
  return {
    jobs: `${p}:jobs`,
    deadLetter: `${p}:jobs:dead`,
    group: 'orchestrator',
    consumers: `${p}:consumers`,
    dedupe: (jobId, runAttempt) => `${p}:dedupe:${jobId}:${runAttempt}`,
    record: (jobId, runAttempt) => `${p}:job:${jobId}:${runAttempt}`,
    checkRun: (jobId, runAttempt) => `${p}:checkrun:${jobId}:${runAttempt}`,
  };
}
