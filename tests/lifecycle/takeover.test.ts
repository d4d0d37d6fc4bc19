import assert from 'node:assert/strict';
import { TASK } from '../../runtime/controllers/lifecycle/start.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { SYSTEM_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { startReplicaProcess, type ReplicaProcess } from './support/replica-process.ts';
import { attempts, FAST_LIFECYCLE, LABELS, leaderOf, lifecycleStack, metric, REPO, runnerJobs, runnerPods, type LifecycleStack } from './support/stack.ts';

const LEASE = 'runs-fleet-leader';

describe('lifecycle: leader handover between orchestrator replicas', function () {
  this.timeout(60_000);
  let s: LifecycleStack | undefined;
  let doomed: ReplicaProcess | undefined;
  afterEach(async () => {
    await doomed?.kill();
    await s?.stop();
    s = undefined;
    doomed = undefined;
  });

  const lease = (stack: LifecycleStack) => stack.sim.store.get('leases', SYSTEM_NAMESPACE, LEASE) as { spec: Record<string, any> } | undefined;

  it('the leader process is killed while a lost runner is being recovered: another replica takes over and the job is re-run exactly once', async () => {
    s = await lifecycleStack({ replicas: 0, agent: { runMs: (job) => (job.runAttempt === 1 ? 600_000 : 300), lostAfterMs: 300 } });
    doomed = await startReplicaProcess(s, 'orchestrator-doomed');
    await eventually(() => lease(s!)?.spec.holderIdentity, (h) => h === 'orchestrator-doomed', 15_000);
    const survivor = await s.addReplica(); // GitHub delivers to it; it follows
    assert.equal(survivor.lifecycle.isLeader(), false);

    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    await eventually(() => s!.github.getJob(job.id)?.status, (st) => st === 'in_progress');
    const [pod] = runnerPods(s, `runner-${job.id}-1`);
    s.sim.injectSpotInterruption((pod as any).spec.nodeName);
    // The leader has seen the loss (and counted it); it dies before or after acting on it.
    await eventually(() => survivor.records.get(job.id, 1), (r) => r?.failure === 'spot_interruption');
    await doomed.kill();
    const lastRenewal = Date.parse(String(lease(s)!.spec.renewTime));

    await eventually(() => survivor.lifecycle.isLeader(), Boolean);
    const acquired = Date.parse(String(lease(s)!.spec.acquireTime));
    assert.ok(acquired >= lastRenewal + FAST_LIFECYCLE.timing!.leaseDurationMs!, 'not before the dead leader\'s claim ran out');
    const [, rerun] = await eventually(() => attempts(s!, job.runId), (l) => l.length === 2 && l[1]!.status === 'completed', 20_000);
    assert.equal(rerun!.conclusion, 'success');

    // Every level-triggered pass once more on the new leader: nothing is done twice.
    await survivor.lifecycle.watcher.reconcileAll();
    await survivor.lifecycle.runNow(TASK.recovery);
    await survivor.lifecycle.runNow(TASK.staleQueued);
    await survivor.lifecycle.runNow(TASK.orphans);
    assert.equal(s.github.calls(ROUTES.rerunJob), 1);
    assert.deepEqual(runnerJobs(s).map((j) => j.metadata.name).sort(), [`runner-${job.id}-1`, `runner-${rerun!.id}-2`].sort());
    assert.equal(await metric(survivor, 'runs_fleet_runner_failures_total', { kind: 'spot_interruption' }), 0, 'counted once, by the old leader');
    assert.equal((await survivor.records.get(job.id, 1))?.infraRetries, '1');
  });

  it('graceful shutdown releases the Lease: the other replica leads at once, long before the lease would expire', async () => {
    const lifecycle = { ...FAST_LIFECYCLE, timing: { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 100 } };
    s = await lifecycleStack({ replicas: 2, lifecycle });
    const leader = await leaderOf(s);
    const other = s.orchestrators.find((o) => o !== leader)!;
    const renewedUntil = Date.parse(String(lease(s)!.spec.renewTime)) + 60_000;
    await leader.stop();
    assert.equal(leader.lifecycle.isLeader(), false);
    await eventually(() => other.lifecycle.isLeader(), Boolean);
    assert.ok(Date.parse(String(lease(s)!.spec.acquireTime)) < renewedUntil);
    assert.equal(await metric(leader, 'runs_fleet_leader_is_leader'), 0);
    assert.equal(await metric(leader, 'runs_fleet_leader_transitions_total', { event: 'released' }), 1);
    assert.equal(await metric(other, 'runs_fleet_leader_is_leader'), 1);
  });
});
