import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { allocatable } from '../../runtime/capacity/allocatable.ts';
import { INSTANCE_LABEL, instanceType } from '../../runtime/capacity/catalog.ts';
import { runnerAllotment } from '../../runtime/capacity/runner-size.ts';
import { bytes, cpuMilli } from '../../runtime/capacity/quantity.ts';
import { COMPONENT, LABEL, NODE_CLASS_LABEL } from '../../runtime/k8s/labels.ts';
import type { Stored } from '../../sim/k8s/api/types.ts';
import { startLocalStack, RUNNER_NAMESPACE, type LocalStack } from '../../sim/stack.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

/**
 * The promise, end to end: for every class of both shipped stacks, the runner Job the
 * orchestrator creates lands one per node on an instance of the class's own size — not the
 * next size up. The simulated Karpenter launches from the catalog what the class's NodePool
 * admits, nodes report Karpenter's allocatable and run the EKS DaemonSets first, so a runner
 * pod that asked for more than the node has left would stay Pending here as on EKS.
 */

const RUNNERS_PER_CLASS = 2;
const FAST = { provisioningMs: 200, imagePullMs: 10, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 };
const stackFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

const MiB = 2 ** 20;
const runnerPods = (s: LocalStack) =>
  s.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }).filter((p) => p.metadata.labels?.[LABEL.component] === COMPONENT.runner);
const running = (p: Stored) => p.status?.phase === 'Running' && Boolean(p.spec?.nodeName);

for (const file of ['Pulumi.dev.yaml', 'Pulumi.prod-existing-vpc.yaml']) {
  describe(`runner Jobs of every ${file} class, through the orchestrator and the simulated cluster`, function () {
    this.timeout(60_000);
    let s: LocalStack | undefined;
    after(async () => s?.stop());

    it(`run one per node on an instance of the class's own size (${RUNNERS_PER_CLASS} runners per class)`, async () => {
      // No warm pools: placeholders would hold nodes too, and this is about where runners land.
      const { doc } = loadStackDocument(stackFile(file));
      s = await startLocalStack({
        doc: { ...doc, pools: [] }, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('sizing'),
        sim: { timings: FAST }, orchestrator: { consumer: { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 } },
      });
      for (const cls of doc.classes)
        for (let i = 0; i < RUNNERS_PER_CLASS; i++) s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['self-hosted', `runs-fleet=1/runner=${cls.name}`] });

      const want = doc.classes.length * RUNNERS_PER_CLASS;
      const pods = await eventually(() => runnerPods(s!), (l) => l.length === want && l.every(running), 45_000);
      const nodes = new Map(s.sim.store.list('nodes').map((n) => [n.metadata.name, n]));

      for (const cls of doc.classes) {
        const a = runnerAllotment(cls);
        const mine = pods.filter((p) => p.metadata.labels?.[LABEL.class] === cls.name);
        assert.equal(mine.length, RUNNERS_PER_CLASS, cls.name);
        const hosts = new Set(mine.map((p) => p.spec.nodeName as string));
        assert.equal(hosts.size, RUNNERS_PER_CLASS, `${cls.name}: one runner per node`);
        for (const host of hosts) {
          const node = nodes.get(host)!;
          const labels = node.metadata.labels ?? {};
          const type = instanceType(labels[INSTANCE_LABEL.instanceType]!);
          assert.equal(labels[NODE_CLASS_LABEL], cls.name, `${host} belongs to ${cls.name}`);
          assert.ok(a.instanceTypes.includes(type.name), `${cls.name} runs on ${type.name}, one of ${a.instanceTypes.join(', ')}`);
          assert.equal(type.vcpu, cls.cpu, `${cls.name} on ${type.name}: the class's own vCPUs, not the next size up`);
          assert.equal(type.memoryMiB, cls.memoryGiB * 1024, `${cls.name} on ${type.name}: the class's own memory`);
          // The node reports Karpenter's allocatable, and the runner shares it only with the DaemonSets.
          const alloc = allocatable(type);
          assert.equal(cpuMilli(node.status.allocatable.cpu), alloc.cpuMilli, host);
          assert.equal(Math.floor(bytes(node.status.allocatable.memory) / MiB), alloc.memoryMiB, host);
          const others: Stored[] = s.sim.store.list('pods').filter((p) => p.spec?.nodeName === host && p.metadata.namespace !== RUNNER_NAMESPACE);
          assert.equal(others.length, a.daemonSets.pods, `${host} runs the ${a.daemonSets.pods} EKS DaemonSets beside its runner`);
        }
      }
    });
  });
}

describe('a class with runnersPerNode: 2, through the orchestrator and the simulated cluster', function () {
  this.timeout(60_000);
  let s: LocalStack | undefined;
  after(async () => s?.stop());

  it('puts two runners on one node of twice the class\'s size', async () => {
    const { doc } = loadStackDocument(stackFile('Pulumi.dev.yaml'));
    const cls = { ...doc.classes[0]!, runnersPerNode: 2 }; // 2cpu-linux-arm64: 2 vCPU / 8 GiB a runner
    s = await startLocalStack({
      doc: { ...doc, classes: [cls], pools: [], aliases: [] }, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('sizing2'),
      sim: { timings: FAST }, orchestrator: { consumer: { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 } },
    });
    for (let i = 0; i < 2; i++) s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['self-hosted', `runs-fleet=1/runner=${cls.name}`] });
    const pods = await eventually(() => runnerPods(s!), (l) => l.length === 2 && l.every(running), 45_000);
    const hosts = new Set(pods.map((p) => p.spec.nodeName as string));
    assert.equal(hosts.size, 1, 'both runners share one node');
    const node = s.sim.store.get('nodes', '', [...hosts][0]!)!;
    const type = instanceType(node.metadata.labels![INSTANCE_LABEL.instanceType]!);
    assert.deepEqual([type.vcpu, type.memoryMiB], [4, 16384], `${type.name} is 2 × the class`);
    assert.deepEqual(runnerAllotment(cls).instanceTypes.includes(type.name), true);
  });
});

describe('runners sized below their class by a cpu= label, through the orchestrator and the simulated cluster', function () {
  this.timeout(60_000);
  let s: LocalStack | undefined;
  after(async () => s?.stop());

  it('share one node of the class: two cpu=4 runners of an 8 vCPU class on one m7g.2xlarge', async () => {
    const { doc } = loadStackDocument(stackFile('Pulumi.dev.yaml'));
    const cls = doc.classes.find((c) => c.name === '8cpu-linux-arm64')!;
    s = await startLocalStack({
      doc: { ...doc, classes: [cls], pools: [], aliases: [] }, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('sizing-half'),
      sim: { timings: FAST }, orchestrator: { consumer: { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 } },
    });
    for (let i = 0; i < 2; i++) s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['self-hosted', `runs-fleet=1/runner=${cls.name}/cpu=4+4`] });
    const pods = await eventually(() => runnerPods(s!), (l) => l.length === 2 && l.every(running), 45_000);
    assert.equal(new Set(pods.map((p) => p.spec.nodeName)).size, 1, 'both half-size runners share one node');
    const half = Math.floor(runnerAllotment(cls).pod.cpuMilli / 2);
    for (const p of pods) assert.equal(cpuMilli(p.spec.resources.requests.cpu), half, 'each asks half the class\'s budget');
    assert.equal(s.sim.store.list('nodes').filter((n) => n.metadata.labels?.[NODE_CLASS_LABEL] === cls.name).length, 1);
  });
});
