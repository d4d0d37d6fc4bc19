import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { instanceType } from '../../runtime/capacity/catalog.ts';
import { DEFAULT_SPOT_PRICE_RATIO } from '../../runtime/capacity/price.ts';
import { bytes, cpuMilli } from '../../runtime/capacity/quantity.ts';
import { NODE, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { buildPrePullDaemonSet, PREPULL_DAEMONSET_NAME } from '../../runtime/controllers/image-warming/build-prepull.ts';
import type { VirtualClock } from '../../sim/k8s/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { instanceTypesRequirement, type NodePool } from '../../sim/k8s/model/nodepool.ts';
import { uniqueName, until } from './helpers.ts';

const MiB = 2 ** 20;
const TOLERATE = [{ key: RUNNER_TAINT.key, operator: 'Exists' }];

function pool(name: string, types: string[], o: Partial<NodePool> = {}): NodePool {
  return { name, labels: { pool: name }, taints: [{ ...RUNNER_TAINT }], requirements: [instanceTypesRequirement(...types)], ...o };
}

function pod(name: string, poolName: string, cpu: string, memory = '256Mi'): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeSelector: { pool: poolName },
      tolerations: TOLERATE,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu, memory } } }],
    },
  };
}

describe('sim/k8s capacity: EKS nodes as Karpenter predicts them, with their DaemonSets', () => {
  let sim: SimCluster<VirtualClock>;
  let core: k8s.CoreV1Api;
  let ns: string;

  async function start(pools: NodePool[], daemonSets?: []): Promise<void> {
    sim = await startSimCluster({ clock: 'virtual', nodePools: pools, timings: { provisioningMs: 40_000, imagePullMs: 100, containerStartMs: 100 }, ...(daemonSets ? { daemonSets } : {}) });
    core = sim.makeKubeConfig().makeApiClient(k8s.CoreV1Api);
    ns = uniqueName('cap');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  }
  afterEach(() => sim?.stop());

  const phaseOf = (name: string) => sim.store.get('pods', ns, name);

  it('a 4-vCPU node holds three pods requesting 1 CPU, not four', async () => {
    await start([pool('four', ['m7g.xlarge'], { initialNodes: 1, limitsCpu: 4 })]);
    for (const n of ['p1', 'p2', 'p3', 'p4']) await core.createNamespacedPod({ namespace: ns, body: pod(n, 'four', '1') });
    await until('three bound', () => ['p1', 'p2', 'p3', 'p4'].filter((n) => phaseOf(n)?.spec.nodeName).length === 3, { clock: sim.clock });
    await sim.clock.advance(120_000);
    const pods = (await core.listNamespacedPod({ namespace: ns })).items;
    assert.equal(pods.filter((p) => p.spec!.nodeName).length, 3, '3920m allocatable − 180m of DaemonSets = 3740m: room for three');
    const pending = pods.find((p) => !p.spec!.nodeName)!;
    const cond = pending.status!.conditions!.find((c) => c.type === 'PodScheduled')!;
    assert.equal(cond.reason, 'Unschedulable');
    assert.match(cond.message!, /Insufficient cpu/);
    assert.equal((await core.listNode()).items.length, 1, 'limits.cpu 4 allows no second node');
  });

  it('Graviton nodes report capacity and allocatable exactly as allocatable.md works them out', async () => {
    await start([pool('c7g', ['c7g.xlarge'], { initialNodes: 1 }), pool('m7g', ['m7g.2xlarge'], { initialNodes: 1 })]);
    const nodes = (await core.listNode()).items;
    const of = (type: string) => nodes.find((n) => n.metadata!.labels!['node.kubernetes.io/instance-type'] === type)!;
    const res = (q: Record<string, string>) => ({ cpu: cpuMilli(q.cpu), memMiB: bytes(q.memory) / MiB, pods: Number(q.pods) });
    assert.deepEqual(res(of('c7g.xlarge').status!.capacity!), { cpu: 4000, memMiB: 7518, pods: 58 });
    assert.deepEqual(res(of('c7g.xlarge').status!.allocatable!), { cpu: 3920, memMiB: 6525, pods: 58 });
    assert.deepEqual(res(of('m7g.2xlarge').status!.capacity!), { cpu: 8000, memMiB: 30251, pods: 58 });
    assert.deepEqual(res(of('m7g.2xlarge').status!.allocatable!), { cpu: 7910, memMiB: 29258, pods: 58 });
    assert.equal(of('c7g.xlarge').status!.nodeInfo!.architecture, 'arm64');
    assert.equal(of('c7g.xlarge').metadata!.labels!['karpenter.k8s.aws/instance-memory'], '8192');
  });

  it('a DaemonSet runs only on the nodes its affinity selects and whose taints it tolerates, those there when it is created included', async () => {
    await start([pool('runners', ['m7g.xlarge'], { initialNodes: 1, labels: { pool: 'runners', [NODE_CLASS_LABEL]: 'c4' } }), pool('plain', ['m7g.xlarge'], { initialNodes: 1 }), pool('untolerated', ['m7g.xlarge'], { initialNodes: 1, labels: { pool: 'untolerated', [NODE_CLASS_LABEL]: 'c4' }, taints: [{ key: 'other', value: 'x', effect: 'NoSchedule' }] })]);
    const doc = parseConfigDocument({ classes: [{ name: 'c4', arch: 'arm64', cpu: 2, memoryGiB: 4, diskGiB: 20, instanceFamilies: ['m7g'], nodePoolCpuLimit: 64 }] });
    const apps = sim.makeKubeConfig().makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDaemonSet({ namespace: ns, body: buildPrePullDaemonSet(doc.runner, ns) });
    const runnerNode = sim.store.list('nodes').find((n) => n.metadata.labels?.pool === 'runners')!.metadata.name;
    await until('the pre-pull pod on the runner node', () => sim.store.list('pods', { namespace: ns }).length === 1, { clock: sim.clock });
    await sim.clock.advance(5_000);
    assert.deepEqual(sim.store.list('pods', { namespace: ns }).map((p) => p.spec.nodeName), [runnerNode]);
    const ds = (await apps.readNamespacedDaemonSet({ namespace: ns, name: PREPULL_DAEMONSET_NAME })).status!;
    assert.deepEqual([ds.desiredNumberScheduled, ds.currentNumberScheduled], [1, 1]);
  });

  it('every node runs the EKS DaemonSets as pods users can list', async () => {
    await start([pool('a', ['m7g.xlarge'], { initialNodes: 2 })]);
    const kc = sim.makeKubeConfig();
    await until('daemon pods', async () => (await core.listNamespacedPod({ namespace: 'kube-system' })).items.length === 6, { clock: sim.clock });
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system' })).items;
    for (const node of (await core.listNode()).items) {
      const names = pods.filter((p) => p.spec!.nodeName === node.metadata!.name).map((p) => p.metadata!.ownerReferences![0]!.name).sort();
      assert.deepEqual(names, ['aws-node', 'ebs-csi-node', 'kube-proxy']);
    }
    await until('daemon pods running', () => sim.store.list('pods', { namespace: 'kube-system' }).every((p) => p.status?.phase === 'Running'), { clock: sim.clock });
    const ds = (await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDaemonSet({ namespace: 'kube-system' })).items;
    assert.deepEqual(ds.map((d) => [d.metadata!.name, d.status!.desiredNumberScheduled, d.status!.currentNumberScheduled]), [['aws-node', 2, 2], ['ebs-csi-node', 2, 2], ['kube-proxy', 2, 2]]);
    // A DaemonSet pod that goes away comes back on its node.
    const victim = pods.find((p) => p.metadata!.name!.startsWith('kube-proxy-'))!;
    await core.deleteNamespacedPod({ namespace: 'kube-system', name: victim.metadata!.name!, gracePeriodSeconds: 0 });
    await until('kube-proxy back', () => sim.store.list('pods', { namespace: 'kube-system' }).filter((p) => p.spec.nodeName === victim.spec!.nodeName && p.metadata.name.startsWith('kube-proxy-') && !p.metadata.deletionTimestamp).length === 1 && !sim.store.get('pods', 'kube-system', victim.metadata!.name!), { clock: sim.clock });
  });

  for (const [daemonSets, nodes] of [[undefined, 2], [[], 1]] as const) {
    it(`Karpenter counts the DaemonSets it will run: two 1900m pods need ${nodes} 4-vCPU node(s) ${daemonSets ? 'without' : 'with'} them`, async () => {
      await start([pool('four', ['m7g.xlarge'], { limitsCpu: 40 })], daemonSets ? [] : undefined);
      for (const n of ['p1', 'p2']) await core.createNamespacedPod({ namespace: ns, body: pod(n, 'four', '1900m') });
      await until('both bound', () => phaseOf('p1')?.spec.nodeName && phaseOf('p2')?.spec.nodeName, { clock: sim.clock, stepMs: 1000 });
      // 2 × 1900m = 3800m: within 3920m allocatable, beyond the 3740m the EKS DaemonSets leave.
      assert.equal(sim.store.list('nodes').length, nodes);
      assert.equal(sim.store.list('pods', { namespace: 'kube-system' }).length, daemonSets ? 0 : 3 * nodes);
    });
  }

  it('refuses a NodePool whose requirements no catalog type satisfies, naming it', async () => {
    await assert.rejects(
      startSimCluster({ clock: 'virtual', nodePools: [pool('none', ['c7g.medium'])] }),
      /sim NodePool "none": no instance type in runtime\/capacity\/instance-types\.json satisfies its requirements/,
    );
  });

  it('enforces max pods: the DaemonSets take their slots first', async () => {
    await start([pool('few', ['m7g.xlarge'], { initialNodes: 1, limitsCpu: 4, kubelet: { maxPods: 5 } })]);
    for (const n of ['p1', 'p2', 'p3']) await core.createNamespacedPod({ namespace: ns, body: pod(n, 'few', '10m') });
    await until('two bound', () => ['p1', 'p2', 'p3'].filter((n) => phaseOf(n)?.spec.nodeName).length === 2, { clock: sim.clock });
    await sim.clock.advance(60_000);
    const pending = ['p1', 'p2', 'p3'].map(phaseOf).find((p) => !p?.spec.nodeName)!;
    assert.match(pending.status.conditions.find((c: any) => c.type === 'PodScheduled').message, /Too many pods/);
  });

  it('Karpenter launches the cheapest type that fits after the DaemonSets, spot where allowed, and the sim prices node time', async () => {
    const spotOrOd = { key: NODE.capacityType, operator: 'In' as const, values: ['spot', 'on-demand'] };
    await start([
      pool('od', ['c7g.xlarge', 'm7g.xlarge', 'c7g.2xlarge', 'r7g.xlarge'], { limitsCpu: 100 }),
      pool('spot', ['m7g.xlarge'], { limitsCpu: 100, requirements: [instanceTypesRequirement('m7g.xlarge'), spotOrOd] }),
    ]);
    // 3 CPU / 10 GiB: not a c7g.xlarge (6525 MiB), and m7g.xlarge ($0.1632) beats c7g.2xlarge ($0.29) and r7g.xlarge ($0.2142).
    await core.createNamespacedPod({ namespace: ns, body: pod('big', 'od', '3', '10Gi') });
    await core.createNamespacedPod({ namespace: ns, body: pod('cheap', 'spot', '1') });
    await until('both bound', () => phaseOf('big')?.spec.nodeName && phaseOf('cheap')?.spec.nodeName, { clock: sim.clock, stepMs: 1000 });
    const nodeOf = (p: string) => sim.store.get('nodes', '', phaseOf(p)!.spec.nodeName)!;
    assert.equal(nodeOf('big').metadata.labels!['node.kubernetes.io/instance-type'], 'm7g.xlarge');
    assert.equal(nodeOf('big').metadata.labels![NODE.capacityType], 'on-demand');
    assert.equal(nodeOf('cheap').metadata.labels![NODE.capacityType], 'spot');
    await sim.clock.advance(3_600_000);
    const cost = sim.nodeCost();
    const line = (ct: string) => cost.lines.find((l) => l.instanceType === 'm7g.xlarge' && l.capacityType === ct)!;
    const hours = (ct: string) => line(ct).nodeSeconds / 3600;
    assert.ok(hours('on-demand') > 1 && hours('on-demand') < 1 + 60 / 3600, 'billed from launch, about 40 s before it was Ready');
    const od = instanceType('m7g.xlarge').onDemandUsdPerHour;
    assert.ok(Math.abs(line('on-demand').usd - od * hours('on-demand')) < 1e-9);
    assert.ok(Math.abs(line('spot').usd - od * DEFAULT_SPOT_PRICE_RATIO * hours('spot')) < 1e-9);
    assert.ok(Math.abs(cost.usd - line('on-demand').usd - line('spot').usd) < 1e-9);
  });
});
