import type { Valkey } from 'iovalkey';
import type { ConfigDocument } from '../../config/document.ts';
import type { GitHubClient } from '../../github/client.ts';
import { errorReason } from '../../github/errors.ts';
import { echo } from '../../labels/bounds.ts';
import type { LabelError } from '../../labels/errors.ts';
import type { Logger } from '../../log.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import { queueKeys } from '../../queue/keys.ts';
import type { Clock } from '../../util/clock.ts';
import { rejectionCheckRun } from './check-run.ts';
import type { RejectionMetrics } from './metrics.ts';

/** The parts of a job a rejection needs; both a webhook event and a queued job have them. */
export interface RejectableJob {
  jobId: number;
  runId: number;
  runAttempt: number;
  repository: string;
  owner: string;
  repo: string;
  installationId: number | undefined;
  headSha: string | undefined;
  jobName: string | undefined;
  labels: readonly string[];
}

export interface RejectDeps {
  records: JobRecords;
  valkey: Valkey;
  prefix?: string;
  github: Pick<GitHubClient, 'createCheckRun' | 'cancelRun'>;
  doc: () => ConfigDocument;
  clock: Clock;
  log: Logger;
  metrics: RejectionMetrics;
}

/** How long the once-per-job-and-attempt check-run claim is kept: as long as a job record. */
const CLAIM_TTL_S = 7 * 86_400;

/**
 * A job runs-fleet will not serve: its record says so (`rejected` at the webhook,
 * `dead_lettered` when found in the queue) with the reason, at once.
 */
export async function recordRejection(job: RejectableJob, err: LabelError, status: 'rejected' | 'dead_lettered', deps: RejectDeps): Promise<void> {
  await deps.records.update(
    job.jobId, job.runAttempt,
    { status, failure: `${err.reason}: ${echo(err.detail, 500)}`, repository: job.repository },
    status === 'rejected' ? { receivedAt: deps.clock.now() } : {},
  );
}

/**
 * Tells the workflow author with a completed `action_required` check run on the job's
 * commit, once per job and attempt (a Valkey claim, released again if GitHub refuses so a
 * redelivery can try again). Never throws: the author's notice must not fail the webhook.
 */
export async function notifyAuthor(job: RejectableJob, err: LabelError, deps: RejectDeps): Promise<'created' | 'already' | 'skipped' | 'failed'> {
  const log = deps.log.child({ jobId: job.jobId, runAttempt: job.runAttempt, repository: job.repository });
  if (!job.headSha || job.installationId === undefined) {
    deps.metrics.checkRuns.inc({ outcome: 'skipped' });
    return 'skipped';
  }
  const claim = queueKeys(deps.prefix).checkRun(job.jobId, job.runAttempt);
  try {
    if ((await deps.valkey.set(claim, String(deps.clock.now()), 'EX', CLAIM_TTL_S, 'NX')) !== 'OK') return 'already';
    const text = rejectionCheckRun(job, err, deps.doc());
    await deps.github.createCheckRun({
      owner: job.owner, repo: job.repo, installationId: job.installationId, headSha: job.headSha, conclusion: 'action_required',
      externalId: `runs-fleet:${job.jobId}:${job.runAttempt}`, ...text,
    });
    deps.metrics.checkRuns.inc({ outcome: 'created' });
    log.info({ reason: err.reason }, 'check run created: the author is told why the job gets no runner');
    if (deps.doc().runner.cancelRejectedRuns) await cancelRun(job, deps, log);
    return 'created';
  } catch (e) {
    await deps.valkey.del(claim).catch(() => undefined);
    deps.metrics.checkRuns.inc({ outcome: 'failed' });
    log.warn({ reason: errorReason(e), err: { message: (e as Error).message } }, 'could not create the check run for a rejected job');
    return 'failed';
  }
}

/** runner.cancelRejectedRuns: the run ends now instead of waiting for GitHub's timeout. A failure is logged, never thrown. */
async function cancelRun(job: RejectableJob, deps: RejectDeps, log: Logger): Promise<void> {
  try {
    const cancelled = await deps.github.cancelRun({ owner: job.owner, repo: job.repo, installationId: job.installationId, runId: job.runId });
    log.info({ runId: job.runId, cancelled }, cancelled ? 'workflow run cancelled (runner.cancelRejectedRuns)' : 'workflow run already completed');
  } catch (e) {
    log.warn({ runId: job.runId, reason: errorReason(e), err: { message: (e as Error).message } }, 'could not cancel the workflow run of a rejected job');
  }
}
