import assert from 'node:assert/strict';
import { runnerName } from '../../runtime/controllers/provisioner/provision.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

describe('lost generate-jitconfig replies', function () {
  this.timeout(60_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('runner names are the same on every try of one job, attempt and requeue, and fit 64 characters', () => {
    assert.equal(runnerName('2cpu-linux-arm64', 123, 1), 'rf-2cpu-linux-arm64-123-1');
    assert.equal(runnerName('2cpu-linux-arm64', 123, 1), runnerName('2cpu-linux-arm64', 123, 1));
    assert.equal(runnerName('2cpu-linux-arm64', 123, 2, 1), 'rf-2cpu-linux-arm64-123-2-r1');
    const long = runnerName('x'.repeat(80), 12_345_678_901, 3, 2);
    assert.ok(long.length <= 64 && long.endsWith('-12345678901-3-r2'), long);
  });

  it('60 jobs with 3 lost replies end with 60 registrations, one per Job', async () => {
    s = await startLocalStack({
      doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('lost-jit'),
      orchestrator: { consumer: { blockMs: 100 } },
    });
    // GitHub registers the runner, then the connection drops before the reply arrives.
    s.github.inject(ROUTES.orgJitConfig, { kind: 'drop-reply' }, 3);
    const jobs = Array.from({ length: 60 }, () => s!.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet/runner=2cpu-linux-arm64'] }));
    await s.github.deliveriesSettled();
    const o = s.orchestrators[0]!;
    await eventually(() => Promise.all(jobs.map((j) => o.records.get(j.id, 1))), (rs) => rs.every((r) => r?.status === 'job_created'), 45_000);

    const k8sJobs = s.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE });
    const runners = s.github.listRunners();
    assert.equal(k8sJobs.length, 60);
    assert.equal(runners.length, 60, `registrations equal Jobs (${runners.length} registered)`);
    const onJobs = new Set(k8sJobs.map((j) => (j.metadata.annotations as Record<string, string>)['runs-fleet.io/runner-name']));
    assert.deepEqual([...onJobs].sort(), runners.map((r) => r.name).sort(), 'every registered runner is the one a Job starts');
    assert.ok(s.github.calls(ROUTES.orgJitConfig) >= 60 + 3 * 2, 'each lost reply cost a retry that met the name, then a new registration');
    assert.equal(s.github.calls(ROUTES.deleteOrgRunner), 3, 'the three runners left by lost replies were deleted');
    assert.match(await o.registry.metrics(), /runs_fleet_lost_jit_replies_total\{outcome="deleted"\} 3/);
  });
});
