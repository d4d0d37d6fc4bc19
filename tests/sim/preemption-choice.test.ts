import assert from 'node:assert/strict';
import type { Stored } from '../../sim/k8s/api/types.ts';
import { selectPreemption } from '../../sim/k8s/controllers/preemption.ts';

/**
 * kube-scheduler's pickOneNodeForPreemption, criterion 5: of nodes that tie on victims'
 * priorities and count, the one whose highest-priority victims started latest is picked
 * (pkg/scheduler/framework/preemption/preemption.go). For placeholders that is the newest
 * node's — possibly one still pulling the runner image — not whichever node sorts first.
 */
const pod = (name: string, priority: number, startTime?: string): Stored =>
  ({
    metadata: { name, namespace: 'ns', uid: name },
    spec: { priority, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '3', memory: '1Gi' } } }] },
    status: { phase: 'Running', ...(startTime ? { startTime } : {}) },
  }) as unknown as Stored;
const node = (name: string) => ({ metadata: { name } }) as unknown as Stored;
const free = { cpu: 500, memory: 8 * 2 ** 30, pods: 10 };

describe('sim preemption: which node', () => {
  it('ties go to the node whose victims started latest, not to the first node', () => {
    const runner = pod('runner', 1000);
    const choice = selectPreemption(runner, [
      { node: node('a-old'), free, pods: [pod('ph-old', -10, '2026-11-23T10:00:00Z')] },
      { node: node('b-new'), free, pods: [pod('ph-new', -10, '2026-11-23T10:05:00Z')] },
      { node: node('c-mid'), free, pods: [pod('ph-mid', -10, '2026-11-23T10:02:00Z')] },
    ]);
    assert.equal(choice?.node.metadata.name, 'b-new');
    assert.deepEqual(choice?.victims.map((v) => v.metadata.name), ['ph-new']);
  });

  it('a victim not started yet counts as starting now (the latest of all)', () => {
    const choice = selectPreemption(pod('runner', 1000), [
      { node: node('a'), free, pods: [pod('started', -10, '2026-11-23T10:05:00Z')] },
      { node: node('b'), free, pods: [pod('bound-not-started', -10)] },
    ]);
    assert.equal(choice?.node.metadata.name, 'b');
  });

  it('start time only breaks ties: a lower-priority victim still wins', () => {
    const choice = selectPreemption(pod('runner', 1000), [
      { node: node('a'), free, pods: [pod('low-old', -20, '2026-11-23T09:00:00Z')] },
      { node: node('b'), free, pods: [pod('higher-new', -10, '2026-11-23T10:05:00Z')] },
    ]);
    assert.equal(choice?.node.metadata.name, 'a');
  });
});
