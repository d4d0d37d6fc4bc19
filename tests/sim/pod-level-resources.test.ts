import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { buildClassPodTemplate } from '../../runtime/k8s/pod-template.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { seedPriorityClasses } from '../../sim/k8s/from-config.ts';
import { sampleDocument } from '../support/config.ts';
import { expectStatus, uniqueName } from './helpers.ts';

/** The sim's API server checks pod-level resources as Kubernetes 1.34 does, so a runner pod it accepts EKS accepts too. */
describe('sim/k8s pod-level resources (spec.resources)', () => {
  let sim: SimCluster;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let ns: string;

  before(async () => {
    sim = await startSimCluster({ clock: 'virtual' });
    core = sim.makeKubeConfig().makeApiClient(k8s.CoreV1Api);
    batch = sim.makeKubeConfig().makeApiClient(k8s.BatchV1Api);
  });
  after(() => sim.stop());
  beforeEach(async () => {
    ns = uniqueName('plr');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  const container = (name: string, requests: Record<string, string>, limits?: Record<string, string>, restartPolicy?: string) =>
    ({ name, image: 'registry.k8s.io/pause:3.10', ...(restartPolicy ? { restartPolicy } : {}), resources: { requests, ...(limits ? { limits } : {}) } });

  it('refuses pod-level requests below the containers\' aggregate (sidecars counted), naming the field', async () => {
    const body: k8s.V1Pod = {
      metadata: { name: 'p' },
      spec: {
        resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        initContainers: [container('side', { cpu: '500m', memory: '512Mi' }, undefined, 'Always')],
        containers: [container('main', { cpu: '1', memory: '512Mi' })],
      },
    };
    const s = await expectStatus(core.createNamespacedPod({ namespace: ns, body }), 422, 'Invalid');
    assert.match(s.message!, /spec\.resources\.requests\[cpu\]: Invalid value: "1": must be greater than or equal to aggregate container requests of 1500m/);
    assert.doesNotMatch(s.message!, /requests\[memory\]/, '512Mi + 512Mi = 1Gi is enough');
  });

  it('refuses a container limit above the pod\'s, and keys other than cpu, memory and hugepages', async () => {
    const body: k8s.V1Pod = {
      metadata: { name: 'q' },
      spec: {
        resources: { requests: { cpu: '1', 'ephemeral-storage': '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
        containers: [container('main', { cpu: '1' }, { cpu: '2', memory: '1Gi' })],
      },
    };
    const s = await expectStatus(core.createNamespacedPod({ namespace: ns, body }), 422, 'Invalid');
    assert.match(s.message!, /spec\.containers\[0\]\.resources\.limits\[cpu\]: Invalid value: "2": must be less than or equal to pod limits of 1/);
    assert.match(s.message!, /spec\.resources\.requests\[ephemeral-storage\]: Unsupported value/);
    assert.doesNotMatch(s.message!, /limits\[memory\]/);
  });

  it('accepts the runner pod template of every class, in a Job as the orchestrator creates it', async () => {
    const doc = sampleDocument();
    for (const cls of doc.classes) {
      const template = buildClassPodTemplate(cls, doc.runner) as k8s.V1PodTemplateSpec;
      const job = await batch.createNamespacedJob({ namespace: ns, body: { metadata: { name: `runner-${cls.name}` }, spec: { template } } });
      assert.deepEqual({ ...job.spec!.template.spec!.resources }, template.spec!.resources, cls.name);
    }
    // A runner pod's containers request less than their limits, but the pod as a whole is Guaranteed.
    seedPriorityClasses(sim.api, doc);
    const cls = doc.classes[0]!;
    const spec = buildClassPodTemplate(cls, doc.runner).spec! as k8s.V1PodSpec;
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'runner' }, spec } });
    assert.equal(pod.status!.qosClass, 'Guaranteed');
  });
});
