import type { JobRecord } from '../../queue/job-records.ts';
import type { RunnerJob } from '../lifecycle/store.ts';
import { FAILURE_KINDS, isInfrastructure, type FailureKind } from '../watcher/classify.ts';
import type { RunnerState } from '../watcher/runner-watcher.ts';

export interface StaleQueuedPolicy {
  /** A job GitHub shows queued this long is looked at. */
  queuedTooLongMs: number;
  /** A job sitting in our own stream (or provisioned but not yet Created) this long is considered lost there. */
  stuckInQueueMs: number;
  maxReprovisions: number;
}

export interface StaleQueuedInput {
  /** GitHub: created_at of the job, epoch ms. */
  createdAt: number;
  jobId: number;
  /** The parsed runs-fleet request; null when the labels are not ours, 'invalid' when they are ours but bad. */
  request: unknown;
  record: JobRecord | undefined;
  reprovisions: number;
  /** State of the runner object the record names (record.jobName). */
  runner: RunnerState;
  /** The job our runner took, per in_progress events (record.runnerName → job). */
  runnerTook: RunnerJob | undefined;
  /** When the record entered our queue last (requeue time), if known. */
  requeuedAt?: number;
}

export type StaleDecision =
  | { action: 'enqueue'; why: 'lost_webhook' }
  | { action: 'requeue'; count: number; why: 'runner_taken' | 'runner_idle' | 'runner_gone' | 'stuck_in_queue' }
  | { action: 'skip'; why: string };

const IN_OUR_QUEUE = new Set(['queued', 'dequeued', 'requeued']);
const DONE = new Set(['completed', 'cancelled_cleaned', 'infra_rerun']);

/**
 * One job GitHub still shows queued: is it waiting for a runner that will never come?
 * Pure. The webhook stream is an accelerator; this level-triggered check is what makes a
 * lost webhook or a runner taken by another job end in a runner anyway.
 */
export function planStaleQueued(input: StaleQueuedInput, now: number, policy: StaleQueuedPolicy): StaleDecision {
  const { record, runner } = input;
  if (now - input.createdAt < policy.queuedTooLongMs) return skip('young');
  if (input.request === null || input.request === undefined) return skip('not_ours');
  if (input.request === 'invalid') return skip('bad_labels');
  if (!record) return { action: 'enqueue', why: 'lost_webhook' };
  if (record.failure && isKind(record.failure) && !isInfrastructure(record.failure)) return skip('failed_on_its_own');
  if (DONE.has(record.status ?? '')) return skip(`record_${record.status}`);
  if (input.runnerTook && input.runnerTook.jobId === input.jobId) return skip('our_runner_took_it');

  const requeue = (why: Extract<StaleDecision, { action: 'requeue' }>['why']): StaleDecision =>
    input.reprovisions >= policy.maxReprovisions ? skip('exhausted') : { action: 'requeue', count: input.reprovisions + 1, why };

  if (IN_OUR_QUEUE.has(record.status ?? '')) {
    const lastMove = Math.max(record.stages.enqueuedAt ?? 0, record.stages.dequeuedAt ?? 0, input.requeuedAt ?? 0);
    return now - lastMove < policy.stuckInQueueMs ? skip('in_our_queue') : requeue('stuck_in_queue');
  }
  if (input.runnerTook) return requeue('runner_taken');
  switch (runner.state) {
    case 'pending':
      // Pending runners are the watcher's: it removes them past the class limit.
      return skip('runner_starting');
    case 'running':
      // Online, idle, and GitHub still has a job with its labels queued: it is busy with a job we did not hear about.
      return now - (runner.runningSince ?? now) < policy.queuedTooLongMs ? skip('runner_just_started') : requeue('runner_idle');
    default:
      return requeue('runner_gone');
  }
}

const skip = (why: string): StaleDecision => ({ action: 'skip', why });
const isKind = (s: string): s is FailureKind => (FAILURE_KINDS as readonly string[]).includes(s);
