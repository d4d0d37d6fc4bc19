import assert from 'node:assert/strict';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { classifyFailure, type ClassifyInput } from '../../runtime/controllers/watcher/classify.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const LIMIT = 600_000;

function pod(status: V1Pod['status'], o: { created?: number; nodeSelector?: Record<string, string>; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: { name: 'runner-1-1-abc', creationTimestamp: new Date(o.created ?? T0), ...(o.deleting ? { deletionTimestamp: new Date(T0) } : {}) },
    spec: { containers: [{ name: 'runner' }], nodeSelector: o.nodeSelector },
    status,
  };
}
const job = (conditions: { type: string; status: string; reason?: string; message?: string }[] = []): V1Job => ({
  metadata: { name: 'runner-1-1', creationTimestamp: new Date(T0) }, status: { conditions, active: conditions.length ? 0 : 1 },
});
const disruption = (reason: string, message = '') => ({ type: 'DisruptionTarget', status: 'True', reason, message });
const classify = (i: Partial<ClassifyInput>) => classifyFailure({ pod: undefined, job: undefined, now: T0 + 1000, pendingLimitMs: LIMIT, ...i });
const kind = (i: Partial<ClassifyInput>) => classify(i)?.kind;

describe('failure classification (pure)', () => {
  const failedRunner = (exitCode: number, reason?: string) =>
    ({ name: 'runner', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode, reason } } });

  it('a healthy pending or running runner, or a succeeded one, is no failure', () => {
    assert.equal(classify({ pod: pod({ phase: 'Pending' }), job: job() }), undefined);
    assert.equal(classify({ pod: pod({ phase: 'Running' }), job: job() }), undefined);
    assert.equal(classify({ pod: pod({ phase: 'Succeeded' }), job: job([{ type: 'Complete', status: 'True' }]) }), undefined);
  });

  it('a disrupted pod on a spot node is a spot interruption (node known, or gone but remembered)', () => {
    const p = pod({ phase: 'Failed', conditions: [disruption('EvictionByEvictionAPI', 'Eviction API: evicting')] });
    assert.equal(kind({ pod: p, node: { capacityType: 'spot' } }), 'spot_interruption');
    assert.equal(kind({ pod: p, node: { capacityType: 'spot', gone: true } }), 'spot_interruption');
    const msg = pod({ phase: 'Failed', conditions: [disruption('DeletionByTaintManager', 'spot interruption warning')] });
    assert.equal(kind({ pod: msg }), 'spot_interruption');
    const pinned = pod({ phase: 'Failed', conditions: [disruption('TerminationByKubelet')] }, { nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } });
    assert.equal(kind({ pod: pinned }), 'spot_interruption');
  });

  it('other disruptions: node lost, eviction, preemption; all infrastructure', () => {
    for (const [reason, msg, node, expected] of [
      ['DeletionByPodGC', '', { capacityType: 'on-demand', gone: true }, 'node_lost'],
      ['DeletionByTaintManager', 'node not ready', { capacityType: 'on-demand' }, 'node_lost'],
      ['TerminationByKubelet', 'Pod was terminated in response to imminent node shutdown.', { capacityType: 'on-demand' }, 'node_lost'],
      ['TerminationByKubelet', 'The node was low on resource: memory.', { capacityType: 'on-demand' }, 'evicted'],
      ['EvictionByEvictionAPI', 'Eviction API: evicting', { capacityType: 'on-demand' }, 'evicted'],
      ['PreemptionByScheduler', 'preempted', { capacityType: 'spot' }, 'preempted'],
    ] as const) {
      const f = classify({ pod: pod({ phase: 'Failed', conditions: [disruption(reason, msg)] }), node });
      assert.equal(f?.kind, expected, `${reason} ${msg}`);
      assert.equal(f?.infrastructure, true);
    }
  });

  it('a disruption condition on a pod that still runs is not a failure yet', () => {
    assert.equal(classify({ pod: pod({ phase: 'Running', conditions: [disruption('EvictionByEvictionAPI')] }), node: { capacityType: 'spot' } }), undefined);
  });

  it("the job's own failures: OOM, deadline, non-zero exit — never infrastructure", () => {
    const oom = pod({ phase: 'Failed', containerStatuses: [failedRunner(137, 'OOMKilled')] });
    assert.deepEqual([kind({ pod: oom }), classify({ pod: oom })?.infrastructure], ['oom', false]);
    const deadline = job([{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }]);
    assert.equal(kind({ pod: pod({ phase: 'Failed', containerStatuses: [failedRunner(137, 'Error')] }), job: deadline }), 'deadline_exceeded');
    const exit = classify({ pod: pod({ phase: 'Failed', containerStatuses: [failedRunner(2, 'Error')] }) });
    assert.equal(exit?.kind, 'runner_failed');
    assert.match(exit!.detail, /exited 2/);
  });

  it('a sidecar OOM counts too', () => {
    const p = pod({ phase: 'Failed', initContainerStatuses: [{ name: 'dind', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] });
    assert.equal(kind({ pod: p }), 'oom');
  });

  it('pending past the class limit: image pull (own config, stuck) vs no capacity (infrastructure, stuck)', () => {
    const pull = pod({ phase: 'Pending', containerStatuses: [{ name: 'runner', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } } }] });
    assert.equal(classify({ pod: pull, now: T0 + LIMIT - 1 }), undefined);
    const f = classify({ pod: pull, now: T0 + LIMIT });
    assert.deepEqual([f?.kind, f?.infrastructure, f?.stuck], ['image_pull', false, true]);
    const unschedulable = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] });
    const g = classify({ pod: unschedulable, now: T0 + LIMIT });
    assert.deepEqual([g?.kind, g?.infrastructure, g?.stuck], ['pending_timeout', true, true]);
    assert.match(g!.detail, /Unschedulable/);
  });

  it('a Job whose pod never appeared is pending too', () => {
    const j: V1Job = { metadata: { name: 'runner-1-1', creationTimestamp: new Date(T0) }, status: {} };
    assert.equal(classify({ job: j, now: T0 + LIMIT })?.kind, 'pending_timeout');
    assert.equal(classify({ job: { ...j, status: { active: 1 } }, now: T0 + LIMIT }), undefined);
  });

  it('a pod deleted mid-run: node gone → node lost; otherwise not retried; before it started → nothing', () => {
    const running = pod({ phase: 'Running' });
    assert.equal(kind({ pod: running, podGone: true, node: { gone: true } }), 'node_lost');
    assert.equal(kind({ pod: running, podGone: true, node: { gone: false } }), 'runner_failed');
    assert.equal(classify({ pod: pod({ phase: 'Pending' }), podGone: true }), undefined);
  });

  it('kubelet pod reasons', () => {
    assert.equal(kind({ pod: pod({ phase: 'Failed', reason: 'Evicted', message: 'ephemeral storage' }) }), 'evicted');
    assert.equal(kind({ pod: pod({ phase: 'Failed', reason: 'NodeShutdown' }) }), 'node_lost');
  });
});
