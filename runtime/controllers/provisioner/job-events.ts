import type { GitHubClient } from '../../github/client.ts';
import type { WorkflowJobEvent } from '../../ingress/payload.ts';
import { isNotFound, type KubeClients } from '../../k8s/client.ts';
import type { Logger } from '../../log.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { Clock } from '../../util/clock.ts';

/** What cleanup needs from GitHub: removing a registered runner that will never run. */
export type RunnerRemover = Pick<GitHubClient, 'deleteRunner'>;

export interface JobEventDeps {
  kube: Pick<KubeClients, 'batch'>;
  github: RunnerRemover;
  records: JobRecords;
  namespace: string;
  clock: Clock;
  log: Logger;
}

/**
 * in_progress / completed for a job runs-fleet provisioned: stamp the record (the runner
 * GitHub actually picked, times), and when a job is cancelled before any runner took it,
 * delete its runner Job and its registered runner instead of letting them idle.
 * Events for jobs without a record are not ours and are ignored.
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
  await deps.records.update(event.jobId, event.runAttempt, { status: 'completed', conclusion: event.conclusion ?? 'unknown' }, {});
  await deps.records.stampOnce(event.jobId, event.runAttempt, 'finishedAt', now);
  const neverStarted = !event.runnerName && !record.stages.inProgressAt;
  if (event.conclusion !== 'cancelled' || !neverStarted) return;

  if (record.jobName) {
    try {
      await deps.kube.batch.deleteNamespacedJob({ name: record.jobName, namespace: deps.namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (record.runnerId && record.installationId) {
    const org = record.scope === 'org';
    await deps.github.deleteRunner({
      scope: org ? 'org' : 'repo', owner: event.owner, repo: event.repo,
      installationId: Number(record.installationId), runnerId: Number(record.runnerId),
    });
  }
  await deps.records.update(event.jobId, event.runAttempt, { status: 'cancelled_cleaned' }, {});
  log.info({ jobName: record.jobName, runnerName: record.runnerName }, 'job cancelled before it started: runner removed');
}
