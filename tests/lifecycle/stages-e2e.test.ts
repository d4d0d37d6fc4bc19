import assert from 'node:assert/strict';
import { eventually } from '../support/eventually.ts';
import { LABELS, leaderOf, lifecycleStack, metric, REPO, runnerPods, type LifecycleStack } from './support/stack.ts';

describe('lifecycle: stage latencies (sim cluster + GitHub double)', function () {
  this.timeout(30_000);
  let s: LifecycleStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('every stage is stamped on the job record; latencies are exported by class and warm/cold, once per runner', async () => {
    // Node creation times have whole seconds: a node that takes over a second to come up is
    // unambiguously newer than the pod it was provisioned for (real ones take 30 s or more).
    s = await lifecycleStack({ agent: { runMs: () => 100 }, simTimings: { provisioningMs: 1_200 } });
    const leader = await leaderOf(s);
    const cls = '2cpu-linux-arm64';
    const count = (stage: string, start: string) => metric(leader, 'runs_fleet_job_stage_seconds_count', { stage, class: cls, start });

    const first = s.github.queueJob({ ...REPO, labels: LABELS });
    const cold = await eventually(() => leader.records.get(first.id, 1), (r) => r?.stages.finishedAt !== undefined && r.start !== undefined);
    assert.equal(cold!.start, 'cold', 'no node for the class yet: one was provisioned for it');
    const order = ['receivedAt', 'enqueuedAt', 'dequeuedAt', 'jobCreatedAt', 'nodeReadyAt', 'scheduledAt', 'runningAt', 'finishedAt'] as const;
    for (const stage of order) assert.ok(cold!.stages[stage] !== undefined, `${stage} stamped`);
    // Node Ready is a whole-second Kubernetes time: within a second of the orchestrator's own stamps.
    assert.ok(cold!.stages.jobCreatedAt! < cold!.stages.nodeReadyAt! + 1_000 && cold!.stages.nodeReadyAt! <= cold!.stages.runningAt!);

    // The node is still up: the next runner of the class lands on it without waiting.
    const node = (runnerPods(s, `runner-${first.id}-1`)[0] as any).spec.nodeName;
    const second = s.github.queueJob({ ...REPO, labels: LABELS });
    const warm = await eventually(() => leader.records.get(second.id, 1), (r) => r?.stages.finishedAt !== undefined && r.start !== undefined);
    assert.equal((runnerPods(s, `runner-${second.id}-1`)[0] as any).spec.nodeName, node);
    assert.equal(warm!.start, 'warm');
    assert.equal(warm!.stages.nodeReadyAt, undefined);

    await leader.lifecycle.watcher.reconcileAll();
    assert.deepEqual(
      [await count('webhook_to_running', 'cold'), await count('node_provisioning', 'cold'), await count('run', 'cold')],
      [1, 1, 1],
    );
    assert.deepEqual([await count('webhook_to_running', 'warm'), await count('node_provisioning', 'warm'), await count('run', 'warm')], [1, 0, 1]);
  });
});
