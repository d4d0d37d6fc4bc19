import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { intervals, podStages, stampTime } from '../../runtime/controllers/watcher/stages.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const node = (created: number, readyAt: number): V1Node => ({
  metadata: { name: 'n1', creationTimestamp: new Date(created) },
  status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt) }] },
});
const pod = (o: { running?: number; finished?: number; phase?: string } = {}): V1Pod => ({
  metadata: { name: 'runner-1-1-x', creationTimestamp: new Date(T0) },
  spec: { nodeName: 'n1', containers: [{ name: 'runner' }] },
  status: {
    phase: o.phase ?? (o.finished ? 'Succeeded' : o.running ? 'Running' : 'Pending'),
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(T0 + 40_000) }],
    containerStatuses: o.running === undefined ? [] : [{
      name: 'runner', ready: true, restartCount: 0, image: 'x', imageID: '',
      state: o.finished ? { terminated: { exitCode: 0, startedAt: new Date(o.running), finishedAt: new Date(o.finished) } } : { running: { startedAt: new Date(o.running) } },
    }],
  },
});

describe('stages (pure)', () => {
  it('cold: the node came up after the pod; its Ready time is the node stage', () => {
    const s = podStages(pod({ running: T0 + 45_000 }), node(T0 + 5_000, T0 + 35_000), T0 + 3_600_000);
    assert.deepEqual(s, { scheduledAt: T0 + 40_000, start: 'cold', nodeReadyAt: T0 + 35_000, runningAt: T0 + 45_000 });
  });

  it('warm: the node was there before the pod', () => {
    const s = podStages(pod({ running: T0 + 45_000 }), node(T0 - 600_000, T0 - 500_000), T0 + 3_600_000);
    assert.equal(s.start, 'warm');
    assert.equal(s.nodeReadyAt, undefined);
  });

  it('finished pods report the runner container end', () => {
    const s = podStages(pod({ running: T0 + 45_000, finished: T0 + 300_000 }), undefined, T0 + 3_600_000);
    assert.equal(s.finishedAt, T0 + 300_000);
    assert.equal(s.start, undefined);
  });

  it('a live observation beats whole-second object times; a late one keeps the object time', () => {
    assert.equal(stampTime(T0, T0 + 420), T0 + 420);
    assert.equal(stampTime(T0, T0 + 60_000), T0);
    assert.equal(stampTime(undefined, T0 + 5), T0 + 5);
    assert.equal(stampTime(T0 + 1_000, T0), T0 + 1_000);
  });

  it('intervals: only known spans; under a second negative is whole-second rounding (0), more is dropped', () => {
    const got = intervals({ receivedAt: T0, enqueuedAt: T0 + 5, dequeuedAt: T0 + 20, jobCreatedAt: T0 + 1_300, runningAt: T0 + 9_300, scheduledAt: T0 + 800 },
      ['queue_wait', 'provision', 'scheduling', 'webhook_to_running', 'run']);
    assert.deepEqual(got, [['queue_wait', 0.015], ['provision', 1.28], ['scheduling', 0], ['webhook_to_running', 9.3]]);
    assert.deepEqual(intervals({ jobCreatedAt: T0 + 1_000, scheduledAt: T0 }, ['scheduling']), []);
  });
});
