import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ImageWarmingController } from '../../runtime/controllers/image-warming/controller.ts';
import { createKubeClients, type KubeClients } from '../../runtime/k8s/client.ts';
import { COMPONENT, IMAGE_WARMING_TAINT, LABEL, MANAGED_BY, NODE, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { silentLogger } from '../../runtime/log.ts';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { buildPrePullDaemonSet, PREPULL_LIST_SELECTOR } from '../../runtime/controllers/image-warming/build-prepull.ts';
import type { VirtualClock } from '../../sim/k8s/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { instanceTypesRequirement, type NodePool } from '../../sim/k8s/model/nodepool.ts';
import { until } from './helpers.ts';

/**
 * The image-warming startup taint end to end: a sim NodePool with the taint (Karpenter puts it
 * on new nodes and ignores it when deciding what fits), kube-scheduler keeping runners off it and
 * preempting only where they can land, and the orchestrator's ImageWarmingController removing it
 * over the real client once a placeholder there is Ready.
 */

const RUNNER_IMAGE = 'ghcr.io/actions/actions-runner:2.330.0';
const PULL_MS = 60_000;
const tolerate = (t: { key: string; value: string; effect: string }) => ({ key: t.key, operator: 'Equal', value: t.value, effect: t.effect });

/** c7g.2xlarge only: room for two 3-CPU pods beside the DaemonSets. */
const POOL: NodePool = {
  name: 'small',
  labels: { [NODE_CLASS_LABEL]: 'small' },
  taints: [{ ...RUNNER_TAINT }],
  startupTaints: [{ ...IMAGE_WARMING_TAINT }],
  requirements: [instanceTypesRequirement('c7g.2xlarge'), { key: NODE.capacityType, operator: 'In', values: ['on-demand'] }],
  limitsCpu: 64,
  consolidateAfterMs: 600_000,
};

function placeholder(name: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { [LABEL.component]: COMPONENT.placeholder, [LABEL.managedBy]: MANAGED_BY } },
    spec: {
      priorityClassName: 'placeholder',
      terminationGracePeriodSeconds: 0,
      nodeSelector: { [NODE_CLASS_LABEL]: 'small' },
      tolerations: [tolerate(RUNNER_TAINT), tolerate(IMAGE_WARMING_TAINT)],
      // The pre-pull init container: Ready only once the runner image is on the node.
      initContainers: [{ name: 'prepull-runner', image: RUNNER_IMAGE, command: ['true'] }],
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '3', memory: '1Gi' } } }],
    },
  };
}

function runner(name: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { [LABEL.component]: COMPONENT.runner, [LABEL.managedBy]: MANAGED_BY, [LABEL.class]: 'small' } },
    spec: {
      priorityClassName: 'runner',
      terminationGracePeriodSeconds: 0,
      nodeSelector: { [NODE_CLASS_LABEL]: 'small' },
      tolerations: [tolerate(RUNNER_TAINT)],
      containers: [{ name: 'runner', image: RUNNER_IMAGE, resources: { requests: { cpu: '3', memory: '1Gi' } } }],
    },
  };
}

describe('sim/k8s image-warming startup taint, removed by the orchestrator', () => {
  let sim: SimCluster<VirtualClock>;
  let clock: VirtualClock;
  let kube: KubeClients;
  let warming: ImageWarmingController;
  const ns = 'runners';

  beforeEach(async () => {
    sim = await startSimCluster({
      clock: 'virtual', nodePools: [POOL], namespaces: [ns],
      timings: { provisioningMs: 30_000, imagePullMs: (image) => (image === RUNNER_IMAGE ? PULL_MS : 500), containerStartMs: 100 },
    });
    clock = sim.clock;
    kube = await createKubeClients(sim.makeKubeConfig());
    const sched = sim.makeKubeConfig().makeApiClient(k8s.SchedulingV1Api);
    await sched.createPriorityClass({ body: { metadata: { name: 'runner' }, value: 1000 } });
    await sched.createPriorityClass({ body: { metadata: { name: 'placeholder' }, value: -10, preemptionPolicy: 'Never' } });
    warming = new ImageWarmingController({ core: kube.core, namespace: ns, clock, log: silentLogger() });
  });
  afterEach(async () => {
    await kube?.close();
    await sim?.stop();
  });

  const get = (name: string) => sim.store.get('pods', ns, name);
  const node = (name: string) => sim.store.get('nodes', '', name);
  const classNodes = () => sim.store.list('nodes').filter((n) => n.metadata.labels?.[NODE_CLASS_LABEL] === 'small');
  const warmingTaint = (name: string) => (node(name)?.spec?.taints ?? []).some((t: { key: string }) => t.key === IMAGE_WARMING_TAINT.key);
  const ready = (name: string) => get(name)?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  const create = (body: k8s.V1Pod) => kube.core.createNamespacedPod({ namespace: ns, body });

  it('holds a new node for its placeholders while they pull, and opens it once one is Ready', async () => {
    await create(placeholder('p1'));
    const host = await until('p1 bound', () => get('p1')?.spec?.nodeName as string | undefined, { clock, stepMs: 1000 });
    assert.ok(warmingTaint(host), 'a new node starts with the startup taint');
    assert.notEqual(node(host)!.metadata.labels?.['karpenter.sh/initialized'], 'true', 'not initialized while it is on');
    assert.deepEqual(await warming.reconcile(), [], 'the placeholder is still pulling and no runner waits');
    assert.ok(warmingTaint(host));
    await until('p1 Ready', () => ready('p1'), { clock, stepMs: 1000 });
    assert.deepEqual(await warming.reconcile(), [{ node: host, reason: 'image_pulled' }]);
    assert.deepEqual(node(host)!.spec.taints.map((t: { key: string }) => t.key), [RUNNER_TAINT.key], 'only the warming taint goes');
    await until('Karpenter marks it initialized', () => node(host)!.metadata.labels?.['karpenter.sh/initialized'] === 'true', { clock, stepMs: 100, maxSimMs: 1_000 });
    await create(runner('r1'));
    await until('r1 lands on the warmed node', () => get('r1')?.spec?.nodeName === host, { clock, stepMs: 100, maxSimMs: 5_000 });
  });

  it('keeps a runner off a node still pulling, launches nothing for it, and opens the node to it when it has nowhere better to go', async () => {
    await create(placeholder('p1'));
    const host = await until('p1 bound', () => get('p1')?.spec?.nodeName as string | undefined, { clock, stepMs: 1000 });
    await create(runner('r1'));
    await clock.advance(15_000);
    assert.equal(get('r1')!.spec?.nodeName, undefined, 'the free slot is on a node without the image');
    const scheduled = get('r1')!.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
    assert.match(scheduled.message, /untolerated taint \{runs-fleet\.io\/image-warming/);
    assert.equal(classNodes().length, 1, 'Karpenter counts the runner onto the warming node (startup taints ignored), so launches none');
    assert.equal(sim.inflightNodeClaims().length, 0);
    assert.ok(!ready('p1'));
    // No placeholder to preempt on a node with the image: waiting for the pull under way beats a new node's whole pull.
    assert.deepEqual(await warming.reconcile(), [{ node: host, reason: 'runner_waiting' }]);
    await until('r1 lands beside the pulling placeholder', () => get('r1')?.spec?.nodeName === host, { clock, stepMs: 100, maxSimMs: 5_000 });
    assert.equal(classNodes().length, 1);
  });

  it('opens a node launched for a runner at once when no placeholder is pending to warm it', async () => {
    await create(runner('r1'));
    const host = await until('a node for the runner', () => classNodes()[0]?.metadata.name, { clock, stepMs: 1000 });
    assert.ok(warmingTaint(host));
    assert.equal(get('r1')!.spec?.nodeName, undefined, 'held off by the taint');
    assert.deepEqual(await warming.reconcile(), [{ node: host, reason: 'no_placeholder' }]);
    await until('r1 lands', () => get('r1')?.spec?.nodeName === host, { clock, stepMs: 100, maxSimMs: 5_000 });
  });

  it('with the image pre-pull DaemonSet, holds a node launched for a runner until its pre-pull pod has the image, then lets the runner start at once', async () => {
    const doc = parseConfigDocument({ classes: [{ name: 'small', arch: 'arm64', cpu: 2, memoryGiB: 4, diskGiB: 20, instanceFamilies: ['c7g'], nodePoolCpuLimit: 64 }], runner: { image: RUNNER_IMAGE } });
    await kube.apps.createNamespacedDaemonSet({ namespace: ns, body: buildPrePullDaemonSet(doc.runner, ns) });
    await create(runner('r1'));
    const host = await until('a node for the runner', () => classNodes()[0]?.metadata.name, { clock, stepMs: 1000 });
    const prePull = () => sim.store.list('pods', { namespace: ns, labelSelector: PREPULL_LIST_SELECTOR }).filter((p) => p.spec.nodeName === host);
    await until('the node Ready, its pre-pull pod on it', () => node(host)?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') && prePull().length === 1, { clock, stepMs: 1000 });
    assert.equal(sim.store.list('pods', { namespace: ns, labelSelector: PREPULL_LIST_SELECTOR }).length, 1, 'only on runner nodes');
    await clock.advance(10_000);
    assert.deepEqual(await warming.reconcile(), [], 'pulling: the runner would only wait for the same pull there');
    assert.equal(get('r1')!.spec?.nodeName, undefined);
    assert.equal(sim.inflightNodeClaims().length, 0, 'Karpenter launches nothing more for the waiting runner');
    const pulled = await until('the pre-pull pod Ready', () => prePull()[0]?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') && clock.now(), { clock, stepMs: 1000 });
    assert.deepEqual(await warming.reconcile(), [{ node: host, reason: 'image_pulled' }]);
    const running = await until('r1 running', () => get('r1')?.status?.phase === 'Running' && clock.now(), { clock, stepMs: 100, maxSimMs: 10_000 });
    assert.ok(running - pulled < 5_000, `the image was there: r1 ran ${running - pulled} ms after the pull, not another pull later`);
  });

  it('preempts a placeholder on a node that has the image rather than take a free slot on one still pulling', async () => {
    await create(placeholder('p1'));
    await create(placeholder('p2'));
    const warm = await until('p1 and p2 Ready on one node', () => ready('p1') && ready('p2') && get('p1')!.spec.nodeName, { clock, stepMs: 1000 });
    assert.equal(get('p2')!.spec.nodeName, warm);
    await warming.reconcile();
    assert.ok(!warmingTaint(warm));
    await create(placeholder('p3'));
    const cold = await until('p3 on a second node', () => get('p3')?.spec?.nodeName as string | undefined, { clock, stepMs: 1000 });
    assert.notEqual(cold, warm);
    assert.ok(!ready('p3'), 'p3 is still pulling, its node still tainted');

    await create(runner('r1'));
    await until('r1 bound', () => get('r1')?.spec?.nodeName, { clock, stepMs: 100, maxSimMs: 5_000 });
    assert.equal(get('r1')!.spec.nodeName, warm, 'it took a placeholder\'s place on the node with the image');
    assert.ok(!get('p1') || !get('p2') || [get('p1'), get('p2')].some((p) => p?.metadata?.deletionTimestamp), 'one placeholder there was preempted');
  });
});
