import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { createWatcherMetrics } from '../../runtime/controllers/watcher/metrics.ts';
import { createInformer, type Informer } from '../../runtime/controllers/watcher/informer.ts';
import { createKubeClients, type KubeClients } from '../../runtime/k8s/client.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { resource } from '../../sim/k8s/api/resources.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { kubeconfigYaml, makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { LABELS, leaderOf, lifecycleStack, REPO, type LifecycleStack } from './support/stack.ts';

const NS = 'informers';
const cmT = resource('configmaps');

describe('informers recover (client-node ListWatch against the sim API server)', function () {
  this.timeout(20_000);
  let sim: SimCluster;
  let kube: KubeClients | undefined;
  let informer: Informer<V1ConfigMap> | undefined;
  let stack: LifecycleStack | undefined;
  before(async () => {
    sim = await startSimCluster({ namespaces: [NS] });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await informer?.stop();
    await kube?.close();
    await stack?.stop();
    kube = undefined;
    informer = undefined;
    stack = undefined;
  });

  async function watchConfigMaps(server = sim.url) {
    kube = await createKubeClients(makeKubeConfig(kubeconfigYaml(server)));
    const registry = createRegistry();
    const metrics = createWatcherMetrics(registry);
    const events: string[] = [];
    informer = createInformer<V1ConfigMap>({
      kc: kube.kc, path: `/api/v1/namespaces/${NS}/configmaps`, list: () => kube!.core.listNamespacedConfigMap({ namespace: NS }),
      resource: 'configmaps', onEvent: (e, o) => events.push(`${e} ${o.metadata?.name}`), clock: systemClock, log: silentLogger(), metrics,
      restartBackoff: { baseMs: 20, maxMs: 100 },
    });
    informer.start();
    await eventually(() => informer!.synced(), Boolean);
    const restarts = async () => Number(/informer_restarts_total\{resource="configmaps"\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    return { events, restarts };
  }
  const configMap = (name: string) => sim.api.create(cmT, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } } as never);

  it('410 Gone on re-watch (history compacted while it was away): lists again, reports what changed, keeps watching', async () => {
    const { events, restarts } = await watchConfigMaps();
    configMap('a');
    await eventually(() => events, (e) => e.includes('add a'));
    // The API server ends every watch and forgets its history; meanwhile a goes and b comes.
    sim.endWatches();
    sim.api.delete(cmT, NS, 'a');
    configMap('b');
    sim.compactWatchHistory();
    await eventually(() => events, (e) => e.includes('delete a') && e.includes('add b'));
    configMap('c');
    await eventually(() => events, (e) => e.includes('add c'));
    assert.equal(await restarts(), 0, 'client-node handles 410 itself');
    assert.deepEqual(informer!.list().map((o) => o.metadata?.name).sort(), ['b', 'c']);
  });

  it('a failing watch and list stop client-node\'s informer: it is restarted with backoff and catches up', async () => {
    const proxy = await startFaultProxy(sim.url);
    try {
      const { events, restarts } = await watchConfigMaps(proxy.url);
      configMap('live');
      await eventually(() => events, (e) => e.includes('add live')); // the watch is established, not just the list
      proxy.inject({ method: 'GET', path: /configmaps\?.*watch=true/, status: 500, times: 2 });
      proxy.inject({ method: 'GET', path: /configmaps(\?(?!.*watch=true).*)?$/, status: 503, times: 1 });
      sim.endWatches();
      sim.compactWatchHistory(); // the eventual re-watch gets 410, so the restart also lists (and meets the 503 once)
      configMap('d');
      await eventually(() => events, (e) => e.includes('add d'));
      assert.ok((await restarts()) >= 2, `restarted after each failure (${await restarts()})`);
      configMap('e');
      await eventually(() => events, (e) => e.includes('add e'));
    } finally {
      await proxy.stop();
    }
  });

  it('the runner watcher keeps working across a 410: a runner created after it still gets its stages stamped', async () => {
    stack = await lifecycleStack({ agent: { runMs: () => 200 } });
    const leader = await leaderOf(stack);
    stack.sim.endWatches();
    stack.sim.compactWatchHistory();
    const job = stack.github.queueJob({ ...REPO, labels: LABELS });
    const record = await eventually(() => leader.records.get(job.id, 1), (r) => r?.stages.runningAt !== undefined && r.stages.finishedAt !== undefined);
    assert.ok(record!.stages.scheduledAt! <= record!.stages.runningAt!);
    assert.ok(record!.start === 'warm' || record!.start === 'cold');
  });
});
