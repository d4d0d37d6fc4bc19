import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { resource } from '../../sim/k8s/api/resources.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { mergePatch, uniqueName, until } from './helpers.ts';

interface Seen {
  type: string;
  name: string;
  rv: string;
  obj: any;
}

describe('sim/k8s watch and informers', () => {
  let sim: SimCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let ns: string;
  const aborts: AbortController[] = [];

  before(async () => {
    sim = await startSimCluster({ clock: 'virtual', watchHistoryLimit: 50, bookmarkIntervalMs: 20 });
    kc = sim.makeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(() => sim.stop());
  beforeEach(async () => {
    ns = uniqueName('watch');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterEach(() => {
    for (const a of aborts.splice(0)) a.abort();
  });

  async function watch(path: string, params: Record<string, string | number | boolean | undefined>): Promise<{ events: Seen[]; done: Promise<unknown> }> {
    const events: Seen[] = [];
    let resolveDone!: (v: unknown) => void;
    const done = new Promise((r) => (resolveDone = r));
    const ctl = await new k8s.Watch(kc).watch(
      path,
      params,
      (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
      (err) => resolveDone(err ?? 'closed'),
    );
    aborts.push(ctl);
    return { events, done };
  }

  it('streams ADDED, MODIFIED and DELETED, and resumes from a resourceVersion', async () => {
    const { events } = await watch(`/api/v1/namespaces/${ns}/configmaps`, {});
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' }, data: { v: '1' } } });
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'a', body: { data: { v: '2' } } }, mergePatch);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'a' });
    await until('three events', () => events.length >= 3);
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(events[1]!.obj.data.v, '2');
    const rvs = events.map((e) => Number(e.rv));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, 'resourceVersions increase, the DELETED one included');

    const resumed = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: events[0]!.rv });
    await until('replayed events', () => resumed.events.length >= 2);
    assert.deepEqual(resumed.events.map((e) => e.type), ['MODIFIED', 'DELETED']);
  });

  it('answers an expired resourceVersion with an ERROR event carrying 410 Expired, then ends the stream', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'old' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'newer' } } });
    sim.compactWatchHistory();
    const { events, done } = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: cm.metadata!.resourceVersion });
    assert.equal(await done, 'closed');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'ERROR');
    assert.equal(events[0]!.obj.code, 410);
    assert.equal(events[0]!.obj.reason, 'Expired');
  });

  it('expires the oldest events when the bounded history overflows', async () => {
    const first = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'first' } } });
    for (let i = 0; i < 60; i++) await core.patchNamespacedConfigMap({ namespace: ns, name: 'first', body: { data: { i: String(i) } } }, mergePatch);
    const { events } = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: first.metadata!.resourceVersion });
    await until('an ERROR event', () => events.length > 0);
    assert.equal(events[0]!.obj.code, 410);
  });

  it('sends BOOKMARK events when asked, and filtered watches see objects leave and enter their selection', async () => {
    const { events } = await watch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'pool=warm', allowWatchBookmarks: true });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', labels: { pool: 'cold' } } } });
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: { metadata: { labels: { pool: 'warm' } } } }, mergePatch);
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'c', body: { metadata: { labels: { pool: 'cold' } } } }, mergePatch);
    await until('a bookmark', () => events.some((e) => e.type === 'BOOKMARK'));
    const objectEvents = events.filter((e) => e.type !== 'BOOKMARK');
    assert.deepEqual(objectEvents.map((e) => e.type), ['ADDED', 'DELETED']);
    const bm = events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.obj.kind, 'ConfigMap');
    assert.match(bm.rv, /^\d+$/);
  });

  it('keeps an informer in sync: add, update and delete events', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const inf = k8s.makeInformer(kc, path, () => core.listNamespacedPod({ namespace: ns }));
    const seen: string[] = [];
    inf.on('add', (p) => seen.push(`add ${p.metadata!.name}`));
    inf.on('update', (p) => seen.push(`update ${p.metadata!.name} ${p.metadata!.labels?.v ?? ''}`));
    inf.on('delete', (p) => seen.push(`delete ${p.metadata!.name}`));
    const errors: unknown[] = [];
    inf.on('error', (e) => errors.push(e));
    await core.createNamespacedPod({ namespace: ns, body: podBody('before') });
    await inf.start();
    try {
      await core.createNamespacedPod({ namespace: ns, body: podBody('after') });
      await core.patchNamespacedPod({ namespace: ns, name: 'after', body: { metadata: { labels: { v: '2' } } } }, mergePatch);
      await core.deleteNamespacedPod({ namespace: ns, name: 'before' });
      await until('informer events', () => seen.includes('delete before') && seen.includes('update after 2'));
      assert.deepEqual(seen.filter((s) => s.startsWith('add')), ['add before', 'add after']);
      assert.deepEqual(inf.list(ns).map((p) => p.metadata!.name), ['after']);
      assert.deepEqual(errors, []);
    } finally {
      await inf.stop();
    }
  });

  it('recovers an informer after 410: re-lists, and reports objects deleted meanwhile', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const inf = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: ns }));
    const seen: string[] = [];
    inf.on('add', (o) => seen.push(`add ${o.metadata!.name}`));
    inf.on('delete', (o) => seen.push(`delete ${o.metadata!.name}`));
    const errors: unknown[] = [];
    inf.on('error', (e) => errors.push(e));
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'stays' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'goes' } } });
    await inf.start();
    try {
      await until('initial list', () => seen.length === 2);
      // The watch ends (as on an API server timeout); before the informer can re-watch, an
      // object disappears and the history is compacted, so its resourceVersion is gone.
      sim.endWatches();
      sim.api.delete(resource('configmaps'), ns, 'goes');
      sim.api.create(resource('configmaps'), ns, { metadata: { name: 'arrived' } });
      sim.compactWatchHistory();
      await until('relist after 410', () => seen.includes('delete goes') && seen.includes('add arrived'));
      assert.deepEqual(inf.list(ns).map((o) => o.metadata!.name).sort(), ['arrived', 'stays']);
      assert.deepEqual(errors, [], 'a 410 is handled by re-listing, not reported as an error');
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'later' } } });
      await until('watching again', () => seen.includes('add later'));
    } finally {
      await inf.stop();
    }
  });
});

function podBody(name: string): k8s.V1Pod {
  return { metadata: { name }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } };
}
