import assert from 'node:assert/strict';
import { TASK } from '../../runtime/controllers/lifecycle/start.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { eventually } from '../support/eventually.ts';
import { attempts, LABELS, leaderOf, lifecycleStack, metric, REPO, runnerPods, type LifecycleStack } from './support/stack.ts';

describe('lifecycle: runners lost to spot interruptions (sim cluster + GitHub double)', function () {
  this.timeout(30_000);
  let s: LifecycleStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  /** Waits until the job's runner pod runs it on GitHub, then interrupts that pod's spot node. */
  async function interruptWhileRunning(stack: LifecycleStack, jobId: number, runAttempt: number) {
    await eventually(() => stack.github.getJob(jobId)?.status, (st) => st === 'in_progress');
    const [pod] = await eventually(() => runnerPods(stack, `runner-${jobId}-${runAttempt}`), (p) => p.length === 1 && !!(p[0] as any).spec.nodeName);
    stack.sim.injectSpotInterruption((pod as any).spec.nodeName);
  }

  it('a running job whose spot node is interrupted is re-run exactly once, and both attempts are marked', async () => {
    // Attempt 1 runs "forever" (until interrupted); the re-run finishes quickly.
    s = await lifecycleStack({ agent: { runMs: (job) => (job.runAttempt === 1 ? 600_000 : 300), lostAfterMs: 200 } });
    const leader = await leaderOf(s);
    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    await interruptWhileRunning(s, job.id, 1);

    const [, rerun] = await eventually(() => attempts(s!, job.runId), (l) => l.length === 2 && l[1]!.status === 'completed');
    assert.equal(rerun!.runAttempt, 2);
    assert.equal(rerun!.conclusion, 'success', 'the re-run got a runner and finished');
    assert.equal(s.github.getJob(job.id)?.conclusion, 'failure', 'GitHub failed the lost attempt');

    const lost = await leader.records.get(job.id, 1);
    assert.deepEqual([lost?.status, lost?.failure, lost?.infraRetries], ['infra_rerun', 'spot_interruption', '1']);
    const marked = await eventually(() => leader.records.get(rerun!.id, 2), (r) => r?.infraRetries === '1');
    assert.equal(marked?.infraRetries, '1', 'the re-run attempt is marked as an infrastructure retry');

    // Level-triggered passes again (the failed runner Job is still cached): nothing more happens.
    await leader.lifecycle.watcher.reconcileAll();
    await leader.lifecycle.runNow(TASK.recovery);
    assert.equal(s.github.calls(ROUTES.rerunJob), 1);
    assert.equal(await metric(leader, 'runs_fleet_infra_retries_total', { action: 'rerun', kind: 'spot_interruption' }), 1);
    assert.equal(await metric(leader, 'runs_fleet_runner_failures_total', { kind: 'spot_interruption' }), 1);
  });

  it('with the re-runs used up, a second interruption of the same job is not re-run', async () => {
    s = await lifecycleStack({ agent: { runMs: () => 600_000, lostAfterMs: 200 } });
    const leader = await leaderOf(s);
    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    await interruptWhileRunning(s, job.id, 1);
    const [, rerun] = await eventually(() => attempts(s!, job.runId), (l) => l.length === 2);
    await interruptWhileRunning(s, rerun!.id, 2);

    await eventually(() => metric(leader, 'runs_fleet_recovery_outcomes_total', { outcome: 'exhausted' }), (n) => n === 1);
    await eventually(() => s!.github.getJob(rerun!.id)?.conclusion, (c) => c === 'failure');
    await leader.lifecycle.watcher.reconcileAll();
    await leader.lifecycle.runNow(TASK.recovery);
    assert.equal(s.github.calls(ROUTES.rerunJob), 1, 'maxInfraRetries is 1: no second re-run');
    assert.equal(attempts(s, job.runId).length, 2);
    assert.equal(await metric(leader, 'runs_fleet_runner_failures_total', { kind: 'spot_interruption' }), 2);
  });

  it('a runner lost before it took its job: GitHub still has the job queued, so it is provisioned again (marked), not re-run', async () => {
    // No runner agent: the runner pod runs but never takes the job, so GitHub keeps it queued.
    s = await lifecycleStack();
    const leader = await leaderOf(s);
    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    const [pod] = await eventually(() => runnerPods(s!, `runner-${job.id}-1`), (p) => p.length === 1 && (p[0] as any).status?.phase === 'Running');
    s.sim.injectSpotInterruption((pod as any).spec.nodeName);

    const replacement = await eventually(() => s!.sim.store.get('jobs', 'runs-fleet-runners', `runner-${job.id}-1-r1`), (j) => !!j);
    assert.match(String(replacement!.metadata.annotations?.['runs-fleet.io/infrastructure-retry']), /^1: spot_interruption/);
    const record = await leader.records.get(job.id, 1);
    assert.equal(record?.infraRetries, '1');
    assert.equal(s.github.calls(ROUTES.rerunJob), 0);
    assert.equal(await metric(leader, 'runs_fleet_infra_retries_total', { action: 'requeue', kind: 'spot_interruption' }), 1);
    await leader.lifecycle.watcher.reconcileAll();
    await leader.lifecycle.runNow(TASK.recovery);
    assert.equal(await metric(leader, 'runs_fleet_infra_retries_total', { action: 'requeue', kind: 'spot_interruption' }), 1, 'once');
  });

  it('a job that fails on its own (OOM) is never re-run', async () => {
    s = await lifecycleStack({ agent: { runMs: () => 600_000, lostAfterMs: 200 } });
    const leader = await leaderOf(s);
    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    await eventually(() => s!.github.getJob(job.id)?.status, (st) => st === 'in_progress');
    const [pod] = runnerPods(s, `runner-${job.id}-1`);
    s.sim.setPodOutcome({ name: pod!.metadata.name }, { type: 'oomKilled', container: 'runner' });
    await eventually(() => metric(leader, 'runs_fleet_runner_failures_total', { kind: 'oom' }), (n) => n === 1);
    await eventually(() => s!.github.getJob(job.id)?.conclusion, (c) => c === 'failure');
    await leader.lifecycle.runNow(TASK.recovery);
    assert.equal(s.github.calls(ROUTES.rerunJob), 0);
    assert.equal((await leader.records.get(job.id, 1))?.failure, 'oom');
  });
});
