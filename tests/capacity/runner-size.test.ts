import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { allocatable } from '../../runtime/capacity/allocatable.ts';
import { instanceType } from '../../runtime/capacity/catalog.ts';
import { daemonSetOverhead } from '../../runtime/capacity/daemonsets.ts';
import { podRequest } from '../../runtime/capacity/pod-request.ts';
import { bytes, cpuMilli } from '../../runtime/capacity/quantity.ts';
import {
  maxRunners, nodeCpuFor, runnerAllotment, runnersWithin, sizingProblems, type SizedClass,
} from '../../runtime/capacity/runner-size.ts';
import { RunnerClass } from '../../runtime/config/document.ts';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { buildClassPodTemplate } from '../../runtime/k8s/pod-template.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';

const cls = (over: Partial<RunnerClass> & Pick<RunnerClass, 'name'>): RunnerClass =>
  RunnerClass.parse({ arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 64, ...over });

const MiB = 2 ** 20;
const stackFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

describe('runner sizing (runtime/capacity/runner-size.ts)', () => {
  it('gives a 4 vCPU / 16 GiB arm64 runner what an m7g.xlarge has left after the EKS DaemonSets', () => {
    const a = runnerAllotment(cls({ name: 'c4' }));
    assert.deepEqual(a.instanceTypes, ['m7g.xlarge']);
    // allocatable.md's table: m7g.xlarge 3920m / 14103 MiB / 58 pods.
    assert.deepEqual(a.node, { cpuMilli: 3920, memoryMiB: 14103, pods: 58 });
    // aws-node max(25m init, 25m + 25m) + kube-proxy 100m + ebs-csi-node 3 × 10m; memory only ebs-csi-node's 40 + 32 + 32 Mi.
    assert.deepEqual(a.daemonSets, { cpuMilli: 180, memoryMiB: 104, pods: 3 });
    assert.deepEqual(a.pod, { cpuMilli: 3740, memoryMiB: 13999 });
    assert.deepEqual(a.dind, { cpuMilli: 250, memoryMiB: 512 });
    assert.deepEqual(a.runner, { cpuMilli: 3490, memoryMiB: 13487 });
  });

  it('takes the least allocatable of the class\'s types, so the pod fits whichever Karpenter picks', () => {
    const a = runnerAllotment(cls({ name: 'mixed', arch: 'amd64', instanceFamilies: ['m7i', 'm6i', 'm7a'] }));
    assert.deepEqual(a.instanceTypes, ['m7i.xlarge', 'm6i.xlarge', 'm7a.xlarge']);
    for (const t of a.instanceTypes) {
      const room = allocatable(instanceType(t));
      assert.ok(a.pod.cpuMilli + a.daemonSets.cpuMilli <= room.cpuMilli && a.pod.memoryMiB + a.daemonSets.memoryMiB <= room.memoryMiB, t);
    }
  });

  it('splits a node N ways for runnersPerNode: N, on an instance N times the class', () => {
    const two = cls({ name: 'two', cpu: 2, memoryGiB: 8, runnersPerNode: 2 });
    const a = runnerAllotment(two);
    assert.deepEqual(a.instanceTypes, ['m7g.xlarge'], 'two 2 vCPU / 8 GiB runners share a 4 vCPU / 16 GiB node');
    assert.deepEqual(a.pod, { cpuMilli: Math.floor(3740 / 2), memoryMiB: Math.floor(13999 / 2) });
    assert.equal(maxRunners({ ...two, nodePoolCpuLimit: 64 }), 32, '16 nodes of 4 vCPU, 2 runners each');
    assert.equal(nodeCpuFor(two, 3), 8, 'three runners take two whole nodes');
    assert.equal(runnersWithin(two, 10), 4, '10 vCPU hold two whole nodes');
  });

  it('counts NodePool capacity in whole nodes of the class\'s size', () => {
    const c8 = cls({ name: 'c8', cpu: 8, memoryGiB: 32, nodePoolCpuLimit: 100 });
    assert.equal(maxRunners(c8), 12);
    assert.equal(nodeCpuFor(c8, 5), 40);
    assert.equal(runnersWithin(c8, 100), 12);
  });

  it('estimates a size the catalog lacks (so local configs still run) and the policy text says how to fix it', () => {
    const c = cls({ name: 'c7g-16', instanceFamilies: ['c7g'] });
    const a = runnerAllotment(c);
    assert.equal(a.estimated, true);
    assert.deepEqual(a.instanceTypes, []);
    assert.equal(a.pod.cpuMilli, 3740, 'Karpenter\'s CPU reserve for 4 vCPU (80m) and the DaemonSets (180m)');
    const [problem, ...rest] = sizingProblems(c, 'runs-fleet:classes[3]');
    assert.deepEqual(rest, []);
    assert.match(problem!, /^class "c7g-16" \(runs-fleet:classes\[3\]\) needs a 4 vCPU \/ 16 GiB arm64 instance, but none of its families \(c7g\) has one/);
    assert.match(problem!, /Fix: set runs-fleet:classes\[3\]\.memoryGiB to 8 \(c7g\.xlarge 8 GiB\); or add a family with a 4 vCPU \/ 16 GiB arm64 size to runs-fleet:classes\[3\]\.instanceFamilies \(m7g, m8g, m6g\)/);
  });

  it('names families the catalog does not list, so the fix is to add their types, not to give up the family', () => {
    const [problem] = sizingProblems(cls({ name: 'burst', cpu: 2, memoryGiB: 4, instanceFamilies: ['t4g', 'c7g'] }), 'runs-fleet:classes[0]');
    assert.equal(problem, undefined, 'c7g.large is 2 vCPU / 4 GiB: the class fits');
    const [only] = sizingProblems(cls({ name: 'burst', cpu: 2, memoryGiB: 4, instanceFamilies: ['t4g'] }), 'runs-fleet:classes[0]');
    assert.match(only!, /none of its families \(t4g\) has one in the catalog.*Fix: add the t4g types to runtime\/capacity\/instance-types\.json with their source .*; or add a family with a 2 vCPU \/ 4 GiB arm64 size to runs-fleet:classes\[0\]\.instanceFamilies \(c7g, c8g, c6g\)$/);
  });

  it('reports a class that leaves a runner too little after the DaemonSets, naming the class and the fix', () => {
    const c = cls({ name: 'tight', cpu: 2, memoryGiB: 8 });
    assert.deepEqual(sizingProblems(c, 'runs-fleet:classes[0]'), []);
    const heavy = { ...daemonSetOverhead(), cpuMilli: 1500 };
    const [problem] = sizingProblems(c, 'runs-fleet:classes[0]', heavy);
    assert.match(problem!, /^class "tight" \(runs-fleet:classes\[0\]\) leaves a runner 430m CPU \/ 6740 MiB: a m7g\.large has 1930m \/ 6844 MiB allocatable, the DaemonSets take 1500m \/ 104 MiB/);
    assert.match(problem!, /Fix: raise runs-fleet:classes\[0\]\.cpu and runs-fleet:classes\[0\]\.memoryGiB$/);
  });

  for (const stack of ['Pulumi.dev.yaml', 'Pulumi.prod-existing-vpc.yaml']) {
    it(`fits every class of ${stack} on an instance of its own size, runner, placeholder and limits alike`, () => {
      const { doc } = loadStackDocument(stackFile(stack));
      for (const [i, c] of doc.classes.entries()) {
        const a = runnerAllotment(c);
        assert.deepEqual(sizingProblems(c, `classes[${i}]`), [], c.name);
        assert.ok(a.instanceTypes.length > 0, `${c.name} has catalog types`);
        for (const t of a.instanceTypes.map(instanceType)) {
          assert.equal(t.vcpu, c.cpu * c.runnersPerNode, `${t.name} is the size of ${c.name}`);
          assert.equal(t.memoryMiB, c.memoryGiB * 1024 * c.runnersPerNode, `${t.name} is the size of ${c.name}`);
        }
        const spec = buildClassPodTemplate(c, doc.runner).spec!;
        const req = podRequest(spec as Parameters<typeof podRequest>[0]);
        assert.deepEqual({ cpuMilli: req.cpuMilli, memoryMiB: req.memoryMiB }, a.pod, `${c.name}: the kubelet's effective request is the budget`);
        assert.ok(req.cpuMilli * c.runnersPerNode + a.daemonSets.cpuMilli <= a.node.cpuMilli, `${c.name} cpu fits`);
        assert.ok(req.memoryMiB * c.runnersPerNode + a.daemonSets.memoryMiB <= a.node.memoryMiB, `${c.name} memory fits`);
        // The pod as a whole is limited to its budget, and no container may exceed it.
        assert.deepEqual(spec.resources, { requests: { cpu: `${a.pod.cpuMilli}m`, memory: `${a.pod.memoryMiB}Mi` }, limits: { cpu: `${a.pod.cpuMilli}m`, memory: `${a.pod.memoryMiB}Mi` } });
        for (const ct of [...spec.containers, ...(spec.initContainers ?? [])]) {
          assert.ok(cpuMilli(ct.resources!.limits!.cpu) <= a.pod.cpuMilli, `${c.name} ${ct.name} cpu limit`);
          assert.ok(bytes(ct.resources!.limits!.memory) / MiB <= a.pod.memoryMiB, `${c.name} ${ct.name} memory limit`);
        }
        assert.ok(a.pod.cpuMilli <= c.cpu * 1000 && a.pod.memoryMiB <= c.memoryGiB * 1024, `${c.name} stays within its class`);
      }
      for (const p of doc.pools) {
        const c = doc.classes.find((k) => k.name === p.class)!;
        const spec = buildPlaceholderDeployment(doc.runner, p, c, 'ns', 1).spec!.template.spec!;
        const req = podRequest(spec as Parameters<typeof podRequest>[0]);
        assert.deepEqual({ cpuMilli: req.cpuMilli, memoryMiB: req.memoryMiB }, runnerAllotment(c).pod, `pool ${p.name}: pre-pull init containers change nothing`);
      }
    });
  }

  it('validates runnersPerNode', () => {
    assert.equal(cls({ name: 'd' }).runnersPerNode, 1);
    for (const bad of [0, 1.5, 33]) assert.equal(RunnerClass.safeParse({ ...cls({ name: 'd' }), runnersPerNode: bad }).success, false, String(bad));
  });

  it('reads a lenient class without runnersPerNode as one per node', () => {
    const lenient: SizedClass = { name: 'l', arch: 'arm64', cpu: 4, memoryGiB: 16, instanceFamilies: ['m7g'], capacityTypes: ['spot'] };
    assert.equal(runnerAllotment(lenient).pod.cpuMilli, 3740);
  });
});
