import type { QueuedJob } from '../../runtime/queue/types.ts';

let next = 1000;

/** A queued job as the ingress would store it; override what a test cares about. */
export function queuedJob(overrides: Partial<QueuedJob> = {}): QueuedJob {
  const jobId = overrides.jobId ?? next++;
  return {
    jobId, runId: 9000 + jobId, runAttempt: 1, repository: 'octo-org/app', owner: 'octo-org', repo: 'app', org: 'octo-org',
    installationId: 42, labels: ['runs-fleet=1/runner=4cpu-linux-arm64'], request: { marker: 'runs-fleet=', spot: true, warnings: [] },
    deliveryId: `d-${jobId}`, workflowName: 'ci', jobName: 'build', receivedAt: 1, enqueuedAt: 2, ...overrides,
  };
}
