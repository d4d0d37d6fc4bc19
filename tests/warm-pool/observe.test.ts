import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { arrivalOf, countRunners, isWarmHit, newArrivals, runnerPhase } from '../../runtime/controllers/warm-pool/observe.ts';
import { buildRunnerObjects } from '../../runtime/k8s/build-runner-job.ts';
import { queuedJob } from '../support/jobs.ts';
import { COMPONENT, LABEL } from '../../runtime/k8s/labels.ts';

const doc = parseConfigDocument({
  classes: [
    { name: 'c4', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 400 },
    { name: 'c8', arch: 'amd64', cpu: 8, memoryGiB: 32, diskGiB: 100, instanceFamilies: ['m7i'], nodePoolCpuLimit: 400 },
    { name: 'nopool', arch: 'amd64', cpu: 2, memoryGiB: 4, diskGiB: 20, instanceFamilies: ['m7i'], nodePoolCpuLimit: 40 },
  ],
  pools: [
    { name: 'default', class: 'c4', min: 1, max: 10 },
    { name: 'release', class: 'c4', min: 0, max: 10 },
    { name: 'big', class: 'c8', min: 0, max: 4 },
  ],
});
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);

let n = 0;
function pod(o: { cls?: string; pool?: string; phase?: string; node?: string; nominated?: string; created?: number; deleting?: boolean; tried?: boolean } = {}): V1Pod {
  n++;
  return {
    metadata: {
      name: `runner-${n}`, uid: `uid-${n}`,
      creationTimestamp: new Date(o.created ?? T0),
      labels: { [LABEL.component]: COMPONENT.runner, [LABEL.class]: o.cls ?? 'c4', ...(o.pool ? { [LABEL.pool]: o.pool } : {}) },
      ...(o.deleting ? { deletionTimestamp: new Date(T0) } : {}),
    },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Pending',
      ...(o.nominated ? { nominatedNodeName: o.nominated } : {}),
      // By default a pending pod has been tried by the scheduler and found no room.
      ...(o.tried === false ? {} : { conditions: [{ type: 'PodScheduled', status: o.node ? 'True' : 'False', reason: o.node ? undefined : 'Unschedulable' }] }),
    },
  };
}

describe('warm-pool observation', () => {
  it('tells runners waiting for a node from those taking a warm slot', () => {
    assert.equal(runnerPhase(pod()), 'waiting_for_node');
    assert.equal(runnerPhase(pod({ tried: false })), 'new', 'not yet seen by the scheduler');
    assert.equal(runnerPhase(pod({ nominated: 'n1' })), 'binding', 'nominated while a placeholder is evicted');
    assert.equal(runnerPhase(pod({ node: 'n1' })), 'binding', 'bound, containers starting');
    assert.equal(runnerPhase(pod({ phase: 'Running', node: 'n1' })), 'running');
    assert.equal(runnerPhase(pod({ phase: 'Succeeded', node: 'n1' })), 'done');
    assert.equal(runnerPhase(pod({ phase: 'Failed' })), 'done');
    assert.equal(runnerPhase(pod({ deleting: true })), 'done');
  });

  it('counts runners per pool: named pool, else the first pool of the class; unpooled classes left out', () => {
    const counts = countRunners(doc, [
      pod(), pod(), pod({ tried: false }), pod({ pool: 'release' }), pod({ phase: 'Running', node: 'n' }), pod({ nominated: 'n' }),
      pod({ cls: 'c8', pool: 'default' }), pod({ cls: 'nopool' }), pod({ phase: 'Succeeded', node: 'n' }),
    ]);
    assert.deepEqual(Object.fromEntries(counts), {
      default: { pending: 2, running: 2 },
      release: { pending: 1, running: 0 },
      big: { pending: 1, running: 0 },
    });
  });

  it('counts each runner pod once as an arrival, in time order', () => {
    const a = pod({ created: T0 + 2_000 });
    const b = pod({ created: T0 });
    const c = pod({ pool: 'release', created: T0 + 1_000 });
    const times = (m: ReturnType<typeof newArrivals>) => Object.fromEntries([...m].map(([pool, arrivals]) => [pool, arrivals.map((x) => x.at)]));
    const first = newArrivals(doc, [a, b, c], new Set(), new Map());
    assert.deepEqual(times(first), { default: [T0, T0 + 2_000], release: [T0 + 1_000] });
    const d = pod({ created: T0 + 5_000 });
    const again = newArrivals(doc, [a, b, c, d], new Set([a.metadata!.uid!, b.metadata!.uid!, c.metadata!.uid!]), new Map());
    assert.deepEqual(times(again), { default: [T0 + 5_000] });
  });

  it('an arrival carries its run (repository, run id, attempt) and its job\'s identity from the pod the provisioner built', () => {
    const doc1 = parseConfigDocument({ classes: [doc.classes[0]!], pools: [{ name: 'default', class: 'c4', min: 0, max: 4 }] });
    const job = queuedJob({ jobId: 7, runId: 31, runAttempt: 2, repository: 'acme/app', workflowName: 'pipeline', jobName: 'build' });
    const cls = doc1.classes[0]!;
    const objects = buildRunnerObjects({
      doc: doc1, namespace: 'runners', runnerName: 'rf-7', encodedJitConfig: 'not-a-jit-config', job,
      runner: { className: cls.name, class: cls, pool: 'default', cpu: cls.cpu, memoryGiB: cls.memoryGiB, diskGiB: cls.diskGiB, capacityTypes: cls.capacityTypes, nodeRequirements: [], jitLabels: ['runs-fleet'], warnings: [] },
    });
    const template = objects.job.spec!.template;
    const built: V1Pod = { metadata: { ...template.metadata, uid: 'u-7', creationTimestamp: new Date(T0) }, spec: template.spec! };
    assert.deepEqual(arrivalOf(built, T0), { at: T0, run: 'acme/app#31#2', key: 'acme/app/pipeline/build' });
    assert.deepEqual(arrivalOf(pod(), T0), { at: T0 }, 'a pod without them is an arrival and nothing more');
  });

  it('a new leader counts only runners newer than the stored history', () => {
    const old = pod({ created: T0 });
    const fresh = pod({ created: T0 + 60_000 });
    const out = newArrivals(doc, [old, fresh], undefined, new Map([['default', T0 + 1_000]]));
    assert.deepEqual(Object.fromEntries(out), { default: [{ at: T0 + 60_000 }] });
  });

  it('a hit is a node that was up before the runner was created', () => {
    const node = (created: number): V1Node => ({ metadata: { name: 'n', creationTimestamp: new Date(created) } });
    assert.equal(isWarmHit(pod({ created: T0 }), node(T0 - 3_600_000)), true);
    assert.equal(isWarmHit(pod({ created: T0 }), node(T0 + 45_000)), false);
  });
});
