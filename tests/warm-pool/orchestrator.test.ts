import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { LABEL } from '../../runtime/k8s/labels.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

describe('warm pools through the whole orchestrator', function () {
  this.timeout(40_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('raising a pool min in the config document yields ready placeholders, and a runner preempts one instead of waiting for a node', async () => {
    const doc = sampleDocument({ pools: [{ name: 'default', class: '4cpu-linux-arm64', min: 0, max: 6, scaleDownDelaySeconds: 3600 }] });
    s = await startLocalStack({
      doc, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('wp'),
      sim: { timings: { provisioningMs: 300, imagePullMs: 10, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 } },
      orchestrator: {
        consumer: { blockMs: 100, reclaimIdleMs: 500, reclaimEveryMs: 200 }, warmPoolIntervalMs: 200, configPollMs: 100,
        lifecycle: { timing: { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 } },
      },
    });
    const o = s.orchestrators[0]!;
    await eventually(() => o.lifecycle.isLeader(), Boolean);
    const placeholders = () =>
      s!.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }).filter((p) => p.metadata.labels?.[LABEL.component] === 'placeholder');
    const ready = () => placeholders().filter((p: any) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    assert.equal(placeholders().length, 0);

    // `pulumi config set --path 'runs-fleet:pools[0].min' 2 && pulumi up` rewrites the mounted document.
    writeFileSync(s.configFile, JSON.stringify({ ...doc, pools: [{ ...doc.pools[0], min: 2 }] }));
    await eventually(ready, (l) => l.length === 2, 20_000);
    const nodesBefore = s.sim.store.list('nodes').map((n) => n.metadata.name).sort();

    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=4cpu-linux-arm64/pool=default'] });
    const runnerPod = await eventually(
      () => s!.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }).find((p) => p.metadata.labels?.[LABEL.jobId] === String(job.id)),
      (p: any) => Boolean(p?.spec?.nodeName),
      20_000,
    );
    assert.ok(nodesBefore.includes((runnerPod as any).spec.nodeName), 'the runner landed on a node that was already there (warm)');
    const preempted = s.sim.store.list('events', { namespace: RUNNER_NAMESPACE }).filter((e: any) => e.reason === 'Preempted');
    assert.equal(preempted.length, 1, 'exactly one placeholder was preempted');
    // The next warm-pool pass counts the runner as a hit (its node predates it); the pool then
    // refills the slot it took, possibly on a new node, but the runner itself never waited for one.
    await eventually(() => o.registry.metrics(), (text) => /runs_fleet_warm_pool_hits_total\{pool="default",class="4cpu-linux-arm64"\} 1/.test(text));
    assert.doesNotMatch(await o.registry.metrics(), /runs_fleet_warm_pool_misses_total\{pool="default",class="4cpu-linux-arm64"\} [1-9]/);
  });
});
