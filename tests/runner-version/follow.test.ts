import assert from 'node:assert/strict';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { COMPONENT, LABEL, RUNNER_CONTAINER } from '../../runtime/k8s/labels.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const DAY = 86_400_000;

async function gauge(s: LocalStack, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = await s.orchestrators[0]!.registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('runner.version: latest follows the releases GitHub publishes (GitHub double, sim cluster)', function () {
  this.timeout(40_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('pre-pulls a new release through the placeholders, then starts new runners with it; the metric gives its age', async () => {
    const doc = parseConfigDocument({ ...sampleDocument(), runner: { version: 'latest', image: 'ghcr.io/actions/actions-runner:2.336.0' } });
    s = await startLocalStack({
      doc, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('runner-version'),
      sim: { timings: { provisioningMs: 300, imagePullMs: 300, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 } },
      github: { autoDeliver: true },
      orchestrator: { consumer: { blockMs: 100 }, runnerVersion: { intervalMs: 150 }, warmPoolIntervalMs: 200 },
    });
    s.github.publishRelease('actions', 'runner', 'v2.336.0', new Date(Date.now() - 40 * DAY));
    const info = () => gauge(s!, 'runs_fleet_runner_version_info');
    await eventually(info, (v) => v.some((x) => x.labels.in_use === '2.336.0' && x.labels.mode === 'latest'));
    const age = (await gauge(s, 'runs_fleet_runner_version_age_seconds'))[0]!.value;
    assert.ok(age > 39.9 * 86_400 && age < 40.1 * 86_400, `age of 2.336.0 is ${age} s`);

    s.github.publishRelease('actions', 'runner', 'v2.337.0');
    const placeholders = () => s!.sim.store.list('deployments', { namespace: RUNNER_NAMESPACE, labelSelector: `${LABEL.component}=${COMPONENT.placeholder}` });
    const prepullImage = (d: any) => d.spec.template.spec.initContainers.find((c: any) => c.name === 'prepull-runner').image;
    await eventually(placeholders, (l) => l.length > 0 && l.every((d) => prepullImage(d) === 'ghcr.io/actions/actions-runner:2.337.0'));

    // Runners switch only after every placeholder rolled out with the new image (the switch is never undone).
    const switched = await eventually(info, (v) => v.some((x) => x.labels.in_use === '2.337.0'), 20_000);
    assert.equal(switched.find((x) => x.labels.in_use === '2.337.0')!.labels.candidate, '');
    for (const d of placeholders() as any[]) {
      assert.equal(prepullImage(d), 'ghcr.io/actions/actions-runner:2.337.0');
      assert.ok(d.status.availableReplicas >= d.spec.replicas && d.status.updatedReplicas >= d.spec.replicas, 'rolled out before the switch');
    }
    assert.ok((await gauge(s, 'runs_fleet_runner_version_age_seconds'))[0]!.value < 60, 'the new release is seconds old');

    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet/runner=2cpu-linux-arm64'] });
    const k8sJob = await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, `runner-${job.id}-1`), Boolean);
    const runner = (k8sJob as any).spec.template.spec.containers.find((c: any) => c.name === RUNNER_CONTAINER);
    assert.equal(runner.image, 'ghcr.io/actions/actions-runner:2.337.0');
    assert.ok(s.github.calls(ROUTES.latestRelease) >= 2);
  });

  it('pinned (the default): runners keep the image as written and the age of its release is still reported', async () => {
    s = await startLocalStack({
      doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('runner-pinned'), github: { autoDeliver: true },
      orchestrator: { consumer: { blockMs: 100 }, runnerVersion: { intervalMs: 150 } },
    });
    s.github.publishRelease('actions', 'runner', 'v2.336.0', new Date(Date.now() - 10 * DAY));
    s.github.publishRelease('actions', 'runner', 'v2.337.0');
    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet/runner=2cpu-linux-arm64'] });
    const k8sJob = await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, `runner-${job.id}-1`), Boolean);
    assert.equal((k8sJob as any).spec.template.spec.containers.find((c: any) => c.name === RUNNER_CONTAINER).image, 'ghcr.io/actions/actions-runner:2.336.0');
    await eventually(() => gauge(s!, 'runs_fleet_runner_version_info'), (v) => v.some((x) => x.labels.in_use === '2.336.0' && x.labels.mode === 'pinned'));
    const [age] = await eventually(() => gauge(s!, 'runs_fleet_runner_version_age_seconds'), (v) => v.length === 1);
    assert.ok(age!.value > 9.9 * 86_400 && age!.value < 10.1 * 86_400, `age ${age!.value} s`);
    assert.equal(s.github.calls(ROUTES.latestRelease), 0, 'a pinned runner never asks for the latest release');
  });
});
