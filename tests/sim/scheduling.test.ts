import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { VirtualClock } from '../../sim/k8s/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { instanceTypesRequirement, type NodePool } from '../../sim/k8s/model/nodepool.ts';
import { podRequests } from '../../sim/k8s/model/resources.ts';
import { RUNNER_TAINT, NODE, NODE_CLASS_LABEL } from '../../runtime/k8s/labels.ts';
import { jobBody } from './fixtures.ts';
import { uniqueName, until } from './helpers.ts';

const TOLERATE_RUNNERS = [{ key: RUNNER_TAINT.key, operator: 'Equal', value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }];

function runnerPool(over: Partial<NodePool> = {}): NodePool {
  return {
    name: 'small',
    labels: { [NODE_CLASS_LABEL]: 'small' },
    taints: [{ ...RUNNER_TAINT }],
    requirements: [instanceTypesRequirement('c7g.xlarge', 'c7g.2xlarge', 'c7g.4xlarge'), SPOT_OR_ON_DEMAND],
    limitsCpu: 64,
    consolidateAfterMs: 30_000,
    ...over,
  };
}

const SPOT_OR_ON_DEMAND = { key: NODE.capacityType, operator: 'In' as const, values: ['spot', 'on-demand'] };
const ONE_SIZE = [instanceTypesRequirement('c7g.xlarge'), SPOT_OR_ON_DEMAND];

/** Default 3 CPU: a 4-vCPU node has 3740m left for pods after kube-reserved (80m) and the DaemonSets (180m), so one such pod fills it. */
function pod(name: string, o: { cpu?: string; priorityClassName?: string; runner?: boolean; annotations?: Record<string, string>; image?: string; restartPolicy?: string } = {}): k8s.V1Pod {
  return {
    metadata: { name, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      terminationGracePeriodSeconds: 0,
      ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
      ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}),
      ...(o.runner !== false ? { nodeSelector: { [NODE_CLASS_LABEL]: 'small' }, tolerations: TOLERATE_RUNNERS } : {}),
      containers: [{ name: 'c', image: o.image ?? 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: o.cpu ?? '3', memory: '1Gi' } } }],
    },
  };
}

describe('sim/k8s scheduling, preemption and Karpenter-like provisioning', () => {
  let sim: SimCluster<VirtualClock>;
  let clock: VirtualClock;
  let core: k8s.CoreV1Api;
  let ns: string;

  async function start(pools: NodePool[]): Promise<void> {
    sim = await startSimCluster({ clock: 'virtual', nodePools: pools, timings: { provisioningMs: 30_000, imagePullMs: 500, containerStartMs: 100 } });
    clock = sim.clock;
    const kc = sim.makeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    ns = uniqueName('sched');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const sched = kc.makeApiClient(k8s.SchedulingV1Api);
    await sched.createPriorityClass({ body: { metadata: { name: 'runner' }, value: 1000 } });
    await sched.createPriorityClass({ body: { metadata: { name: 'placeholder' }, value: -10, preemptionPolicy: 'Never' } });
  }
  afterEach(() => sim?.stop());

  const get = (name: string) => sim.store.get('pods', ns, name);
  const nodes = () => sim.store.list('nodes');
  const cond = (obj: any, type: string) => obj?.status?.conditions?.find((c: any) => c.type === type);

  it('computes pod requests as kube-scheduler does with native sidecars', () => {
    const req = (cpu: string) => ({ resources: { requests: { cpu } } });
    const p = {
      metadata: { name: 'p' },
      spec: {
        initContainers: [
          { name: 'setup', ...req('3') },
          { name: 'dind', restartPolicy: 'Always', ...req('1') },
          { name: 'late-init', ...req('2500m') },
        ],
        containers: [{ name: 'a', ...req('1') }, { name: 'b', ...req('500m') }],
      },
    };
    // max(regular containers + sidecars = 2.5, setup = 3, late-init + dind started before it = 3.5)
    assert.equal(podRequests(p).cpu, 3500);
    p.spec.containers.push({ name: 'c', ...req('2') });
    assert.equal(podRequests(p).cpu, 4500, 'containers 3.5 + sidecar 1');
  });

  it('places pods by node selector and tolerations, and explains why a pod is unschedulable', async () => {
    await start([runnerPool({ initialNodes: 1, consolidateAfterMs: undefined }), { name: 'system', requirements: [instanceTypesRequirement('m7i.2xlarge')], initialNodes: 1 }]);
    await core.createNamespacedPod({ namespace: ns, body: pod('runner', {}) });
    await core.createNamespacedPod({ namespace: ns, body: pod('app', { runner: false, cpu: '1' }) });
    const intolerant = pod('intolerant', { cpu: '1' });
    delete intolerant.spec!.tolerations;
    await core.createNamespacedPod({ namespace: ns, body: intolerant });
    await until('bound', () => get('runner')?.spec.nodeName && get('app')?.spec.nodeName, { clock });
    const runnerNode = sim.store.get('nodes', '', get('runner')!.spec.nodeName)!;
    assert.equal(runnerNode.metadata.labels![NODE_CLASS_LABEL], 'small');
    assert.equal(sim.store.get('nodes', '', get('app')!.spec.nodeName)!.metadata.labels![NODE.nodePool], 'system');
    await clock.advance(1000);
    const stuck = get('intolerant')!;
    assert.equal(stuck.spec.nodeName, undefined);
    assert.equal(cond(stuck, 'PodScheduled').reason, 'Unschedulable');
    assert.match(cond(stuck, 'PodScheduled').message, /untolerated taint \{runs-fleet\.io\/runner: true\}/);
    assert.match(cond(stuck, 'PodScheduled').message, /didn't match Pod's node affinity\/selector/);
  });

  it('preempts a placeholder for a runner: DisruptionTarget PreemptionByScheduler, nomination, then binding', async () => {
    await start([runnerPool({ initialNodes: 1, consolidateAfterMs: undefined, limitsCpu: 16, requirements: ONE_SIZE })]);
    await core.createNamespacedPod({ namespace: ns, body: pod('placeholder', { priorityClassName: 'placeholder', image: 'registry.k8s.io/pause:3.10' }) });
    await until('placeholder running', () => get('placeholder')?.status?.phase === 'Running', { clock });
    const warmNode = get('placeholder')!.spec.nodeName;
    const seen: any[] = [];
    const inf = k8s.makeInformer(sim.makeKubeConfig(), `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns }));
    inf.on('update', (p) => seen.push(p));
    inf.on('delete', (p) => seen.push(p));
    await inf.start();
    try {
      await core.createNamespacedPod({ namespace: ns, body: pod('runner', { priorityClassName: 'runner', image: 'ghcr.io/actions/actions-runner:2.328.0' }) });
      await until('runner bound', () => get('runner')?.spec.nodeName, { clock });
      assert.equal(get('runner')!.spec.nodeName, warmNode, 'the runner took the warm node');
      assert.equal(get('placeholder'), undefined);
      const victim = await until('the preemption seen by an informer', () =>
        seen.find((p) => p.metadata.name === 'placeholder' && p.status.conditions?.some((c: any) => c.type === 'DisruptionTarget')),
      );
      const dt = victim.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
      assert.equal(dt.reason, 'PreemptionByScheduler');
      assert.equal(dt.status, 'True');
      const events = sim.store.list('events', { namespace: ns, fieldSelector: 'reason=Preempted' });
      assert.equal(events.length, 1);
      assert.equal(nodes().length, 1, 'no node was provisioned');
      assert.equal(get('runner')!.status.nominatedNodeName, undefined);
    } finally {
      await inf.stop();
    }
  });

  it('never preempts for a pod with preemptionPolicy Never', async () => {
    await start([runnerPool({ initialNodes: 1, consolidateAfterMs: undefined, limitsCpu: 4, requirements: ONE_SIZE })]);
    const sched = sim.makeKubeConfig().makeApiClient(k8s.SchedulingV1Api);
    await sched.createPriorityClass({ body: { metadata: { name: 'high-polite' }, value: 5000, preemptionPolicy: 'Never' } });
    await core.createNamespacedPod({ namespace: ns, body: pod('low', { priorityClassName: 'placeholder' }) });
    await until('low running', () => get('low')?.spec.nodeName, { clock });
    await core.createNamespacedPod({ namespace: ns, body: pod('polite', { priorityClassName: 'high-polite' }) });
    await clock.advance(60_000);
    assert.ok(get('low'), 'the low-priority pod was not preempted');
    assert.equal(get('low')!.metadata.deletionTimestamp, undefined);
    assert.equal(get('polite')!.spec.nodeName, undefined);
    assert.match(cond(get('polite'), 'PodScheduled').message, /preemptionPolicy=Never/);
    assert.equal(sim.store.list('nodes').length, 1, 'the pool limit (4 vCPU) allows no second node');
  });

  it('provisions a node for unschedulable pods after the provisioning delay, with the NodePool labels and taints', async () => {
    await start([runnerPool()]);
    await core.createNamespacedPod({ namespace: ns, body: pod('r1', { priorityClassName: 'runner' }) });
    await clock.advance(5_000);
    assert.equal(nodes().length, 0, 'not before the provisioning delay');
    assert.equal(sim.inflightNodeClaims().length, 1);
    await until('a node', () => nodes().length === 1, { clock, stepMs: 1000 });
    const node = nodes()[0]!;
    const labels = node.metadata.labels!;
    assert.equal(labels[NODE.nodePool], 'small');
    assert.equal(labels[NODE_CLASS_LABEL], 'small');
    assert.equal(labels[NODE.capacityType], 'spot');
    assert.equal(labels[NODE.arch], 'arm64');
    assert.equal(labels['node.kubernetes.io/instance-type'], 'c7g.xlarge');
    assert.equal(labels[NODE.instanceFamily], 'c7g');
    assert.deepEqual(node.spec.taints, [{ ...RUNNER_TAINT }]);
    await until('r1 bound', () => get('r1')?.spec.nodeName === node.metadata.name, { clock });
  });

  it('batches pods that arrive together onto one node and never exceeds limits.cpu', async () => {
    await start([runnerPool({ limitsCpu: 12 })]);
    for (const name of ['a', 'b', 'c', 'd']) {
      await core.createNamespacedPod({ namespace: ns, body: pod(name, { priorityClassName: 'runner' }) });
      await clock.advance(200);
    }
    await until('nodes', () => nodes().length > 0 && sim.inflightNodeClaims().length === 0, { clock, stepMs: 1000 });
    await clock.advance(60_000);
    const total = nodes().reduce((s, n) => s + Number(n.status.capacity.cpu), 0);
    assert.ok(total <= 12, `pool cpu ${total} stays within limits.cpu 12`);
    const types = nodes().map((n) => n.metadata.labels!['node.kubernetes.io/instance-type']).sort();
    assert.deepEqual(types, ['c7g.2xlarge', 'c7g.xlarge'], 'two pods share an 8-vCPU node, the third gets a 4-vCPU one');
    const bound = ['a', 'b', 'c', 'd'].filter((n) => get(n)?.spec.nodeName);
    assert.equal(bound.length, 3);
    const warned = sim.store.list('events', { namespace: ns, fieldSelector: 'reason=FailedScheduling' }).filter((e) => e.source?.component === 'karpenter');
    assert.ok(warned.some((e) => /exceed limits for nodepool: "small"/.test(e.message)));
  });

  it('consolidates an empty node after consolidateAfter; placeholders and do-not-disrupt nodes stay', async () => {
    await start([runnerPool()]);
    await core.createNamespacedPod({ namespace: ns, body: pod('job', { priorityClassName: 'runner', image: 'busybox:1.36', restartPolicy: 'Never', annotations: { 'sim.runs-fleet.io/run-ms': '60000' } }) });
    await until('job running', () => get('job')?.status?.phase === 'Running', { clock, stepMs: 1000 });
    await core.createNamespacedPod({ namespace: ns, body: pod('holder', { priorityClassName: 'placeholder' }) });
    await until('holder running', () => get('holder')?.status?.phase === 'Running', { clock, stepMs: 1000 });
    const jobNode = get('job')!.spec.nodeName;
    const holderNode = get('holder')!.spec.nodeName;
    assert.notEqual(jobNode, holderNode, 'each pod fills a 4-vCPU node');
    await until('job finished', () => get('job')?.status?.phase === 'Succeeded', { clock, stepMs: 1000 });
    await clock.advance(20_000);
    assert.ok(sim.store.get('nodes', '', jobNode), 'kept within consolidateAfter');
    await until('empty node removed', () => !sim.store.get('nodes', '', jobNode), { clock, stepMs: 1000 });
    await clock.advance(120_000);
    assert.ok(sim.store.get('nodes', '', holderNode), 'a node holding a placeholder is not empty');

    await core.deleteNamespacedPod({ namespace: ns, name: 'holder' });
    sim.api.mutate(sim.api.store.byUid(sim.store.get('nodes', '', holderNode)!.metadata.uid)!.t, '', holderNode, (d) => {
      d.metadata.annotations = { ...(d.metadata.annotations ?? {}), 'karpenter.sh/do-not-disrupt': 'true' };
    });
    await clock.advance(120_000);
    assert.ok(sim.store.get('nodes', '', holderNode), 'do-not-disrupt blocks consolidation');
  });

  it('injects a spot interruption: pods get DisruptionTarget and fail, the node goes, the Job sees the loss', async () => {
    await start([runnerPool()]);
    const batch = sim.makeKubeConfig().makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobBody('runner', { backoffLimit: 0 }, { priorityClassName: 'runner', nodeSelector: { [NODE_CLASS_LABEL]: 'small' }, tolerations: TOLERATE_RUNNERS }),
    });
    const running = await until('runner running', () => sim.store.list('pods', { namespace: ns }).find((p) => p.status?.phase === 'Running'), { clock, stepMs: 1000 });
    const node = running.spec.nodeName;
    assert.equal(sim.store.get('nodes', '', node)!.metadata.labels![NODE.capacityType], 'spot');
    const seen: any[] = [];
    const inf = k8s.makeInformer(sim.makeKubeConfig(), `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns }));
    inf.on('update', (p) => seen.push(p));
    inf.on('delete', (p) => seen.push(p));
    await inf.start();
    try {
      sim.injectSpotInterruption(node);
      assert.equal(sim.store.get('nodes', '', node), undefined);
      const failed = await until('failed pod seen', () => seen.find((p) => p.status.phase === 'Failed'));
      const dt = failed.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
      assert.equal(dt.reason, 'TerminationByKubelet');
      assert.equal(failed.status.containerStatuses[0].state.terminated.exitCode, 137);
      await until('pod removed', () => sim.store.list('pods', { namespace: ns }).length === 0, { clock });
      const job = await until('job failed', () => {
        const j = sim.store.get('jobs', ns, 'runner');
        return cond(j, 'Failed') ? j : undefined;
      }, { clock });
      assert.equal(job.status.failed, 1);
      assert.throws(() => sim.injectSpotInterruption('no-such-node'), /no node "no-such-node"/);
    } finally {
      await inf.stop();
    }
  });
});
