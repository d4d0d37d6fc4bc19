import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { parseConfigDocument, type ConfigDocument } from '../../runtime/config/document.ts';
import { watchConfigDocument, type ConfigWatcher } from '../../runtime/config/watch-document.ts';
import { applyAction } from '../../runtime/controllers/warm-pool/apply.ts';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { startWarmPoolLoop, type WarmPoolLoop } from '../../runtime/controllers/warm-pool/loop.ts';
import { createWarmPoolMetrics } from '../../runtime/controllers/warm-pool/metrics.ts';
import { WarmPoolController } from '../../runtime/controllers/warm-pool/reconcile.ts';
import { memoryStateStore } from '../../runtime/controllers/warm-pool/state-store.ts';
import { buildRunnerObjects } from '../../runtime/k8s/build-runner-job.ts';
import { COMPONENT, LABEL, NODE_CLASS_LABEL } from '../../runtime/k8s/labels.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { PermanentError } from '../../runtime/util/errors.ts';
import type { VirtualClock } from '../../sim/k8s/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from '../../sim/k8s/from-config.ts';
import { until } from '../sim/helpers.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';
import { queuedJob } from '../support/jobs.ts';

const NS = 'runners';
const MINUTE = 60_000;
const CLASS = '4cpu-linux-arm64';
const docText = (pools: Array<{ name: string; min: number; max?: number }>) =>
  JSON.stringify({
    classes: [{ name: CLASS, arch: 'arm64', cpu: 4, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 64 }],
    pools: pools.map((p) => ({ class: CLASS, max: 8, scaleDownDelaySeconds: 0, ...p })),
  });

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

function runnerJob(doc: ConfigDocument, jobId: number, pool: string, job: Partial<QueuedJob> = {}) {
  const cls = doc.classes[0]!;
  return buildRunnerObjects({
    doc, namespace: NS, runnerName: `rf-${jobId}`, encodedJitConfig: 'not-a-real-jit-config',
    job: queuedJob({ jobId, runId: 1, ...job }),
    runner: {
      className: cls.name, class: cls, pool, cpu: cls.cpu, memoryGiB: cls.memoryGiB, diskGiB: cls.diskGiB,
      capacityTypes: cls.capacityTypes, nodeRequirements: [], jitLabels: ['runs-fleet'], warnings: [],
    },
  });
}

describe('warm-pool reconciler against the simulated cluster', () => {
  let sim: SimCluster<VirtualClock>;
  let clock: VirtualClock;
  let apps: k8s.AppsV1Api;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let dir: string;
  let file: string;
  let watcher: ConfigWatcher;
  let registry: Registry;
  let controller: WarmPoolController;
  let loop: WarmPoolLoop;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-fleet-warm-'));
    file = join(dir, 'config.json');
    await writeFile(file, docText([{ name: 'default', min: 0 }]));
    const doc = parseConfigDocument(JSON.parse(docText([])));
    // One runner per node, so a runner can only get a warm node by evicting a placeholder.
    sim = await startSimCluster({
      clock: 'virtual', namespaces: [NS], nodePools: nodePoolsFromConfig(doc, { maxRunnersPerNode: 1 }),
      timings: { provisioningMs: 30_000, imagePullMs: 500, containerStartMs: 100 },
    });
    clock = sim.clock;
    seedPriorityClasses(sim.api, doc);
    const kc = sim.makeKubeConfig();
    [apps, core, batch] = [kc.makeApiClient(k8s.AppsV1Api), kc.makeApiClient(k8s.CoreV1Api), kc.makeApiClient(k8s.BatchV1Api)];
    watcher = watchConfigDocument({ path: file, clock, intervalMs: 5_000 });
    registry = createRegistry();
    controller = new WarmPoolController({
      apps, core, namespace: NS, doc: () => watcher.current(), clock, log: silentLogger(),
      metrics: createWarmPoolMetrics(registry), store: memoryStateStore(),
    });
    loop = startWarmPoolLoop(controller, { clock, log: silentLogger(), isLeader: () => true, intervalMs: 15_000 });
    watcher.subscribe(() => loop.wake());
  });

  afterEach(async () => {
    await loop?.stop();
    await watcher?.stop();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const deployment = () => sim.store.get('deployments', NS, 'placeholder-default');
  const classNodes = () => sim.store.list('nodes').filter((n) => n.metadata.labels?.[NODE_CLASS_LABEL] === CLASS);
  const placeholders = () => sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.component}=${COMPONENT.placeholder}` });
  const readyPlaceholders = () => placeholders().filter((p) => p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));

  it('raising min in the config document brings up that many ready placeholders, and a runner takes one\'s place without a new node', async () => {
    await until('the pool\'s Deployment at min 0', () => deployment()?.spec?.replicas === 0, { clock, stepMs: 500 });
    assert.equal(classNodes().length, 0, 'min 0 keeps no runner node');

    await writeFile(file, docText([{ name: 'default', min: 3 }]));
    await until('3 ready placeholders', () => readyPlaceholders().length === 3 && deployment()?.status?.readyReplicas === 3, { clock, stepMs: 500, maxSimMs: 300_000 });
    const warmNodes = classNodes().map((n) => n.metadata.name);
    assert.equal(warmNodes.length, 3, 'one node per placeholder');
    const p = placeholders()[0]!;
    assert.equal(p.spec.priorityClassName, 'runs-fleet-placeholder');
    assert.equal(p.spec.containers[0].image, watcher.current().runner.pauseImage);

    const { job, secret } = runnerJob(watcher.current(), 4242, 'default');
    await core.createNamespacedSecret({ namespace: NS, body: secret });
    await batch.createNamespacedJob({ namespace: NS, body: job });
    const runner = await until('the runner pod bound to a node', () =>
      sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.jobId}=4242` }).find((x) => x.spec?.nodeName), { clock, stepMs: 100, maxSimMs: 20_000 });
    assert.ok(warmNodes.includes(runner.spec.nodeName), 'the runner landed on a node that was already warm');
    assert.equal(classNodes().length, 3, 'no node was provisioned for the runner');
    const preempted = sim.store.list('events', { namespace: NS, fieldSelector: 'reason=Preempted' });
    assert.equal(preempted.length, 1, 'it got there by preempting one placeholder');

    // The evicted placeholder comes back on a new node: the pool refills itself.
    await until('the pool refilled to 3 ready placeholders', () => readyPlaceholders().length === 3 && classNodes().length === 4, { clock, stepMs: 500, maxSimMs: 300_000 });
    await until('a pass counted the warm hit', async () => (await metric(registry, 'runs_fleet_warm_pool_hits_total', { pool: 'default' })) === 1, { clock, stepMs: 1_000, maxSimMs: 60_000 });
    assert.equal(await metric(registry, 'runs_fleet_warm_pool_misses_total', { pool: 'default' }), 0);
    assert.equal(await metric(registry, 'runs_fleet_warm_pool_desired_placeholders', { pool: 'default', class: CLASS }), 3);
    assert.ok((await metric(registry, 'runs_fleet_warm_pool_placeholder_cpu_seconds_total', { pool: 'default', class: CLASS })) > 0);
  });

  it('does not start placeholders while a burst of runners waits for new nodes, then keeps that many warm', async () => {
    await until('the pool\'s Deployment at min 0', () => deployment()?.spec?.replicas === 0, { clock, stepMs: 500 });
    const doc = watcher.current();
    for (let id = 1; id <= 4; id++) {
      const { job, secret } = runnerJob(doc, 100 + id, 'default');
      await core.createNamespacedSecret({ namespace: NS, body: secret });
      await batch.createNamespacedJob({ namespace: NS, body: job });
    }
    const runners = () => sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.component}=${COMPONENT.runner}` });
    const waiting = () => runners().filter((r) => !r.spec?.nodeName && r.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'));
    let sawWaiting = false;
    await until('all 4 runners running', () => {
      if (waiting().length) {
        sawWaiting = true;
        assert.equal(deployment()!.spec!.replicas, 0, 'placeholders were added while runners waited for nodes');
      }
      return runners().filter((r) => r.status?.phase === 'Running').length === 4;
    }, { clock, stepMs: 500, maxSimMs: 300_000 });
    assert.ok(sawWaiting, 'the runners did wait for new nodes');
    assert.equal(placeholders().length, 0, 'no placeholder competed with them');

    // Once they run, the burst is remembered: the pool keeps 4 warm for the next one.
    await until('4 ready placeholders after the burst', () => readyPlaceholders().length === 4, { clock, stepMs: 500, maxSimMs: 300_000 });
    assert.equal(deployment()!.spec!.replicas, 4);
    assert.equal(await metric(registry, 'runs_fleet_warm_pool_misses_total', { pool: 'default' }), 4);
  });

  it('learns that a build fans out into tests and has their slots warm before they are queued', async () => {
    await until('the pool\'s Deployment at min 0', () => deployment()?.spec?.replicas === 0, { clock, stepMs: 500 });
    const doc = watcher.current();
    let id = 600;
    const submit = async (runId: number, jobName: string) => {
      const { job, secret } = runnerJob(doc, ++id, 'default', { runId, workflowName: 'pipeline', jobName });
      await core.createNamespacedSecret({ namespace: NS, body: secret });
      await batch.createNamespacedJob({ namespace: NS, body: job });
      return id;
    };
    const wait = (ms: number) => {
      const target = clock.now() + ms;
      return until(`${ms} ms to pass`, () => clock.now() >= target, { clock, stepMs: 1_000, maxSimMs: ms + 1_000 });
    };
    const pipeline = async (runId: number, lagMs: number) => {
      await submit(runId, 'build');
      await wait(lagMs);
      const tests = [];
      for (let i = 1; i <= 3; i++) tests.push(await submit(runId, `test (${i})`));
      return tests;
    };
    // Two pipelines teach it: a build, then 3 tests queued 4 minutes later in the same run.
    await pipeline(1, 4 * MINUTE);
    await wait(20 * MINUTE);
    await pipeline(2, 4 * MINUTE);
    await wait(20 * MINUTE);
    const before = deployment()!.spec!.replicas!;
    assert.ok(before < 3, `between pipelines the pool holds ${before}, fewer than a wave`);

    const tests = await pipeline(3, 4 * MINUTE);
    const pods = tests.map((t) => sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.jobId}=${t}` })[0]!);
    await until('the tests bound to nodes', () => pods.every((p) => sim.store.get('pods', NS, p.metadata.name)?.spec?.nodeName), { clock, stepMs: 500, maxSimMs: 60_000 });
    for (const p of pods) {
      const node = sim.store.get('nodes', '', sim.store.get('pods', NS, p.metadata.name)!.spec.nodeName)!;
      assert.ok(Date.parse(node.metadata.creationTimestamp!) <= Date.parse(p.metadata.creationTimestamp!), `${p.metadata.name} landed on a node that was warm before it was queued`);
    }
    // Once the wave is here its slots go at once (no scale-down delay): what is left is what the arrival rate asks for.
    await until('the slots held for the wave given back', async () => {
      const [d] = (await controller.reconcile()).decisions;
      return d!.ahead === 0 && d!.reason !== 'fan_out' && deployment()!.spec!.replicas === d!.desired && d!.desired < before + 3;
    }, { clock, stepMs: 1_000, maxSimMs: 60_000 });
  });

  it('writes nothing when nothing changed, and deletes the Deployment of a removed pool', async () => {
    await writeFile(file, docText([{ name: 'default', min: 1 }, { name: 'extra', min: 1 }]));
    // Seen at once rather than on the watcher's next timed poll: its file reads and the passes'
    // HTTP calls take real time, which a virtual clock stepped in a tight loop can outrun.
    await watcher.poll();
    await until('both pools\' Deployments', () => deployment() && sim.store.get('deployments', NS, 'placeholder-extra'), { clock, stepMs: 500, maxSimMs: 300_000 });
    await loop.stop();
    const quiet = await controller.reconcile();
    assert.deepEqual(quiet.actions, [], 'a pass over a matching cluster writes nothing');
    const rv = deployment()!.metadata.resourceVersion;

    await writeFile(file, docText([{ name: 'default', min: 1 }]));
    assert.equal(await watcher.poll(), true);
    const removed = await controller.reconcile();
    assert.deepEqual(removed.actions.map((a) => [a.action.kind, a.action.pool, a.outcome]), [['delete', 'extra', 'deleted']]);
    await until('the removed pool\'s Deployment gone', () => !sim.store.get('deployments', NS, 'placeholder-extra'), { clock, stepMs: 500, maxSimMs: 30_000 });
    assert.equal(deployment()!.metadata.resourceVersion, rv, 'the remaining pool was not touched');
  });

  it('create finding the Deployment already there patches it; delete of a missing one is done; a foreign one is not taken over', async () => {
    await loop.stop();
    const doc = watcher.current();
    const pool = { ...doc.pools[0]!, name: 'manual' };
    const want = (replicas: number) => buildPlaceholderDeployment(doc.runner, pool, doc.classes[0]!, NS, replicas);
    assert.equal(await applyAction(apps, NS, { kind: 'create', pool: 'manual', body: want(2) }), 'created');
    assert.equal(await applyAction(apps, NS, { kind: 'create', pool: 'manual', body: want(2) }), 'unchanged', '409, and it already matches');
    assert.equal(await applyAction(apps, NS, { kind: 'create', pool: 'manual', body: want(4) }), 'patched', '409, then patched to match');
    assert.equal((await apps.readNamespacedDeployment({ name: 'placeholder-manual', namespace: NS })).spec?.replicas, 4);
    assert.equal(await applyAction(apps, NS, { kind: 'delete', pool: 'manual', name: 'placeholder-manual', why: 'pool_removed' }), 'deleted');
    assert.equal(await applyAction(apps, NS, { kind: 'delete', pool: 'gone', name: 'placeholder-gone', why: 'pool_removed' }), 'gone');

    const foreign = want(1);
    foreign.metadata!.name = 'placeholder-other';
    foreign.metadata!.labels = { app: 'someone-else' };
    await apps.createNamespacedDeployment({ namespace: NS, body: foreign });
    const ours = { ...want(1), metadata: { ...want(1).metadata, name: 'placeholder-other' } };
    await assert.rejects(applyAction(apps, NS, { kind: 'create', pool: 'other', body: ours }), (err: unknown) => err instanceof PermanentError && err.reason === 'name_taken');
  });
});
