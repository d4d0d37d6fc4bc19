import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { allocatable, capacity, eniLimitedPods, kubeReservedCpuMilli } from '../../runtime/capacity/allocatable.ts';
import { instanceType, instanceTypes } from '../../runtime/capacity/catalog.ts';

interface Row {
  name: string;
  arch: string;
  vcpu: number;
  memoryMiB: number;
  maxPods: number;
  cpuMilli: number;
  allocMiB: number;
}

/** The table at the end of ../shared/reference/ec2/allocatable.md (copied as a fixture). */
function tableRows(): Row[] {
  const text = readFileSync(new URL('./fixtures/allocatable-table.md', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => /^\| [a-z0-9]+\.[a-z0-9]+ \|/.test(l))
    .map((l) => {
      const [name, arch, vcpu, mem, pods, cpu, alloc] = l.split('|').slice(1, -1).map((c) => c.trim());
      return { name: name!, arch: arch!, vcpu: Number(vcpu), memoryMiB: Number(mem), maxPods: Number(pods), cpuMilli: Number(cpu), allocMiB: Number(alloc) };
    });
}

describe('capacity: allocatable as Karpenter predicts it', () => {
  it('reproduces the three worked examples of allocatable.md exactly', () => {
    const c7g = instanceType('c7g.xlarge');
    assert.equal(eniLimitedPods(c7g), 58);
    assert.deepEqual(capacity(c7g), { cpuMilli: 4000, memoryMiB: 7518, pods: 58 });
    assert.deepEqual(allocatable(c7g), { cpuMilli: 3920, memoryMiB: 6525, pods: 58 });
    assert.deepEqual(capacity(instanceType('m7g.2xlarge')), { cpuMilli: 8000, memoryMiB: 30251, pods: 58 });
    assert.deepEqual(allocatable(instanceType('m7g.2xlarge')), { cpuMilli: 7910, memoryMiB: 29258, pods: 58 });
    assert.deepEqual(capacity(instanceType('c7i.4xlarge')), { cpuMilli: 16000, memoryMiB: 30310, pods: 234 });
    assert.deepEqual(allocatable(instanceType('c7i.4xlarge')), { cpuMilli: 15890, memoryMiB: 27381, pods: 234 });
  });

  it('matches every row of the table for all 75 catalog types', () => {
    const rows = tableRows();
    assert.equal(rows.length, 75);
    assert.deepEqual(rows.map((r) => r.name).sort(), instanceTypes().map((t) => t.name).sort());
    for (const r of rows) {
      const t = instanceType(r.name);
      assert.deepEqual([t.arch, t.vcpu, t.memoryMiB, t.maxPods], [r.arch, r.vcpu, r.memoryMiB, r.maxPods], `${r.name} catalog facts`);
      assert.deepEqual(allocatable(t), { cpuMilli: r.cpuMilli, memoryMiB: r.allocMiB, pods: r.maxPods }, r.name);
    }
  });

  it('reserves CPU by the tiers 6 %, 1 %, 0.5 %, 0.25 %', () => {
    assert.deepEqual([1, 2, 4, 8, 16, 32].map(kubeReservedCpuMilli), [60, 70, 80, 90, 110, 150]);
  });

  it('applies kubelet settings the way Karpenter does', () => {
    const t = instanceType('c7g.xlarge');
    // maxPods caps pods but AL2023 still reserves memory for the ENI-limited 58.
    assert.deepEqual(allocatable(t, { maxPods: 20 }), { cpuMilli: 3920, memoryMiB: 6525, pods: 20 });
    assert.equal(allocatable(t, { podsPerCore: 4 }).pods, 16);
    assert.deepEqual(allocatable(t, { kubeReserved: { cpu: '200m', memory: '1Gi' }, systemReserved: { cpu: '100m', memory: '100Mi' } }), {
      cpuMilli: 3700, memoryMiB: 7518 - 1024 - 100 - 100, pods: 58,
    });
    assert.equal(allocatable(t, { evictionHard: { 'memory.available': '10%' } }).memoryMiB, 7518 - 893 - Math.ceil(751.8));
    assert.equal(allocatable(t, { evictionHard: { 'memory.available': '100%' } }).memoryMiB, 7518 - 893);
    assert.equal(allocatable(t, {}, { reservedEnis: 1 }).pods, 3 * 14 + 2);
  });

  it('a whole-vCPU request loses one slot per node: 4 × 1 CPU do not fit 4 vCPU', () => {
    const a = allocatable(instanceType('m7g.xlarge'));
    assert.equal(Math.floor(a.cpuMilli / 1000), 3);
  });
});
