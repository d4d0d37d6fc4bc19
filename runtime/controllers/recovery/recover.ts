import type { GitHubClient, WorkflowJob } from '../../github/client.ts';
import type { Logger } from '../../log.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import { backoffDelay } from '../../util/backoff.ts';
import type { Clock } from '../../util/clock.ts';
import { PermanentError } from '../../util/errors.ts';
import type { KnownRepo, LifecycleStore, LostRunner } from '../lifecycle/store.ts';
import { isInfrastructure } from '../watcher/classify.ts';
import type { RecoveryMetrics } from './metrics.ts';
import { planRecovery, type RecoveryPlan, type RecoveryPolicy } from './plan.ts';
import { queuedJobFromGitHub } from './queued-job.ts';

export type RecoveryGitHub = Pick<GitHubClient, 'getJob' | 'rerunJob' | 'listQueuedJobs'>;

export interface RecoveryDeps {
  store: LifecycleStore;
  records: JobRecords;
  github: RecoveryGitHub;
  /** The runs-fleet request for a job's labels (parseRunsOn with the current aliases); null when not ours. */
  classify: (labels: string[]) => unknown;
  policy: () => RecoveryPolicy;
  clock: Clock;
  log: Logger;
  metrics: RecoveryMetrics;
}

/** A lost runner is given up after this many passes that failed with errors (GitHub or Valkey down). */
const MAX_ERRORS = 8;
const ERROR_BACKOFF = { baseMs: 5_000, maxMs: 5 * 60_000 };

interface Target extends KnownRepo {
  jobId: number;
  runAttempt: number;
}

/**
 * Recovers lost runners that are due (leader only): up to `limit` per pass. Each item
 * ends (finished), or waits for GitHub (rescheduled with a growing delay, bounded by
 * policy.concludeWithinMs), or is retried after an error (bounded by MAX_ERRORS).
 */
export async function recoverDue(deps: RecoveryDeps, signal: AbortSignal, limit = 20): Promise<number> {
  const items = await deps.store.due(deps.clock.now(), limit);
  for (const item of items) {
    if (signal.aborted) break;
    await recoverOne(item, deps, signal);
  }
  deps.metrics.pending.set(await deps.store.pendingRecoveries());
  return items.length;
}

async function recoverOne(item: LostRunner, deps: RecoveryDeps, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ runner: item.objectName, jobId: item.jobId, runAttempt: item.runAttempt, kind: item.kind });
  try {
    let waitUntil: number | undefined;
    for (const target of await targetsOf(item, deps)) {
      if (signal.aborted) return;
      const retryAt = await recoverJob(item, target, deps, signal, log);
      if (retryAt !== undefined) waitUntil = Math.min(waitUntil ?? retryAt, retryAt);
    }
    if (waitUntil !== undefined) await deps.store.reschedule({ ...item, checks: (item.checks ?? 0) + 1 }, waitUntil);
    else await deps.store.finish(item);
  } catch (err) {
    if (signal.aborted) return;
    const errors = (item.errors ?? 0) + 1;
    if (errors >= MAX_ERRORS) {
      deps.metrics.outcomes.inc({ outcome: 'errors' });
      log.error({ err: { message: (err as Error).message }, errors }, 'recovery gave up after repeated errors');
      await deps.store.finish({ ...item, errors }).catch(() => {});
      return;
    }
    log.warn({ err: { message: (err as Error).message }, errors }, 'recovery failed; will try again');
    await deps.store.reschedule({ ...item, errors }, deps.clock.now() + backoffDelay(errors, ERROR_BACKOFF)).catch(() => {});
  }
}

/**
 * The jobs a lost runner affects: the one it was provisioned for and, when GitHub gave it
 * another job with the same labels (in_progress events tell us), that one too, first.
 */
async function targetsOf(item: LostRunner, deps: RecoveryDeps): Promise<Target[]> {
  const own = await targetFor(item.jobId, item.runAttempt, undefined, deps);
  const took = item.runnerName ? await deps.store.runnerJob(item.runnerName) : undefined;
  const other = took && (took.jobId !== item.jobId || took.runAttempt !== item.runAttempt)
    ? await targetFor(took.jobId, took.runAttempt, { repository: took.repository, fallback: own }, deps)
    : undefined;
  return [other, own].filter((t): t is Target => t !== undefined);
}

async function targetFor(
  jobId: number, runAttempt: number, hint: { repository: string; fallback: Target | undefined } | undefined, deps: RecoveryDeps,
): Promise<Target | undefined> {
  const record = await deps.records.get(jobId, runAttempt);
  const repository = record?.repository ?? hint?.repository;
  const installationId = Number(record?.installationId ?? hint?.fallback?.installationId);
  if (!repository || !Number.isSafeInteger(installationId)) return undefined;
  const org = record?.scope ? record.scope === 'org' : (hint?.fallback?.org ?? false);
  return { jobId, runAttempt, repository, installationId, org };
}

/** Plans and acts for one job; returns when to look again if GitHub has not concluded yet. */
async function recoverJob(item: LostRunner, t: Target, deps: RecoveryDeps, signal: AbortSignal, log: Logger): Promise<number | undefined> {
  const [owner = '', repo = ''] = t.repository.split('/');
  const gh = await getJob(deps, { owner, repo, jobId: t.jobId, installationId: t.installationId }, signal);
  const lineage = gh ? deps.store.keys.lineage(t.repository, gh.runId, gh.name) : undefined;
  const policy = deps.policy();
  const plan = planRecovery(
    {
      failure: { kind: item.kind, infrastructure: isInfrastructure(item.kind) },
      github: gh, ourRunner: item.runnerName,
      reprovisions: await deps.store.reprovisions(t.jobId, t.runAttempt),
      reruns: lineage ? await deps.store.reruns(lineage) : 0,
      lostAt: item.lostAt, now: deps.clock.now(), checks: item.checks ?? 0,
    },
    policy,
  );
  const jobLog = log.child({ target: t.jobId, targetAttempt: t.runAttempt, action: plan.action });
  switch (plan.action) {
    case 'wait':
      jobLog.info({ why: plan.why, retryAt: new Date(plan.retryAt).toISOString() }, 'waiting for GitHub to conclude the lost job');
      return plan.retryAt;
    case 'none':
      deps.metrics.outcomes.inc({ outcome: plan.outcome });
      jobLog.info({ outcome: plan.outcome, why: plan.why }, 'lost runner: no retry');
      return undefined;
    case 'requeue':
      await requeue(item, t, gh!, plan, deps, jobLog);
      return undefined;
    case 'rerun':
      await rerun(item, t, gh!, lineage!, plan, deps, signal, jobLog);
      return undefined;
  }
}

async function requeue(item: LostRunner, t: Target, gh: WorkflowJob, plan: Extract<RecoveryPlan, { action: 'requeue' }>, deps: RecoveryDeps, log: Logger): Promise<void> {
  let request: unknown;
  try {
    request = deps.classify(gh.labels);
  } catch {
    request = null;
  }
  if (!request) {
    deps.metrics.outcomes.inc({ outcome: 'not_ours' });
    log.warn({ labels: gh.labels }, 'lost job no longer has a valid runs-fleet label; not provisioned again');
    return;
  }
  const job = queuedJobFromGitHub(gh, t, request, deps.clock.now(), { reason: item.kind, count: plan.count });
  const claim = await deps.store.claimRequeue(job, item.objectName, plan.count - 1, deps.policy().maxReprovisions);
  if (claim !== 'queued') {
    log.info({ claim }, 'provisioning again was already done (or the bound was reached meanwhile)');
    return;
  }
  deps.metrics.infraRetries.inc({ action: 'requeue', kind: item.kind });
  log.warn({ count: plan.count, max: deps.policy().maxReprovisions, why: plan.why }, 'job provisioned again after infrastructure loss');
}

async function rerun(
  item: LostRunner, t: Target, gh: WorkflowJob, lineage: string, plan: Extract<RecoveryPlan, { action: 'rerun' }>,
  deps: RecoveryDeps, signal: AbortSignal, log: Logger,
): Promise<void> {
  const max = deps.policy().maxInfraRetries;
  const claim = await deps.store.claimRerun(lineage, item.objectName, t.jobId, t.runAttempt, max, item.kind);
  if (claim.state === 'done') return;
  if (claim.state === 'exhausted') {
    deps.metrics.outcomes.inc({ outcome: 'exhausted' });
    log.info({ reruns: claim.count, max }, 'infrastructure re-runs exhausted');
    return;
  }
  const [owner = '', repo = ''] = t.repository.split('/');
  // Reserved by a pass that stopped before GitHub answered: do not re-run a second time if it already happened.
  if (claim.state === 'claimed' && (await rerunExists(deps, owner, repo, gh, t.installationId, signal))) {
    await deps.store.finishRerun(item.objectName, t.jobId, t.runAttempt);
    return;
  }
  try {
    await deps.github.rerunJob({ owner, repo, jobId: t.jobId, installationId: t.installationId }, { signal });
  } catch (err) {
    if (!(err instanceof PermanentError)) throw err;
    // GitHub refuses (e.g. the run is running again already): nothing more to do.
    await deps.store.finishRerun(item.objectName, t.jobId, t.runAttempt);
    deps.metrics.outcomes.inc({ outcome: 'rerun_refused' });
    log.warn({ reason: err.reason, err: { message: err.message } }, 'GitHub refused the infrastructure re-run');
    return;
  }
  await deps.store.finishRerun(item.objectName, t.jobId, t.runAttempt);
  await deps.records.update(t.jobId, t.runAttempt, { status: 'infra_rerun', failure: item.kind, infraRetries: String(claim.count) });
  deps.metrics.infraRetries.inc({ action: 'rerun', kind: item.kind });
  log.warn({ infraRetry: claim.count, max, why: plan.why, run: gh.runId, job: gh.name }, 'job re-run through GitHub as an infrastructure retry');
}

async function getJob(deps: RecoveryDeps, target: { owner: string; repo: string; jobId: number; installationId: number }, signal: AbortSignal) {
  try {
    return await deps.github.getJob(target, { signal });
  } catch (err) {
    if (err instanceof PermanentError && err.reason === 'github_not_found') return undefined;
    throw err;
  }
}

async function rerunExists(deps: RecoveryDeps, owner: string, repo: string, gh: WorkflowJob, installationId: number, signal: AbortSignal): Promise<boolean> {
  const queued = await deps.github.listQueuedJobs(owner, repo, { installationId, signal });
  return queued.some((j) => j.runId === gh.runId && j.name === gh.name && j.runAttempt > gh.runAttempt);
}
