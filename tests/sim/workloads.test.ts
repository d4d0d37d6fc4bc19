import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { VirtualClock } from '../../sim/k8s/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { instanceTypesRequirement, type NodePool } from '../../sim/k8s/model/nodepool.ts';
import { RUN_MS_ANNOTATION } from '../../sim/k8s/model/outcomes.ts';
import { deploymentBody, jobBody } from './fixtures.ts';
import { mergePatch, uniqueName, until } from './helpers.ts';

const POOL: NodePool = { name: 'general', requirements: [instanceTypesRequirement('m7i.4xlarge')], initialNodes: 2 };

describe('sim/k8s workloads: Jobs, Deployments, garbage collection, graceful deletion', () => {
  let sim: SimCluster<VirtualClock>;
  let clock: VirtualClock;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let apps: k8s.AppsV1Api;
  let ns: string;

  beforeEach(async () => {
    sim = await startSimCluster({ clock: 'virtual', nodePools: [POOL], timings: { imagePullMs: 1000, containerStartMs: 200, readinessMs: 500 } });
    clock = sim.clock;
    const kc = sim.makeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    ns = uniqueName('wl');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterEach(() => sim.stop());

  const job = (name: string) => sim.store.get('jobs', ns, name);
  const podsOf = (jobName: string) => sim.store.list('pods', { namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${jobName}` });
  const cond = (obj: any, type: string) => obj?.status?.conditions?.find((c: any) => c.type === type);

  it('completes a Job when its main container exits although the native sidecar still runs', async () => {
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobBody('runner', {}, { initContainers: [{ name: 'dind', image: 'docker:28.3.3-dind', restartPolicy: 'Always', resources: { requests: { cpu: '250m' } } }] }, { [RUN_MS_ANNOTATION]: '60000' }),
    });
    const running = await until('the runner running with its sidecar', () => {
      const p = podsOf('runner')[0];
      return p?.status?.phase === 'Running' && cond(p, 'Ready')?.status === 'True' ? p : undefined;
    }, { clock });
    assert.ok(running.status.initContainerStatuses[0].state.running, 'the sidecar runs beside the main container');
    assert.equal(running.metadata.ownerReferences?.[0]?.kind, 'Job');
    assert.equal(running.metadata.labels?.['batch.kubernetes.io/controller-uid'], job('runner')!.metadata.uid);
    assert.equal(cond(running, 'PodScheduled').status, 'True');
    await until('job complete', () => cond(job('runner'), 'Complete'), { clock, stepMs: 1000 });
    const j = job('runner')!;
    assert.equal(cond(j, 'SuccessCriteriaMet')?.status, 'True');
    assert.equal(cond(j, 'Complete').reason, 'CompletionsReached');
    assert.equal(j.status.succeeded, 1);
    assert.equal(j.status.active, undefined);
    assert.ok(j.status.startTime && j.status.completionTime);
    assert.ok(Date.parse(j.status.completionTime) - Date.parse(j.status.startTime) >= 60_000);
    const pod = podsOf('runner')[0]!;
    assert.equal(pod.status.phase, 'Succeeded');
    assert.equal(pod.status.containerStatuses[0].state.terminated.exitCode, 0);
    assert.ok(pod.status.initContainerStatuses[0].state.terminated, 'the sidecar was stopped');
  });

  it('fails a Job at backoffLimit, retrying with backoff, and reports the exit code', async () => {
    sim.setPodOutcome({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=flaky' }, { type: 'exit', exitCode: 3, afterMs: 1000 });
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('flaky', { backoffLimit: 2 }) });
    await until('job failed', () => cond(job('flaky'), 'Failed'), { clock, stepMs: 1000 });
    const j = job('flaky')!;
    assert.equal(cond(j, 'FailureTarget').reason, 'BackoffLimitExceeded');
    assert.equal(cond(j, 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(j.status.failed, 3);
    assert.equal(j.status.completionTime, undefined);
    const pods = podsOf('flaky');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.status.containerStatuses[0].state.terminated.exitCode, 3);
    const created = pods.map((p) => Date.parse(p.metadata.creationTimestamp!)).sort();
    assert.ok(created[1]! - created[0]! >= 10_000 && created[2]! - created[1]! >= 20_000, 'retries back off 10 s, then 20 s');
  });

  it('counts container restarts of restartPolicy OnFailure pods against backoffLimit', async () => {
    sim.setPodOutcome({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=crashy' }, { type: 'exit', exitCode: 1, afterMs: 100 });
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('crashy', { backoffLimit: 2 }, { restartPolicy: 'OnFailure' }) });
    await until('job failed', () => cond(job('crashy'), 'Failed'), { clock, stepMs: 1000 });
    assert.equal(cond(job('crashy'), 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(podsOf('crashy').length, 0, 'the restarting pod was deleted');
  });

  it('stops a Job at activeDeadlineSeconds: DeadlineExceeded, pods killed after their grace period', async () => {
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('slow', { activeDeadlineSeconds: 60 }, { terminationGracePeriodSeconds: 30 }) });
    await until('pod running', () => podsOf('slow')[0]?.status?.phase === 'Running', { clock });
    await until('deadline passed', () => cond(job('slow'), 'FailureTarget'), { clock, stepMs: 1000 });
    assert.equal(cond(job('slow'), 'FailureTarget').reason, 'DeadlineExceeded');
    const dying = podsOf('slow')[0]!;
    assert.ok(dying.metadata.deletionTimestamp, 'the pod is being deleted');
    assert.equal(cond(job('slow'), 'Failed'), undefined, 'Failed waits until the pod has terminated');
    await until('job failed', () => cond(job('slow'), 'Failed'), { clock, stepMs: 1000 });
    assert.equal(cond(job('slow'), 'Failed').reason, 'DeadlineExceeded');
    assert.equal(podsOf('slow').length, 0);
  });

  it('models OOMKilled and ImagePullBackOff outcomes in containerStatuses', async () => {
    sim.setPodOutcome({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=oom' }, { type: 'oomKilled', afterMs: 500 });
    sim.setPodOutcome({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=pull' }, { type: 'imagePullBackOff' });
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('oom') });
    await batch.createNamespacedJob({ namespace: ns, body: jobBody('pull') });
    await until('oom job failed', () => cond(job('oom'), 'Failed'), { clock });
    const term = podsOf('oom')[0]!.status.containerStatuses[0].state.terminated;
    assert.deepEqual([term.reason, term.exitCode], ['OOMKilled', 137]);
    const pulling = await until('image pull back-off', () => {
      const p = podsOf('pull')[0];
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
    }, { clock, stepMs: 1000 });
    assert.equal(pulling.status.phase, 'Pending');
    assert.match(pulling.status.containerStatuses[0].state.waiting.message, /Back-off pulling image "busybox:1.36"/);
  });

  it('cascades deletion: background takes the Secret and pods, foreground waits for them, orphan keeps them', async () => {
    for (const name of ['bg', 'fg', 'orph']) {
      const j = await batch.createNamespacedJob({ namespace: ns, body: jobBody(name, {}, { terminationGracePeriodSeconds: 20 }) });
      await core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name: `${name}-jit`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: j.metadata!.uid!, controller: false }] }, stringData: { jitToken: 'x' } },
      });
    }
    await until('pods running', () => ['bg', 'fg', 'orph'].every((n) => podsOf(n)[0]?.status?.phase === 'Running'), { clock });

    await batch.deleteNamespacedJob({ namespace: ns, name: 'bg', propagationPolicy: 'Background' });
    assert.equal(job('bg'), undefined);
    await until('secret collected', () => !sim.store.get('secrets', ns, 'bg-jit'), { clock });
    assert.ok(podsOf('bg')[0]?.metadata.deletionTimestamp, 'the pod terminates gracefully');

    await batch.deleteNamespacedJob({ namespace: ns, name: 'fg', propagationPolicy: 'Foreground' });
    await clock.advance(1000);
    const held = job('fg')!;
    assert.ok(held.metadata.deletionTimestamp);
    assert.deepEqual(held.metadata.finalizers, ['foregroundDeletion']);
    await until('foreground job gone', () => !job('fg'), { clock, stepMs: 1000 });
    assert.equal(podsOf('fg').length, 0);
    assert.equal(sim.store.get('secrets', ns, 'fg-jit'), undefined);

    await batch.deleteNamespacedJob({ namespace: ns, name: 'orph' });
    await clock.advance(5000);
    const orphan = podsOf('orph')[0]!;
    assert.equal(orphan.metadata.ownerReferences, undefined, 'batch/v1 Jobs orphan their pods by default');
    assert.equal(orphan.metadata.deletionTimestamp, undefined);
    assert.ok(sim.store.get('secrets', ns, 'orph-jit'));
  });

  it('deletes finished Jobs after ttlSecondsAfterFinished, with what they own', async () => {
    const j = await batch.createNamespacedJob({ namespace: ns, body: jobBody('ttl', { ttlSecondsAfterFinished: 300 }, {}, { [RUN_MS_ANNOTATION]: '1000' }) });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'ttl-jit', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'ttl', uid: j.metadata!.uid! }] }, stringData: { jitToken: 'x' } } });
    await until('complete', () => cond(job('ttl'), 'Complete'), { clock });
    await clock.advance(290_000);
    assert.ok(job('ttl'), 'still there before the TTL');
    await until('deleted after the TTL', () => !job('ttl'), { clock, stepMs: 1000 });
    await until('secret collected', () => !sim.store.get('secrets', ns, 'ttl-jit'), { clock });
  });

  it('removes a deleted pod after its grace period on the sim clock; grace 0 and pause pods go at once', async () => {
    for (const [name, image] of [['slow', 'busybox:1.36'], ['pause', 'registry.k8s.io/pause:3.10'], ['forced', 'busybox:1.36']] as const) {
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image }] } } });
    }
    await until('pods running', () => ['slow', 'pause', 'forced'].every((n) => sim.store.get('pods', ns, n)?.status?.phase === 'Running'), { clock });
    await core.deleteNamespacedPod({ namespace: ns, name: 'slow' });
    await core.deleteNamespacedPod({ namespace: ns, name: 'pause' });
    await core.deleteNamespacedPod({ namespace: ns, name: 'forced', gracePeriodSeconds: 0 });
    assert.equal(sim.store.get('pods', ns, 'forced'), undefined);
    const marked = sim.store.get('pods', ns, 'slow')!;
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 30);
    assert.ok(marked.metadata.deletionTimestamp);
    await clock.advance(1000);
    assert.equal(sim.store.get('pods', ns, 'pause'), undefined, 'pause exits on SIGTERM');
    await clock.advance(28_000);
    assert.ok(sim.store.get('pods', ns, 'slow'), 'still terminating within the grace period');
    await clock.advance(2_000);
    assert.equal(sim.store.get('pods', ns, 'slow'), undefined);
  });

  it('evicts through the Eviction API: DisruptionTarget EvictionByEvictionAPI, then graceful deletion', async () => {
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'e' }, spec: { terminationGracePeriodSeconds: 10, containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
    await until('running', () => sim.store.get('pods', ns, 'e')?.status?.phase === 'Running', { clock });
    await core.createNamespacedPodEviction({ namespace: ns, name: 'e', body: { metadata: { name: 'e', namespace: ns } } });
    const evicted = sim.store.get('pods', ns, 'e')!;
    assert.equal(cond(evicted, 'DisruptionTarget').reason, 'EvictionByEvictionAPI');
    assert.ok(evicted.metadata.deletionTimestamp);
    await until('gone', () => !sim.store.get('pods', ns, 'e'), { clock, stepMs: 1000 });
  });

  it('runs Deployments: replicas become ready pods, scale down, and a template change rolls them', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('warm', 3) });
    await until('3 ready', () => sim.store.get('deployments', ns, 'warm')?.status?.readyReplicas === 3, { clock });
    const pods = () => sim.store.list('pods', { namespace: ns, labelSelector: 'app=warm' }).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods().length, 3);
    const hash = pods()[0]!.metadata.labels!['pod-template-hash'];
    assert.ok(hash);
    await apps.patchNamespacedDeployment({ namespace: ns, name: 'warm', body: { spec: { replicas: 1 } } }, mergePatch);
    await until('scaled to 1', () => pods().length === 1 && sim.store.get('deployments', ns, 'warm')?.status?.replicas === 1, { clock });
    await apps.patchNamespacedDeployment({ namespace: ns, name: 'warm', body: { spec: { replicas: 2, template: { metadata: { labels: { app: 'warm', rev: '2' } } } } } }, mergePatch);
    await until('rolled', () => {
      const p = pods();
      return p.length === 2 && p.every((x) => x.metadata.labels!['pod-template-hash'] !== hash && x.status?.phase === 'Running');
    }, { clock });
    const d = sim.store.get('deployments', ns, 'warm')!;
    await until('status caught up', () => sim.store.get('deployments', ns, 'warm')?.status?.updatedReplicas === 2, { clock });
    assert.equal(d.status.observedGeneration, d.metadata.generation);
  });
});
