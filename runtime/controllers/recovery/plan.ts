import type { FailureKind } from '../watcher/classify.ts';

/** Every recovery is bounded: by count per job, and by how long we wait for GitHub to conclude. */
export interface RecoveryPolicy {
  /** Re-runs through GitHub per job (across its attempts) after it failed mid-run on lost infrastructure. */
  maxInfraRetries: number;
  /** New runners for one job attempt that GitHub still shows queued. */
  maxReprovisions: number;
  /** How long after the loss we keep waiting for GitHub to mark a job that was running as failed. */
  concludeWithinMs: number;
  /** First re-check while GitHub still shows the lost job in progress (doubles, capped). */
  recheckMs: number;
  recheckMaxMs: number;
}

export const DEFAULT_POLICY: RecoveryPolicy = {
  maxInfraRetries: 1, maxReprovisions: 2, concludeWithinMs: 30 * 60_000, recheckMs: 15_000, recheckMaxMs: 5 * 60_000,
};

/** GitHub's view of the job (client `WorkflowJob`, narrowed). */
export interface GitHubJobView {
  status: string;
  conclusion: string | null;
  runnerName: string | null;
}

export interface RecoveryInput {
  failure: { kind: FailureKind; infrastructure: boolean };
  /** Undefined when GitHub no longer knows the job (deleted run). */
  github: GitHubJobView | undefined;
  /** Our runner that was lost. */
  ourRunner: string | undefined;
  /** New runners already provisioned for this job attempt. */
  reprovisions: number;
  /** Infrastructure re-runs already made for this job (its lineage across attempts). */
  reruns: number;
  lostAt: number;
  now: number;
  /** Re-checks done so far while waiting for GitHub. */
  checks: number;
}

export type RecoveryOutcome = 'own_failure' | 'gone' | 'exhausted' | 'taken_by_other' | 'succeeded' | 'cancelled' | 'gave_up';

export type RecoveryPlan =
  | { action: 'requeue'; count: number; why: string }
  | { action: 'rerun'; count: number; why: string }
  | { action: 'wait'; retryAt: number; why: string }
  | { action: 'none'; outcome: RecoveryOutcome; why: string };

/** GitHub's conclusion for a job whose runner vanished mid-run ("lost communication with the server"). */
const LOST_MID_RUN = new Set(['failure']);

/**
 * What to do for one job after its runner was lost. Pure. A job that failed on its own is
 * never retried; a lost one is provisioned again while GitHub still has it queued, or re-run
 * once GitHub has marked it failed, each within its bound.
 */
export function planRecovery(input: RecoveryInput, policy: RecoveryPolicy): RecoveryPlan {
  const { failure, github: gh, ourRunner } = input;
  if (!failure.infrastructure) return none('own_failure', `${failure.kind} is the job's own failure: never retried`);
  if (!gh) return none('gone', 'GitHub no longer has the job');
  const elsewhere = !!gh.runnerName && !!ourRunner && gh.runnerName !== ourRunner;

  if (gh.status === 'queued' || gh.status === 'waiting' || gh.status === 'pending') {
    if (input.reprovisions >= policy.maxReprovisions)
      return none('exhausted', `already provisioned again ${input.reprovisions} time(s) (maxReprovisions ${policy.maxReprovisions})`);
    return { action: 'requeue', count: input.reprovisions + 1, why: `GitHub still has the job queued after ${failure.kind}` };
  }
  if (elsewhere) return none('taken_by_other', `runner ${gh.runnerName} took the job, not ours`);
  if (gh.status !== 'completed') {
    if (input.now - input.lostAt >= policy.concludeWithinMs) return none('gave_up', `GitHub did not conclude the job within ${policy.concludeWithinMs / 60_000} min`);
    const delay = Math.min(policy.recheckMaxMs, policy.recheckMs * 2 ** input.checks);
    return { action: 'wait', retryAt: input.now + delay, why: `GitHub shows the job ${gh.status}; waiting for it to fail` };
  }
  if (gh.conclusion === 'cancelled') return none('cancelled', 'the job was cancelled');
  if (!LOST_MID_RUN.has(gh.conclusion ?? '')) return none('succeeded', `the job concluded ${gh.conclusion ?? 'without a conclusion'}`);
  if (input.reruns >= policy.maxInfraRetries)
    return none('exhausted', `already re-run ${input.reruns} time(s) for infrastructure (maxInfraRetries ${policy.maxInfraRetries})`);
  return { action: 'rerun', count: input.reruns + 1, why: `failed mid-run after ${failure.kind}` };
}

const none = (outcome: RecoveryOutcome, why: string): RecoveryPlan => ({ action: 'none', outcome, why });
