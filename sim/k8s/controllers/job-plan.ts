import type { Stored } from '../api/types.ts';
import { conditionTrue, findCondition, isTerminal, setCondition } from '../model/pods.ts';
import { isoSeconds, parseTime } from '../model/time.ts';

export interface JobTally {
  succeeded: Set<string>;
  failed: Set<string>;
  /** Container restarts per pod (restartPolicy OnFailure): they count against backoffLimit too. */
  restarts: Map<string, number>;
  lastFailureAt?: number;
}

export interface JobPlan {
  status: any;
  createPods: number;
  deletePods: Stored[];
  requeueAfterMs?: number;
  /** A terminal reason reached in this pass, for a Warning event. */
  failedReason?: { reason: string; message: string };
}

const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 360_000;

export function isJobFinished(job: Stored): boolean {
  return conditionTrue(job, 'Complete') || conditionTrue(job, 'Failed');
}

/**
 * The Job controller's decision for one Job, pure: which pods to create or delete and the
 * status to write. Follows 1.31+: FailureTarget / SuccessCriteriaMet first, then Failed /
 * Complete once no pod of the Job is still running or terminating.
 */
export function planJob(job: Stored, pods: Stored[], tally: JobTally, now: number): JobPlan {
  const spec = job.spec;
  const status = structuredClone(job.status ?? {});
  const time = isoSeconds(now);
  const plan: JobPlan = { status, createPods: 0, deletePods: [] };
  if (isJobFinished(job)) return plan;

  const active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  const terminating = pods.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp);
  const succeeded = tally.succeeded.size;
  const failedPods = tally.failed.size;
  let failed = failedPods;
  for (const n of tally.restarts.values()) failed += n;

  if (spec.suspend) {
    plan.deletePods = active;
    setCondition(status, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, time, { lastProbeTime: time });
    return finishStatus(plan, active, terminating, succeeded, failedPods);
  }
  if (findCondition(job, 'Suspended')?.status === 'True')
    setCondition(status, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, time, { lastProbeTime: time });
  status.startTime ??= time;
  const startedAt = parseTime(status.startTime) ?? now;
  const deadlineAt = typeof spec.activeDeadlineSeconds === 'number' ? startedAt + spec.activeDeadlineSeconds * 1000 : undefined;

  const has = (type: string) => (status.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
  if (!has('FailureTarget') && !has('SuccessCriteriaMet')) {
    const completions: number | undefined = spec.completions ?? undefined;
    const backoffLimit: number = spec.backoffLimit ?? 6;
    let target: { type: string; reason: string; message: string } | undefined;
    if (failed > backoffLimit) target = { type: 'FailureTarget', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (deadlineAt !== undefined && now >= deadlineAt) target = { type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0)
      target = { type: 'SuccessCriteriaMet', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    if (target) {
      setCondition(status, { type: target.type, status: 'True', reason: target.reason, message: target.message }, time, { lastProbeTime: time });
      if (target.type === 'FailureTarget') plan.failedReason = { reason: target.reason, message: target.message };
    }
  }

  const failure = (status.conditions ?? []).find((c: { type: string; status: string }) => c.type === 'FailureTarget' && c.status === 'True');
  if (failure || has('SuccessCriteriaMet')) {
    plan.deletePods = active;
    if (active.length === 0 && terminating.length === 0) {
      if (failure) setCondition(status, { type: 'Failed', status: 'True', reason: failure.reason, message: failure.message }, time, { lastProbeTime: time });
      else {
        setCondition(status, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, time, { lastProbeTime: time });
        status.completionTime = time;
      }
    }
    return finishStatus(plan, active, terminating, succeeded, failedPods);
  }

  const parallelism: number = spec.parallelism ?? 1;
  const remaining = spec.completions !== undefined && spec.completions !== null ? spec.completions - succeeded : parallelism;
  const want = Math.max(0, Math.min(parallelism, remaining));
  const have = active.length + (spec.podReplacementPolicy === 'Failed' ? terminating.length : 0);
  if (want > have) {
    const readyAt = failed > 0 && tally.lastFailureAt !== undefined ? tally.lastFailureAt + Math.min(BACKOFF_BASE_MS * 2 ** (failed - 1), BACKOFF_MAX_MS) : now;
    if (readyAt > now) plan.requeueAfterMs = readyAt - now;
    else plan.createPods = want - have;
  } else if (want < have) {
    plan.deletePods = [...active].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')).slice(0, have - want);
  }
  if (deadlineAt !== undefined) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(1, deadlineAt - now));
  return finishStatus(plan, active, terminating, succeeded, failedPods);
}

function finishStatus(plan: JobPlan, active: Stored[], terminating: Stored[], succeeded: number, failed: number): JobPlan {
  const s = plan.status;
  const stillActive = active.length - plan.deletePods.length + plan.createPods;
  setCount(s, 'active', stillActive);
  setCount(s, 'succeeded', succeeded);
  setCount(s, 'failed', failed);
  s.ready = active.filter((p) => !plan.deletePods.includes(p) && conditionTrue(p, 'Ready')).length;
  s.terminating = terminating.length + plan.deletePods.length;
  s.uncountedTerminatedPods ??= {};
  return plan;
}

function setCount(s: Record<string, unknown>, k: string, n: number): void {
  if (n > 0) s[k] = n;
  else delete s[k];
}
