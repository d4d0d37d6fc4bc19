import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { buildRunnerObjects } from '../../runtime/k8s/build-runner-job.ts';
import { LABEL, RUNNER_CONTAINER } from '../../runtime/k8s/labels.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import { EKS_TIMINGS, expectedStartMs, nodePoolsFromConfig, scaleTimings, seedPriorityClasses, startSimCluster } from '../../sim/k8s/index.ts';
import { scaledTimings } from '../../sim/local.ts';
import { queuedJob } from '../support/jobs.ts';
import { until } from './helpers.ts';

const NS = 'runners';
const doc = parseConfigDocument({
  classes: [{ name: '4cpu-linux-arm64', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g', 'm7g'], nodePoolCpuLimit: 64 }],
});
const IMAGES = [doc.runner.image, doc.runner.dindImage];

describe('sim timing profile (sim/k8s/timing-profile.ts)', () => {
  it("reproduces the seeds' warm 3–5 s and cold ≈ 2 min with the shipped runner and dind images", () => {
    const { warmMs, coldMs } = expectedStartMs(EKS_TIMINGS, IMAGES);
    assert.ok(warmMs >= 3_000 && warmMs <= 5_000, `warm ${warmMs} ms`);
    assert.ok(coldMs >= 110_000 && coldMs <= 140_000, `cold ${coldMs} ms`);
    assert.ok(EKS_TIMINGS.imagePullMs(doc.runner.image) > EKS_TIMINGS.imagePullMs(doc.runner.dindImage), 'the runner image is the long pull');
    assert.ok(EKS_TIMINGS.imagePullMs(doc.runner.pauseImage) < 100);
  });

  it('local mode runs the same profile, scaled', () => {
    const t = scaledTimings(0.1);
    assert.equal(t.provisioningMs, EKS_TIMINGS.provisioningMs / 10);
    assert.equal((t.imagePullMs as (i: string) => number)(doc.runner.image), Math.round(EKS_TIMINGS.imagePullMs(doc.runner.image) / 10));
    assert.equal(scaleTimings(EKS_TIMINGS, 0.1).runnerStartMs, EKS_TIMINGS.runnerStartMs / 10);
  });

  it('is what the sim does by default: a runner Job on a new node vs on a node that has its images', async () => {
    const sim = await startSimCluster({ clock: 'virtual', namespaces: [NS], nodePools: nodePoolsFromConfig(doc, { systemNode: false }) });
    try {
      seedPriorityClasses(sim.api, doc);
      const kc = sim.makeKubeConfig();
      const [batch, core] = [kc.makeApiClient(k8s.BatchV1Api), kc.makeApiClient(k8s.CoreV1Api)];
      const request = parseRunsOn(['runs-fleet=1/runner=4cpu-linux-arm64'], doc.aliases)!;
      const runnerStart = async (id: number): Promise<{ ms: number; node: string }> => {
        const at = sim.clock.now();
        const job = queuedJob({ jobId: id, request, receivedAt: at, enqueuedAt: at });
        const objects = buildRunnerObjects({ job, runner: resolveRunner(request, doc), doc, namespace: NS, runnerName: `rf-${id}`, encodedJitConfig: 'not-a-jit-config' });
        objects.job.spec!.template.metadata!.annotations = { ...objects.job.spec!.template.metadata!.annotations, 'sim.runs-fleet.io/run-ms': '5000' };
        await core.createNamespacedSecret({ namespace: NS, body: objects.secret });
        await batch.createNamespacedJob({ namespace: NS, body: objects.job });
        const pod = await until(`runner ${id} running`, () =>
          sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.jobId}=${id}` })
            .find((p) => p.status?.containerStatuses?.some((c: { name: string; state?: { running?: unknown } }) => c.name === RUNNER_CONTAINER && c.state?.running)),
          { clock: sim.clock, stepMs: 100, maxSimMs: 300_000 });
        return { ms: sim.clock.now() - at, node: pod.spec.nodeName };
      };
      const { warmMs, coldMs } = expectedStartMs(EKS_TIMINGS, IMAGES);
      // Up to "runner container running": the runner's own start (runnerStartMs) is the agent's, not the kubelet's.
      const cold = await runnerStart(1);
      assert.ok(Math.abs(cold.ms - (coldMs - EKS_TIMINGS.runnerStartMs)) <= 2_000, `cold ${cold.ms} ms vs the profile's ${coldMs - EKS_TIMINGS.runnerStartMs} ms`);
      await until('runner 1 done', () => sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.jobId}=1` }).every((p) => p.status?.phase === 'Succeeded'), { clock: sim.clock, stepMs: 500 });
      const warm = await runnerStart(2);
      assert.equal(warm.node, cold.node, 'the second runner lands on the node the first left (within consolidateAfter)');
      assert.ok(Math.abs(warm.ms - (warmMs - EKS_TIMINGS.runnerStartMs)) <= 500, `warm ${warm.ms} ms vs the profile's ${warmMs - EKS_TIMINGS.runnerStartMs} ms`);
    } finally {
      await sim.stop();
    }
  });
});
