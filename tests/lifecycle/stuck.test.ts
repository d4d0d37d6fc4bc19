import assert from 'node:assert/strict';
import { LifecycleStore } from '../../runtime/controllers/lifecycle/store.ts';
import { createWatcherMetrics } from '../../runtime/controllers/watcher/metrics.ts';
import { RunnerWatcher } from '../../runtime/controllers/watcher/runner-watcher.ts';
import { createKubeClients, type KubeClients } from '../../runtime/k8s/client.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { RUNNER_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { Connections } from '../support/valkey.ts';
import { ManualClock } from '../warm-pool/support/manual-clock.ts';
import { leaderOf, lifecycleStack, REPO, type LifecycleStack } from './support/stack.ts';

const ARM = (cpu: number) => ({
  name: `${cpu}cpu-linux-arm64`, arch: 'arm64' as const, cpu, memoryGiB: cpu * 4, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 400,
});
/** Its NodePool may hold 1 vCPU, its runners need a 2-vCPU m7g.large: they can never be scheduled. */
const NO_CAPACITY = { name: '2cpu-nocapacity', arch: 'arm64' as const, cpu: 2, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 1, pendingTimeoutSeconds: 60 };

describe('lifecycle: runners stuck pending past their class limit', function () {
  this.timeout(30_000);
  const conns = new Connections();
  let s: LifecycleStack | undefined;
  let kube: KubeClients | undefined;
  let watcher: RunnerWatcher | undefined;
  afterEach(async () => {
    await watcher?.stop();
    await kube?.close();
    await s?.stop();
    conns.closeAll();
    watcher = undefined;
    kube = undefined;
    s = undefined;
  });

  /**
   * A second watcher on a clock the test moves (the orchestrator's runs on real time and
   * will not reach a 60 s limit during the test); it acts as the leader would.
   */
  async function steppedWatcher(stack: LifecycleStack) {
    const leader = await leaderOf(stack);
    const clock = new ManualClock(Date.now());
    const registry = createRegistry();
    kube = await createKubeClients(stack.sim.makeKubeConfig());
    const store = new LifecycleStore(conns.command(), stack.queuePrefix, leader.queue.keys);
    await conns.ready();
    watcher = new RunnerWatcher({
      kube, namespace: RUNNER_NAMESPACE, records: leader.records, store, github: leader.github, doc: () => leader.config.current(),
      isLeader: () => true, clock, log: silentLogger(), metrics: createWatcherMetrics(registry), resyncMs: 3_600_000,
    });
    watcher.start();
    await eventually(() => watcher!.synced(), Boolean);
    return { leader, clock, store, registry };
  }

  it('no capacity for the class: past the limit the runner is unregistered and its Job removed, then the job is provisioned again', async () => {
    s = await lifecycleStack({ doc: { classes: [ARM(2), ARM(4), NO_CAPACITY] } });
    const { leader, clock, store, registry } = await steppedWatcher(s);
    const job = s.github.queueJob({ ...REPO, labels: ['runs-fleet=1/runner=2cpu-nocapacity'] });
    const name = `runner-${job.id}-1`;
    const k8sJob = await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, name), (j) => !!j);
    const runnerName = k8sJob!.metadata.annotations!['runs-fleet.io/runner-name']!;
    await eventually(() => leader.records.get(job.id, 1), (r) => r?.status === 'job_created');

    await watcher!.reconcileAll();
    assert.ok(s.sim.store.get('jobs', RUNNER_NAMESPACE, name), 'within the limit: left alone');
    await clock.advance(NO_CAPACITY.pendingTimeoutSeconds * 1000 + 5_000);
    await watcher!.reconcileAll();

    await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, name), (j) => !j || !!j.metadata.deletionTimestamp);
    assert.equal(s.github.findRunner(runnerName), undefined, 'unregistered from GitHub');
    const item = await store.item(name);
    assert.equal(item?.kind, 'pending_timeout');
    assert.match(await registry.metrics(), /runs_fleet_runner_failures_total\{kind="pending_timeout",class="2cpu-nocapacity"\} 1/);
    assert.match(await registry.metrics(), /runs_fleet_stuck_runners_removed_total\{kind="pending_timeout"\} 1/);
    // The stepped watcher's clock is a minute ahead: it would see the next runner as pending past
    // the limit at once and remove it too. Its part is done; stop it before the leader recovers.
    await watcher!.stop();
    watcher = undefined;
    // The leader's recovery finds the job still queued on GitHub: a new runner, within maxReprovisions.
    // (Due on the stepped clock, a minute ahead of the leader's: bring it to the leader's now.)
    await store.reschedule(item!, Date.now());
    await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, `${name}-r1`), (j) => !!j);
    assert.equal((await leader.records.get(job.id, 1))?.failure, 'pending_timeout');
  });

  it('an image that never pulls: removed past the limit, and never provisioned again', async () => {
    s = await lifecycleStack();
    s.sim.setPodOutcome({ namespace: RUNNER_NAMESPACE }, { type: 'imagePullBackOff', container: 'runner' });
    const job = s.github.queueJob({ ...REPO, labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
    const name = `runner-${job.id}-1`;
    await eventually(
      () => s!.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }),
      (pods) => pods.some((p: any) => p.status?.containerStatuses?.some((c: any) => /ImagePull|ErrImage/.test(c.state?.waiting?.reason ?? ''))),
    );
    // Started now, its caches list the pod as it stands (pull failing), not as a watch event may not have delivered yet.
    const { clock, store, registry } = await steppedWatcher(s);
    await clock.advance(600_000 + 5_000); // the default pendingTimeoutSeconds
    await watcher!.reconcileAll();
    await eventually(() => s!.sim.store.get('jobs', RUNNER_NAMESPACE, name), (j) => !j || !!j.metadata.deletionTimestamp);
    assert.match(await registry.metrics(), /runs_fleet_runner_failures_total\{kind="image_pull",class="2cpu-linux-arm64"\} 1/);
    assert.equal(await store.item(name), undefined, 'not handed to recovery: a broken image is not an infrastructure loss');
  });
});
