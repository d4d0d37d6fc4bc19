import assert from 'node:assert/strict';
import type { HookDelivery } from '../../runtime/github/client.ts';
import type { JobRecord } from '../../runtime/queue/job-records.ts';
import { planOrphans, type OrphanObservation } from '../../runtime/controllers/sweeps/plan-orphans.ts';
import { planRedeliveries } from '../../runtime/controllers/sweeps/plan-redeliveries.ts';
import { planStaleQueued, type StaleQueuedInput } from '../../runtime/controllers/sweeps/plan-stale-queued.ts';
import { DEFAULT_SWEEPS } from '../../runtime/controllers/sweeps/settings.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const MIN = 60_000;

describe('stale queued plan (pure)', () => {
  const policy = { ...DEFAULT_SWEEPS.staleQueued, maxReprovisions: 2 };
  const record = (o: Partial<JobRecord> = {}): JobRecord => ({
    status: 'job_created', jobName: 'runner-7-1', runnerName: 'rf-small-7-1-aaaaaa', stages: { enqueuedAt: T0, dequeuedAt: T0 }, ...o,
  });
  const input = (o: Partial<StaleQueuedInput> = {}): StaleQueuedInput => ({
    createdAt: T0, jobId: 7, request: { marker: 'runs-fleet' }, record: record(), reprovisions: 0,
    runner: { state: 'ended' }, runnerTook: undefined, ...o,
  });
  const decide = (o: Partial<StaleQueuedInput> = {}, now = T0 + 10 * MIN) => planStaleQueued(input(o), now, policy);
  const why = (o: Partial<StaleQueuedInput> = {}, now?: number) => decide(o, now).why;

  it('lost webhook: no record at all → enqueue (once the job is old enough)', () => {
    assert.deepEqual(decide({ record: undefined }), { action: 'enqueue', why: 'lost_webhook' });
    assert.equal(why({ record: undefined }, T0 + policy.queuedTooLongMs - 1), 'young');
  });

  it('stolen runner: ours took another job → provision again', () => {
    assert.deepEqual(decide({ runner: { state: 'running', runningSince: T0 }, runnerTook: { jobId: 8, runAttempt: 1, repository: 'o/r' } }),
      { action: 'requeue', count: 1, why: 'runner_taken' });
    // Our runner took this very job (GitHub's listing lags): leave it.
    assert.equal(why({ runnerTook: { jobId: 7, runAttempt: 1, repository: 'o/r' } }), 'our_runner_took_it');
  });

  it('runner gone → provision again; pending → the watcher decides; running idle long → provision again', () => {
    assert.equal(why({ runner: { state: 'ended' } }), 'runner_gone');
    assert.equal(why({ runner: { state: 'none' } }), 'runner_gone');
    assert.equal(why({ runner: { state: 'pending' } }), 'runner_starting');
    assert.equal(why({ runner: { state: 'running', runningSince: T0 + 9 * MIN } }), 'runner_just_started');
    assert.equal(why({ runner: { state: 'running', runningSince: T0 } }), 'runner_idle');
  });

  it('bounded: no more than maxReprovisions', () => {
    assert.deepEqual(decide({ reprovisions: 1 }), { action: 'requeue', count: 2, why: 'runner_gone' });
    assert.equal(why({ reprovisions: 2 }), 'exhausted');
  });

  it('leaves jobs that are not ours, failed on their own, finished, or moving through our queue', () => {
    assert.equal(why({ request: null }), 'not_ours');
    assert.equal(why({ request: 'invalid' }), 'bad_labels');
    assert.equal(why({ record: record({ failure: 'image_pull' }) }), 'failed_on_its_own');
    assert.equal(decide({ record: record({ failure: 'spot_interruption' }) }).action, 'requeue');
    assert.equal(why({ record: record({ status: 'completed' }) }), 'record_completed');
    assert.equal(why({ record: record({ status: 'dequeued', stages: { enqueuedAt: T0 + 9 * MIN } }) }), 'in_our_queue');
    assert.equal(why({ record: record({ status: 'requeued' }), requeuedAt: T0 + 9 * MIN }), 'in_our_queue');
    assert.equal(why({ record: record({ status: 'queued', stages: { enqueuedAt: T0 } }) }, T0 + policy.stuckInQueueMs), 'stuck_in_queue');
  });
});

describe('orphan plan (pure)', () => {
  const policy = DEFAULT_SWEEPS.orphans;
  const target = { scope: 'org' as const, owner: 'o', installationId: 1 };
  const base = (o: Partial<OrphanObservation> = {}): OrphanObservation => ({
    secrets: [], jobs: [], runners: [], tookJob: new Set(), orphanSeen: new Map(), ...o,
  });

  it('a registered runner without a runner Job is removed only after being seen so for the confirm window', () => {
    const runners = [{ target, id: 5, name: 'rf-small-1-1-aaaaaa', busy: false, status: 'offline' }];
    const first = planOrphans(base({ runners }), T0, policy);
    assert.deepEqual(first.actions, []);
    assert.deepEqual([...first.orphanSeen], [['rf-small-1-1-aaaaaa', T0]]);
    const later = planOrphans(base({ runners, orphanSeen: first.orphanSeen }), T0 + policy.orphanConfirmMs, policy);
    assert.deepEqual(later.actions, [{ kind: 'delete_runner', target, id: 5, name: 'rf-small-1-1-aaaaaa', why: 'registered runner without a runner Job' }]);
  });

  it('busy runners and runners with a Job are never orphans; a runner that got its Job is forgotten', () => {
    const runners = [
      { target, id: 5, name: 'rf-a', busy: true, status: 'online' },
      { target, id: 6, name: 'rf-b', busy: false, status: 'online' },
    ];
    const jobs = [{ name: 'runner-2-1', createdAt: T0, runnerName: 'rf-b' }];
    const p = planOrphans(base({ runners, jobs, orphanSeen: new Map([['rf-b', T0 - 3_600_000]]) }), T0, policy);
    assert.deepEqual(p.actions, []);
    assert.equal(p.orphanSeen.size, 0);
  });

  it('an idle runner whose job went elsewhere is unregistered and its Job removed; one that took a job is not', () => {
    const runners = [{ target, id: 6, name: 'rf-b', busy: false, status: 'online' }];
    const jobs = [{ name: 'runner-2-1', createdAt: T0, runnerName: 'rf-b', runningSince: T0 }];
    const idle = planOrphans(base({ runners, jobs }), T0 + policy.idleRunnerMs, policy);
    assert.deepEqual(idle.actions.map((a) => a.kind), ['delete_idle_runner']);
    assert.deepEqual(planOrphans(base({ runners, jobs }), T0 + policy.idleRunnerMs - 1, policy).actions, []);
    assert.deepEqual(planOrphans(base({ runners, jobs, tookJob: new Set(['rf-b']) }), T0 + policy.idleRunnerMs, policy).actions, []);
  });

  it('Secrets without their Job (after a grace) and finished Jobs past their TTL are removed', () => {
    const p = planOrphans(base({
      secrets: [{ name: 'runner-1-1', createdAt: T0 }, { name: 'runner-2-1', createdAt: T0 }, { name: 'runner-3-1', createdAt: T0 + policy.finishedGraceMs - policy.secretGraceMs + 1 }],
      jobs: [{ name: 'runner-2-1', createdAt: T0, finishedAt: T0 }, { name: 'runner-4-1', createdAt: T0, finishedAt: T0 + 1 }],
    }), T0 + policy.finishedGraceMs, policy);
    assert.deepEqual(p.actions.map((a) => `${a.kind} ${a.name}`), ['delete_job runner-2-1', 'delete_secret runner-1-1']);
  });
});

describe('redelivery plan (pure)', () => {
  let id = 1;
  const d = (guid: string, statusCode: number, o: Partial<HookDelivery> = {}): HookDelivery => ({
    id: id++, guid, deliveredAt: new Date(T0 + id * 1000).toISOString(), redelivery: false, durationS: 0.1, status: statusCode ? 'OK' : 'failed',
    statusCode, event: 'workflow_job', action: 'queued', installationId: 1, repositoryId: 2, ...o,
  });
  const policy = DEFAULT_SWEEPS.redeliveries;

  it('redelivers the latest attempt of each failed guid, oldest first; a guid with any 2xx attempt is done', () => {
    const a1 = d('a', 503);
    const b1 = d('b', 0);
    const a2 = d('a', 502, { redelivery: true });
    const c1 = d('c', 500);
    const c2 = d('c', 202, { redelivery: true });
    const plan = planRedeliveries([c2, a2, c1, b1, a1], new Map(), policy);
    assert.deepEqual(plan.map((r) => [r.guid, r.id]), [['a', a2.id], ['b', b1.id]]);
  });

  it('each guid at most maxPerGuid times; other events ignored', () => {
    const plan = planRedeliveries([d('a', 503), d('p', 500, { event: 'push' })], new Map([['a', policy.maxPerGuid]]), policy);
    assert.deepEqual(plan, []);
  });
});
