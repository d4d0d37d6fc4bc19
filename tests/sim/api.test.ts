import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { deploymentBody, jobBody } from './fixtures.ts';
import { applyPatch, expectStatus, mergePatch, strategicPatch, uniqueName } from './helpers.ts';

describe('sim/k8s API server (through @kubernetes/client-node)', () => {
  let sim: SimCluster;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let apps: k8s.AppsV1Api;
  let ns: string;

  before(async () => {
    sim = await startSimCluster({ clock: 'virtual' });
    const kc = sim.makeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });
  after(() => sim.stop());
  beforeEach(async () => {
    ns = uniqueName('api');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  it('serves discovery and /version on 127.0.0.1 so clients find every resource', async () => {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const kc = sim.makeKubeConfig();
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(v.major, '1');
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    assert.deepEqual(groups.groups.map((g) => g.name).sort(), ['apps', 'batch', 'coordination.k8s.io', 'scheduling.k8s.io']);
    const coreRes = await kc.makeApiClient(k8s.CoreV1Api).getAPIResources();
    const names = coreRes.resources.map((r) => r.name);
    for (const r of ['namespaces', 'pods', 'pods/status', 'secrets', 'configmaps', 'events', 'nodes', 'nodes/status', 'podtemplates']) assert.ok(names.includes(r), r);
    const appsRes = await kc.makeApiClient(k8s.AppsV1Api).getAPIResources();
    assert.ok(appsRes.resources.some((r) => r.name === 'deployments/scale'));
  });

  it('creates with uid, resourceVersion, creationTimestamp, generation; 409 AlreadyExists; 404 NotFound as Status', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v' } } });
    assert.match(cm.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.match(cm.metadata!.resourceVersion!, /^\d+$/);
    assert.ok(cm.metadata!.creationTimestamp instanceof Date);
    const s = await expectStatus(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' } } }), 409, 'AlreadyExists');
    assert.equal(s.message, 'configmaps "a" already exists');
    const nf = await expectStatus(batch.readNamespacedJob({ namespace: ns, name: 'nope' }), 404, 'NotFound');
    assert.equal(nf.message, 'jobs.batch "nope" not found');
    await expectStatus(core.createNamespacedConfigMap({ namespace: 'no-such-ns', body: { metadata: { name: 'a' } } }), 404, 'NotFound');
    const gen = await core.createNamespacedSecret({ namespace: ns, body: { metadata: { generateName: 'jit-' }, stringData: { jitToken: 'abc' } } });
    assert.match(gen.metadata!.name!, /^jit-[a-z0-9]{5}$/);
    assert.equal(gen.data!.jitToken, Buffer.from('abc').toString('base64'));
    assert.equal((gen as { stringData?: unknown }).stringData, undefined);
    await expectStatus(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Bad_Name' } } }), 422, 'Invalid');
  });

  it('rejects a stale update with 409 Conflict and bumps generation only for spec changes', async () => {
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('j', { suspend: true }) });
    // Read back: the Job controller may have written status since the create returned.
    const job = await batch.readNamespacedJob({ namespace: ns, name: 'j' });
    assert.equal(job.metadata!.generation, 1);
    const stale = structuredClone(job);
    job.metadata!.labels = { ...(job.metadata!.labels ?? {}), touched: 'yes' };
    const relabelled = await batch.replaceNamespacedJob({ namespace: ns, name: 'j', body: job });
    assert.equal(relabelled.metadata!.generation, 1);
    assert.notEqual(relabelled.metadata!.resourceVersion, job.metadata!.resourceVersion);
    stale.spec!.parallelism = 2;
    const c = await expectStatus(batch.replaceNamespacedJob({ namespace: ns, name: 'j', body: stale }), 409, 'Conflict');
    assert.match(c.message!, /the object has been modified/);
    relabelled.spec!.parallelism = 2;
    const bumped = await batch.replaceNamespacedJob({ namespace: ns, name: 'j', body: relabelled });
    assert.equal(bumped.metadata!.generation, 2);
  });

  it('keeps status and spec apart through the /status subresource', async () => {
    const created = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } });
    assert.equal(created.status!.phase, 'Pending');
    const pod = await core.readNamespacedPod({ namespace: ns, name: 'p' });
    assert.equal(pod.spec!.restartPolicy, 'Always');
    pod.status = { ...pod.status, phase: 'Running' };
    const same = await core.replaceNamespacedPod({ namespace: ns, name: 'p', body: pod });
    assert.equal(same.status!.phase, 'Pending', 'a main-resource update ignores status');
    const patched = await core.patchNamespacedPodStatus({ namespace: ns, name: 'p', body: { status: { phase: 'Running' }, metadata: { labels: { ignored: 'yes' } } } }, mergePatch);
    assert.equal(patched.status!.phase, 'Running');
    assert.equal(patched.metadata!.labels?.ignored, undefined, 'a status update ignores metadata');
  });

  it('patches with JSON patch (the default), merge patch, strategic merge patch and server-side apply', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1', b: '2' } } });
    const j = await core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: [{ op: 'replace', path: '/data/a', value: 'x' }, { op: 'remove', path: '/data/b' }] });
    assert.deepEqual(j.data, { a: 'x' });
    await expectStatus(core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: [{ op: 'test', path: '/data/a', value: 'nope' }] }), 422);
    const m = await core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: { data: { b: '3', a: null } } }, mergePatch);
    assert.deepEqual(m.data, { b: '3' });
    const s = await core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: { metadata: { labels: { l: '1' } } } }, strategicPatch);
    assert.equal(s.metadata!.labels!.l, '1');
    await expectStatus(
      core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: { metadata: { resourceVersion: '1' }, data: { z: '1' } } }, mergePatch),
      409,
      'Conflict',
    );
    const created = await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'd', fieldManager: 'runs-fleet', force: true, body: deploymentBody('d', 0) },
      applyPatch,
    );
    assert.equal(created.spec!.replicas, 0);
    const applied = await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'd', fieldManager: 'runs-fleet', force: true, body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 0, paused: true } } },
      applyPatch,
    );
    assert.equal(applied.spec!.paused, true);
    assert.equal(applied.metadata!.uid, created.metadata!.uid);
    await expectStatus(apps.patchNamespacedDeployment({ namespace: ns, name: 'd', body: { spec: {} } }, applyPatch), 400, 'BadRequest');
  });

  it('lists with label and field selectors, and pages with limit/continue', async () => {
    for (const [name, tier] of [['a', 'web'], ['b', 'web'], ['c', 'db']] as const) {
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { tier } }, spec: { ...(name === 'c' ? { nodeName: 'n1' } : {}), containers: [{ name: 'c', image: 'busybox:1' }] } } });
    }
    const names = (l: { items: { metadata?: { name?: string } }[] }) => l.items.map((i) => i.metadata!.name).sort();
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, labelSelector: 'tier=web' })), ['a', 'b']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, labelSelector: 'tier in (db,cache),!missing' })), ['c']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, labelSelector: 'tier!=web' })), ['c']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, fieldSelector: 'metadata.name=b' })), ['b']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.nodeName=n1' })), ['c']);
    assert.deepEqual(names(await core.listPodForAllNamespaces({ fieldSelector: `metadata.namespace=${ns},status.phase=Pending` })), ['a', 'b', 'c']);
    await expectStatus(core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.bogus=1' }), 400, 'BadRequest');
    const page1 = await core.listNamespacedPod({ namespace: ns, limit: 2 });
    assert.deepEqual(names(page1), ['a', 'b']);
    assert.ok(page1.metadata!._continue);
    const page2 = await core.listNamespacedPod({ namespace: ns, limit: 2, _continue: page1.metadata!._continue });
    assert.deepEqual(names(page2), ['c']);
  });

  it('round-trips Lease MicroTime fields and scales Deployments through /scale', async () => {
    const co = sim.makeKubeConfig().makeApiClient(k8s.CoordinationV1Api);
    const now = new k8s.V1MicroTime('2026-11-23T10:00:00.123Z');
    await co.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: now, acquireTime: now } } });
    const raw = sim.store.get('leases', ns, 'leader')!;
    assert.equal(raw.spec.renewTime, '2026-11-23T10:00:00.123000Z');
    const lease = await co.readNamespacedLease({ namespace: ns, name: 'leader' });
    assert.equal(new Date(String(lease.spec!.renewTime)).toISOString(), '2026-11-23T10:00:00.123Z');
    await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('w', 0) });
    const scale = await apps.readNamespacedDeploymentScale({ namespace: ns, name: 'w' });
    assert.equal(scale.spec!.replicas, 0);
    await apps.patchNamespacedDeploymentScale({ namespace: ns, name: 'w', body: { spec: { replicas: 3 } } }, mergePatch);
    assert.equal((await apps.readNamespacedDeployment({ namespace: ns, name: 'w' })).spec!.replicas, 3);
  });

  it('admits pods like the Priority plugin: priorityClassName → priority and preemptionPolicy', async () => {
    const sched = sim.makeKubeConfig().makeApiClient(k8s.SchedulingV1Api);
    const pc = uniqueName('low');
    await sched.createPriorityClass({ body: { metadata: { name: pc }, value: -10, preemptionPolicy: 'Never' } });
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { priorityClassName: pc, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } });
    assert.equal(pod.spec!.priority, -10);
    assert.equal(pod.spec!.preemptionPolicy, 'Never');
    const s = await expectStatus(core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'q' }, spec: { priorityClassName: 'missing', containers: [{ name: 'c', image: 'x:1' }] } } }), 403, 'Forbidden');
    assert.match(s.message!, /no PriorityClass with name missing was found/);
  });

  it('prints Tables for kubectl (Accept: as=Table)', async () => {
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } });
    const res = await fetch(`${sim.url}/api/v1/namespaces/${ns}/pods`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = (await res.json()) as any;
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.slice(0, 5).map((c: { name: string }) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 4), ['p', '0/1', 'Pending', 0]);
    assert.equal(table.rows[0].object.metadata.name, 'p');
  });

  it('deletes with preconditions, returns the pod for pods and a Status for jobs, and supports deletecollection', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
    await expectStatus(core.deleteNamespacedConfigMap({ namespace: ns, name: 'x', body: { preconditions: { uid: 'other' } } }), 409, 'Conflict');
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'x', body: { preconditions: { uid: cm.metadata!.uid } } });
    await expectStatus(core.readNamespacedConfigMap({ namespace: ns, name: 'x' }), 404);
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } });
    const podDel = await core.deleteNamespacedPod({ namespace: ns, name: 'p' });
    assert.equal(podDel.metadata!.name, 'p');
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('j', { suspend: true }) });
    const jobDel = await batch.deleteNamespacedJob({ namespace: ns, name: 'j', propagationPolicy: 'Background' });
    assert.equal(jobDel.status, 'Success');
    for (const name of ['a', 'b']) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { g: '1' } } } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector: 'g=1' });
    assert.equal((await core.listNamespacedConfigMap({ namespace: ns })).items.length, 0);
  });
});
