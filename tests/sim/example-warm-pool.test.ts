/**
 * The example from docs/sim.md: a warm-pool placeholder (priority −10, preemptionPolicy
 * Never) holds a node; a runner preempts it and starts on that node at once; a second runner
 * arriving with it finds no placeholder to take, and Karpenter's model brings up a new node.
 * Driven entirely through @kubernetes/client-node, on the virtual clock.
 */
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { NODE, NODE_CLASS_LABEL } from '../../runtime/k8s/labels.ts';
import { buildClassPodTemplate, classPlacement, podRequests } from '../../runtime/k8s/pod-template.ts';
import { startSimCluster } from '../../sim/k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from '../../sim/k8s/from-config.ts';
import { RUN_MS_ANNOTATION } from '../../sim/k8s/model/outcomes.ts';
import { until } from './helpers.ts';

const doc = parseConfigDocument({
  classes: [{ name: 'arm64-4cpu', arch: 'arm64', cpu: 4, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 32 }],
  pools: [{ name: 'default', class: 'arm64-4cpu', min: 1, max: 4 }],
});
const cls = doc.classes[0]!;
const NS = 'runners';

describe('docs/sim.md example: a runner preempts a warm placeholder, a second runner gets a new node', () => {
  it('plays out on the virtual clock', async () => {
    const sim = await startSimCluster({
      clock: 'virtual',
      nodePools: nodePoolsFromConfig(doc),
      namespaces: [NS],
      timings: { provisioningMs: 45_000 },
    });
    try {
      seedPriorityClasses(sim.api, doc);
      const kc = sim.makeKubeConfig();
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const batch = kc.makeApiClient(k8s.BatchV1Api);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const clock = sim.clock;

      // 1. The warm pool: one pause pod at the placeholder PriorityClass, sized like a runner, on the class's nodes.
      await apps.createNamespacedDeployment({ namespace: NS, body: placeholderDeployment() });
      const placeholder = await until('the placeholder running on a node Karpenter made for it', () =>
        sim.store.list('pods', { namespace: NS, labelSelector: 'app=placeholder' }).find((p) => p.status?.phase === 'Running'),
        { clock, stepMs: 1000 });
      assert.equal(placeholder.spec.priority, -10);
      assert.equal(placeholder.spec.preemptionPolicy, 'Never');
      const warmNode = placeholder.spec.nodeName;

      // Watch pods the way the lifecycle watcher would, to see the preemption happen.
      const disrupted: { name: string; reason: string }[] = [];
      const inf = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () => core.listNamespacedPod({ namespace: NS }));
      const note = (p: k8s.V1Pod) => {
        const dt = p.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
        if (dt && !disrupted.some((d) => d.name === p.metadata!.name)) disrupted.push({ name: p.metadata!.name!, reason: dt.reason! });
      };
      inf.on('update', note);
      inf.on('delete', note);
      await inf.start();

      // 2. Two GitHub jobs arrive together: a Secret and a Job each, as the consumer creates them.
      const arrivedAt = clock.now();
      for (const id of ['1001', '1002']) await createRunner(core, batch, `runner-${id}`);

      // 3. The first runner takes the placeholder's node at once.
      const first = await until('a runner bound', () => runnerPods(sim).find((p) => p.spec.nodeName), { clock, stepMs: 1000 });
      assert.equal(first.spec.nodeName, warmNode);
      assert.ok(clock.now() - arrivedAt < 10_000, 'no node provisioning on the warm path');
      await until('the preemption observed', () => disrupted.find((d) => d.name === placeholder.metadata.name));
      assert.deepEqual(disrupted.find((d) => d.name === placeholder.metadata.name), { name: placeholder.metadata.name, reason: 'PreemptionByScheduler' });

      // 4. The second runner has nothing to preempt: Karpenter's model launches a node for it.
      const second = await until('the second runner bound', () => runnerPods(sim).find((p) => p.spec.nodeName && p.spec.nodeName !== warmNode), { clock, stepMs: 1000 });
      const newNode = sim.store.get('nodes', '', second.spec.nodeName)!;
      assert.ok(Date.parse(newNode.metadata.creationTimestamp!) >= Math.floor(arrivedAt / 1000) * 1000 + 45_000, 'the node came after the provisioning delay');
      assert.equal(newNode.metadata.labels![NODE_CLASS_LABEL], cls.name);
      assert.equal(newNode.metadata.labels![NODE.nodePool], cls.name);

      // 5. Both runners finish; the Jobs complete.
      for (const name of ['runner-1001', 'runner-1002'])
        await until(`${name} complete`, () => sim.store.get('jobs', NS, name)?.status?.conditions?.some((c: any) => c.type === 'Complete'), { clock, stepMs: 1000 });
      await inf.stop();
    } finally {
      await sim.stop();
    }
  });
});

function runnerPods(sim: { store: { list(p: string, o: object): any[] } }) {
  return sim.store.list('pods', { namespace: NS, labelSelector: 'runs-fleet.io/component=runner' });
}

function placeholderDeployment(): k8s.V1Deployment {
  const { nodeSelector, tolerations } = classPlacement(cls);
  return {
    metadata: { name: 'warm-default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'placeholder' } },
      template: {
        metadata: { labels: { app: 'placeholder' } },
        spec: {
          priorityClassName: doc.runner.placeholderPriorityClassName,
          terminationGracePeriodSeconds: 0,
          nodeSelector,
          tolerations,
          containers: [{ name: 'pause', image: doc.runner.pauseImage, resources: { requests: podRequests(cls), limits: podRequests(cls) } }],
        },
      },
    },
  };
}

async function createRunner(core: k8s.CoreV1Api, batch: k8s.BatchV1Api, name: string): Promise<void> {
  const template = buildClassPodTemplate(cls, doc.runner);
  template.metadata!.annotations = { ...template.metadata!.annotations, [RUN_MS_ANNOTATION]: '120000' };
  // The runner reads its JIT config from the Job's Secret; without it the kubelet cannot start the container.
  for (const e of template.spec!.containers.flatMap((c) => c.env ?? []))
    if (e.valueFrom?.secretKeyRef) e.valueFrom.secretKeyRef.name = `${name}-jit`;
  const job = await batch.createNamespacedJob({
    namespace: NS,
    body: { metadata: { name }, spec: { backoffLimit: 0, ttlSecondsAfterFinished: 300, activeDeadlineSeconds: cls.maxDurationMinutes * 60, template } },
  });
  await core.createNamespacedSecret({
    namespace: NS,
    body: {
      metadata: { name: `${name}-jit`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata!.uid! }] },
      stringData: { jitToken: 'not-a-real-token' },
    },
  });
}
