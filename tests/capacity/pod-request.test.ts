import assert from 'node:assert/strict';
import { EKS_DAEMONSETS, daemonSetOverhead, roomForPods } from '../../runtime/capacity/daemonsets.ts';
import { allocatable } from '../../runtime/capacity/allocatable.ts';
import { instanceType } from '../../runtime/capacity/catalog.ts';
import { effectiveRequest, podRequest } from '../../runtime/capacity/pod-request.ts';

const c = (cpu: string, memory: string, restartPolicy?: string) => ({ ...(restartPolicy ? { restartPolicy } : {}), resources: { requests: { cpu, memory } } });
const Mi = 2 ** 20;

describe('capacity: effective pod requests and DaemonSet overhead', () => {
  it('sums containers and sidecars; an init container counts only at its peak', () => {
    assert.deepEqual(effectiveRequest({ containers: [c('1', '1Gi'), c('250m', '512Mi')] }), { cpuMilli: 1250, memoryBytes: 1536 * Mi });
    // A large plain init container dominates; sidecars started before it add to its step.
    assert.deepEqual(effectiveRequest({ initContainers: [c('100m', '100Mi', 'Always'), c('2', '64Mi')], containers: [c('500m', '1Gi')] }), { cpuMilli: 2100, memoryBytes: 1124 * Mi });
    // A sidecar started after the init container does not add to that init step.
    assert.deepEqual(effectiveRequest({ initContainers: [c('2', '64Mi'), c('100m', '100Mi', 'Always')], containers: [c('500m', '1Gi')] }), { cpuMilli: 2000, memoryBytes: 1124 * Mi });
    assert.deepEqual(effectiveRequest({ containers: [{ resources: { limits: { cpu: '2', memory: '1G' } } }], overhead: { cpu: '250m', memory: '120Mi' } }), { cpuMilli: 2250, memoryBytes: 1e9 + 120 * Mi });
    assert.deepEqual(podRequest({ containers: [c('3750m', '15Gi')] }), { cpuMilli: 3750, memoryMiB: 15360, pods: 1 });
    // Pod-level resources replace the containers' figure per resource; overhead still adds.
    assert.deepEqual(effectiveRequest({ resources: { requests: { cpu: '3' } }, containers: [c('1', '1Gi'), c('1', '1Gi')], overhead: { cpu: '100m' } }), { cpuMilli: 3100, memoryBytes: 2048 * Mi });
    assert.deepEqual(effectiveRequest({ resources: { limits: { memory: '4Gi' } }, containers: [c('1', '1Gi')] }), { cpuMilli: 1000, memoryBytes: 4096 * Mi });
  });

  it('every node pays aws-node (with the policy agent), kube-proxy and ebs-csi-node', () => {
    assert.deepEqual(EKS_DAEMONSETS.map((d) => d.name), ['aws-node', 'kube-proxy', 'ebs-csi-node']);
    for (const d of EKS_DAEMONSETS) assert.match(d.source, /\S{10,}/, `${d.name} names its source`);
    // aws-node: max(init 25m, 25m + 25m) = 50m; kube-proxy 100m; ebs-csi-node 3 × 10m and 40 + 32 + 32 Mi.
    assert.deepEqual(daemonSetOverhead(), { cpuMilli: 180, memoryMiB: 104, pods: 3 });
    assert.deepEqual(roomForPods(allocatable(instanceType('m7g.xlarge'))), { cpuMilli: 3740, memoryMiB: 13999, pods: 55 });
  });
});
