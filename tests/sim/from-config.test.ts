import assert from 'node:assert/strict';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { NODE, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { nodePoolsFromConfig, SYSTEM_POOL } from '../../sim/k8s/from-config.ts';
import { capacityTypesOf, nodeLabels, poolInstanceTypes } from '../../sim/k8s/model/nodepool.ts';
import { classRequirements } from '../../runtime/capacity/class-requirements.ts';

const doc = parseConfigDocument({
  classes: [
    { name: 'arm64-4cpu', arch: 'arm64', cpu: 4, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['c7g', 'm7g'], nodePoolCpuLimit: 64, capacityTypes: ['spot'] },
    { name: 'amd64-2cpu', arch: 'amd64', cpu: 2, memoryGiB: 4, diskGiB: 50, instanceFamilies: ['c7i'], nodePoolCpuLimit: 16 },
  ],
});

describe('sim/k8s nodePoolsFromConfig', () => {
  it('makes one tainted NodePool per runner class with its requirements (its own size), CPU limit and disk', () => {
    const pools = nodePoolsFromConfig(doc);
    assert.deepEqual(pools.map((p) => p.name), ['arm64-4cpu', 'amd64-2cpu', SYSTEM_POOL]);
    const arm = pools[0]!;
    assert.deepEqual(arm.taints, [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }]);
    assert.deepEqual(arm.requirements, classRequirements(doc.classes[0]!, { runnersPerNode: 1 }), 'the same requirements infra/karpenter-objects.ts gives the real NodePool');
    assert.deepEqual(capacityTypesOf(arm), ['spot']);
    assert.deepEqual(capacityTypesOf(pools[1]!), ['spot', 'on-demand'], 'the class default');
    assert.equal(arm.limitsCpu, 64);
    assert.equal(arm.diskGiB, 50);
    assert.equal(arm.consolidateAfterMs, 30_000);
    // 4 vCPU / 8 GiB in c7g or m7g: only c7g.xlarge (m7g.xlarge has 16 GiB).
    assert.deepEqual(poolInstanceTypes(arm).map((t) => t.name), ['c7g.xlarge']);
    assert.deepEqual(poolInstanceTypes(pools[1]!).map((t) => t.name), ['c7i.large']);
    const labels = nodeLabels(arm, poolInstanceTypes(arm)[0]!, 'spot', 'n1');
    assert.equal(labels[NODE_CLASS_LABEL], 'arm64-4cpu');
    assert.equal(labels[NODE.nodePool], 'arm64-4cpu');
    assert.equal(labels[NODE.arch], 'arm64');
    assert.equal(labels[NODE.capacityType], 'spot');
    assert.equal(labels['node.kubernetes.io/instance-type'], 'c7g.xlarge');
    assert.equal(labels[NODE.instanceFamily], 'c7g');
    assert.equal(labels[NODE.instanceGeneration], '7');
    assert.equal(labels['karpenter.k8s.aws/instance-memory'], '8192');
  });

  it('offers larger sizes only as a what-if (maxRunnersPerNode)', () => {
    const arm = nodePoolsFromConfig(doc, { maxRunnersPerNode: 4 })[0]!;
    assert.deepEqual(poolInstanceTypes(arm).map((t) => t.name), ['c7g.xlarge', 'c7g.2xlarge', 'c7g.4xlarge']);
  });

  it('adds an untainted system pool like the default system node group (2 × m7g.large), no consolidation', () => {
    const sys = nodePoolsFromConfig(doc).find((p) => p.name === SYSTEM_POOL)!;
    assert.equal(sys.taints, undefined);
    assert.equal(sys.initialNodes, 2);
    assert.deepEqual(poolInstanceTypes(sys).map((t) => t.name), ['m7g.large']);
    assert.deepEqual(capacityTypesOf(sys), ['on-demand']);
    assert.equal(sys.consolidateAfterMs, undefined);
    assert.equal(nodePoolsFromConfig(doc, { systemNode: false }).some((p) => p.name === SYSTEM_POOL), false);
    const prod = nodePoolsFromConfig(doc, { systemNode: { arch: 'amd64', instanceTypes: ['m7i.large', 'm6i.large'], count: 3 } }).find((p) => p.name === SYSTEM_POOL)!;
    assert.deepEqual(poolInstanceTypes(prod).map((t) => t.name), ['m7i.large', 'm6i.large']);
  });
});
