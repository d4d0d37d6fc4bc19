import type { GitHubClient } from '../../github/client.ts';
import type { WorkflowJobEvent } from '../../ingress/payload.ts';
import type { KubeClients } from '../../k8s/client.ts';
import type { Logger } from '../../log.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { Clock } from '../../util/clock.ts';
import { removeRunnerObjects } from './teardown.ts';

/** What cleanup needs from GitHub: removing a registered runner that will never run. */
export type RunnerRemover = Pick<GitHubClient, 'deleteRunner'>;

export interface JobEventDeps {
  kube: Pick<KubeClients, 'batch' | 'core'>;
  github: RunnerRemover;
  records: JobRecords;
  namespace: string;
  clock: Clock;
  log: Logger;
}

/**
 * in_progress / completed for a job runs-fleet provisioned: stamp the record (the runner
 * GitHub actually picked, times), and when a job is cancelled before any runner took it,
 * delete its runner Job, Secret and registered runner instead of letting them idle.
 * Events for jobs without a record are not ours and are ignored.
 *
 * Cancellation can land while provisioning is in flight. `completedOnGitHubAt` is written
 * first and the record read again after it; provisioning writes what it made before making
 * it and checks `completedOnGitHubAt` after (JobRecords.updateUnlessFinished). So whichever comes second
 * sees the other and removes the objects: nothing is left behind at any stage.
 */
export async function handleJobEvent(event: WorkflowJobEvent, deps: JobEventDeps): Promise<void> {
  const record = await deps.records.get(event.jobId, event.runAttempt);
  if (!record) return;
  const now = deps.clock.now();
  const log = deps.log.child({ jobId: event.jobId, runAttempt: event.runAttempt, repository: event.repository });
  if (event.action === 'in_progress') {
    await deps.records.update(event.jobId, event.runAttempt, { status: 'in_progress', pickedBy: event.runnerName }, {});
    await deps.records.stampOnce(event.jobId, event.runAttempt, 'inProgressAt', now);
    if (event.runnerName && record.runnerName && event.runnerName !== record.runnerName)
      log.info({ ours: record.runnerName, pickedBy: event.runnerName }, 'job picked up by another runner; ours stays free for another job with the same labels');
    return;
  }
  if (event.action !== 'completed') return;
  await deps.records.update(event.jobId, event.runAttempt, { completedOnGitHubAt: String(now), status: 'completed', conclusion: event.conclusion ?? 'unknown' }, {});
  await deps.records.stampOnce(event.jobId, event.runAttempt, 'finishedAt', now);
  const neverStarted = !event.runnerName && !record.stages.inProgressAt;
  if (event.conclusion !== 'cancelled' || !neverStarted) return;

  // Read after the stamp: whatever provisioning recorded before it is ours to remove.
  const made = (await deps.records.get(event.jobId, event.runAttempt)) ?? record;
  await removeRunnerObjects(
    {
      jobName: made.jobName, runnerId: made.runnerId ? Number(made.runnerId) : undefined, scope: made.scope === 'org' ? 'org' : 'repo',
      owner: event.owner, repo: event.repo, installationId: made.installationId ? Number(made.installationId) : undefined,
    },
    { kube: deps.kube, github: deps.github, namespace: deps.namespace },
  );
  await deps.records.update(event.jobId, event.runAttempt, { status: 'cancelled_cleaned' }, {});
  log.info({ jobName: made.jobName, runnerName: made.runnerName }, 'job cancelled before it started: runner removed');
}
