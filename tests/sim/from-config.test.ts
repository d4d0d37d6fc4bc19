import assert from 'node:assert/strict';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { NODE, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { nodePoolsFromConfig, SYSTEM_POOL } from '../../sim/k8s/from-config.ts';
import { nodeLabels } from '../../sim/k8s/model/nodepool.ts';

const doc = parseConfigDocument({
  classes: [
    { name: 'arm64-4cpu', arch: 'arm64', cpu: 4, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['c7g', 'm7g'], nodePoolCpuLimit: 64, capacityTypes: ['spot'] },
    { name: 'amd64-2cpu', arch: 'amd64', cpu: 2, memoryGiB: 4, diskGiB: 50, instanceFamilies: ['c7i'], nodePoolCpuLimit: 16 },
  ],
});

describe('sim/k8s nodePoolsFromConfig', () => {
  it('makes one tainted NodePool per runner class with its arch, capacity types, CPU limit and sizes', () => {
    const pools = nodePoolsFromConfig(doc);
    assert.deepEqual(pools.map((p) => p.name), ['arm64-4cpu', 'amd64-2cpu', SYSTEM_POOL]);
    const arm = pools[0]!;
    assert.deepEqual(arm.taints, [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }]);
    assert.equal(arm.arch, 'arm64');
    assert.deepEqual(arm.capacityTypes, ['spot']);
    assert.equal(arm.limitsCpu, 64);
    assert.equal(arm.consolidateAfterMs, 30_000);
    assert.deepEqual(
      arm.instanceTypes.map((t) => `${t.name}/${t.cpu}/${t.memoryGiB}`),
      ['c7g.xlarge/4/8', 'm7g.xlarge/4/8', 'c7g.2xlarge/8/16', 'm7g.2xlarge/8/16', 'c7g.4xlarge/16/32', 'm7g.4xlarge/16/32'],
    );
    const labels = nodeLabels(arm, arm.instanceTypes[2]!, 'spot', 'n1');
    assert.equal(labels[NODE_CLASS_LABEL], 'arm64-4cpu');
    assert.equal(labels[NODE.nodePool], 'arm64-4cpu');
    assert.equal(labels[NODE.arch], 'arm64');
    assert.equal(labels[NODE.capacityType], 'spot');
    assert.equal(labels['node.kubernetes.io/instance-type'], 'c7g.2xlarge');
    assert.equal(labels[NODE.instanceFamily], 'c7g');
    assert.equal(labels[NODE.instanceGeneration], '7');
  });

  it('adds an untainted system pool with one node and no consolidation', () => {
    const sys = nodePoolsFromConfig(doc).find((p) => p.name === SYSTEM_POOL)!;
    assert.equal(sys.taints, undefined);
    assert.equal(sys.initialNodes, 1);
    assert.equal(sys.consolidateAfterMs, undefined);
    assert.equal(nodePoolsFromConfig(doc, { systemNode: false }).some((p) => p.name === SYSTEM_POOL), false);
  });
});
