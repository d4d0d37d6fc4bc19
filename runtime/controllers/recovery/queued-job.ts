import type { WorkflowJob } from '../../github/client.ts';
import type { QueuedJob } from '../../queue/types.ts';
import type { KnownRepo } from '../lifecycle/store.ts';

/**
 * Rebuilds the queue entry of a job from GitHub's view of it, for jobs whose webhook never
 * arrived and for jobs provisioned again (the original entry may long be trimmed). `request`
 * is the parsed runs-fleet label, exactly as the ingress would have stored it.
 */
export function queuedJobFromGitHub(
  gh: WorkflowJob, repo: KnownRepo, request: unknown, now: number, requeue?: QueuedJob['requeue'],
): QueuedJob {
  const [owner = '', name = ''] = repo.repository.split('/');
  return {
    jobId: gh.id, runId: gh.runId, runAttempt: gh.runAttempt, repository: repo.repository, owner, repo: name,
    org: repo.org ? owner : undefined, installationId: repo.installationId, labels: gh.labels, request,
    // Not a webhook delivery: say where the entry came from instead.
    deliveryId: requeue ? `requeue-${requeue.count}` : 'sweep',
    workflowName: gh.workflowName ?? undefined, jobName: gh.name || undefined,
    receivedAt: now, enqueuedAt: now, ...(requeue ? { requeue } : {}),
  };
}
