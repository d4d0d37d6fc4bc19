import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { desiredForPools } from '../../runtime/controllers/warm-pool/desired-pools.ts';
import { planPlaceholders } from '../../runtime/controllers/warm-pool/plan.ts';
import { LABEL } from '../../runtime/k8s/labels.ts';

const NOW = Date.UTC(2025, 0, 6, 12, 0, 0);
const classes = [
  { name: 'c4', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 400 },
  { name: 'c8', arch: 'amd64', cpu: 8, memoryGiB: 32, diskGiB: 100, instanceFamilies: ['m7i'], nodePoolCpuLimit: 400 },
];
const docWith = (pools: unknown[]) => parseConfigDocument({ classes, pools });
const decide = (doc: ReturnType<typeof docWith>) => desiredForPools(doc, new Map(), new Map(), new Map(), NOW);

/** What the API server hands back: our object plus defaults and status. */
function live(d: V1Deployment): V1Deployment {
  const copy = structuredClone(d);
  copy.metadata = { ...copy.metadata, uid: 'u', resourceVersion: '7', annotations: { ...copy.metadata?.annotations, 'deployment.kubernetes.io/revision': '1' } };
  copy.spec!.template.spec!.dnsPolicy = 'ClusterFirst';
  copy.status = { readyReplicas: copy.spec?.replicas ?? 0 };
  return copy;
}

describe('planPlaceholders', () => {
  const doc = docWith([{ name: 'default', class: 'c4', min: 2, max: 10 }, { name: 'big', class: 'c8', min: 1, max: 4 }]);
  const want = (pool: 'default' | 'big', replicas: number, d = doc) =>
    buildPlaceholderDeployment(d.runner, d.pools.find((p) => p.name === pool)!, d.classes.find((c) => c.name === d.pools.find((p) => p.name === pool)!.class)!, 'runners', replicas);

  it('creates what is missing', () => {
    const actions = planPlaceholders(doc, 'runners', decide(doc), new Map());
    assert.deepEqual(actions.map((a) => [a.kind, a.pool, a.kind === 'create' ? a.body.spec?.replicas : -1]), [['create', 'default', 2], ['create', 'big', 1]]);
  });

  it('writes nothing when the cluster already matches (defaults and status do not count)', () => {
    const observed = new Map([['default', live(want('default', 2))], ['big', live(want('big', 1))]]);
    assert.deepEqual(planPlaceholders(doc, 'runners', decide(doc), observed), []);
  });

  it('patches only the replica count when only the count differs', () => {
    const observed = new Map([['default', live(want('default', 5))], ['big', live(want('big', 1))]]);
    const actions = planPlaceholders(doc, 'runners', decide(doc), observed);
    assert.deepEqual(actions, [{ kind: 'patch', pool: 'default', name: 'placeholder-default', ops: [{ op: 'add', path: '/spec/replicas', value: 2 }], changes: ['replicas'] }]);
  });

  it('replaces the template when the class changed, keeping annotations others set', () => {
    const resized = docWith([{ name: 'default', class: 'c8', min: 2, max: 4 }, { name: 'big', class: 'c8', min: 1, max: 4 }]);
    const observed = new Map([['default', live(want('default', 2))], ['big', live(want('big', 1))]]);
    const [action, ...rest] = planPlaceholders(resized, 'runners', decide(resized), observed);
    assert.equal(rest.length, 0);
    assert.ok(action?.kind === 'patch');
    assert.deepEqual(action.changes, ['template']);
    const template = action.ops.find((o) => o.path === '/spec/template');
    assert.equal(template?.op, 'replace');
    assert.deepEqual(template?.value, want('default', 2, resized).spec!.template);
    const annotations = action.ops.find((o) => o.path === '/metadata/annotations')?.value as Record<string, string>;
    assert.equal(annotations[LABEL.templateHash], want('default', 2, resized).metadata!.annotations![LABEL.templateHash]);
    assert.equal(annotations['deployment.kubernetes.io/revision'], '1');
  });

  it('deletes the Deployments of pools that were removed, and recreates one whose selector is not ours', () => {
    const smaller = docWith([{ name: 'big', class: 'c8', min: 1, max: 4 }]);
    const odd = live(want('big', 1));
    odd.spec!.selector = { matchLabels: { app: 'something-else' } };
    const observed = new Map([['default', live(want('default', 2))], ['big', odd]]);
    assert.deepEqual(
      planPlaceholders(smaller, 'runners', decide(smaller), observed).map((a) => [a.kind, a.pool, a.kind === 'delete' ? a.why : '']),
      [['delete', 'big', 'selector_changed'], ['delete', 'default', 'pool_removed']],
    );
  });
});
