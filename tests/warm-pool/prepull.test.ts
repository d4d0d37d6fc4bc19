/**
 * A placeholder's node was made for `pause`: without pre-pulling, a runner that takes its
 * place still waits for the runner and Docker images. In the simulated cluster (pulls take
 * their time once per node), the pre-pulling placeholder makes that warm start a container
 * start instead of a pull.
 */
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { parseConfigDocument, type RunnerSettings } from '../../runtime/config/document.ts';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { buildRunnerObjects } from '../../runtime/k8s/build-runner-job.ts';
import { LABEL, RUNNER_CONTAINER } from '../../runtime/k8s/labels.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import { nodePoolsFromConfig, seedPriorityClasses, startSimCluster } from '../../sim/k8s/index.ts';
import { until } from '../sim/helpers.ts';
import { queuedJob } from '../support/jobs.ts';

const NS = 'runners';
const PULL_MS = 20_000;
const doc = parseConfigDocument({
  classes: [{ name: '4cpu-linux-arm64', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g', 'm7g'], nodePoolCpuLimit: 64 }],
  pools: [{ name: 'default', class: '4cpu-linux-arm64', min: 1, max: 1 }],
});

interface WarmStart {
  /** Runner Job created → runner container running, in sim ms. */
  startMs: number;
  placeholderNode: string;
  runnerNode: string;
}

async function warmStart(runner: RunnerSettings): Promise<WarmStart> {
  const sim = await startSimCluster({
    clock: 'virtual',
    namespaces: [NS],
    nodePools: nodePoolsFromConfig(doc),
    // Only the runner and Docker images are slow to pull: pause is small.
    timings: { provisioningMs: 30_000, imagePullMs: (image) => (image === runner.pauseImage ? 500 : PULL_MS), containerStartMs: 200, readinessMs: 1_000 },
  });
  try {
    seedPriorityClasses(sim.api, doc);
    const kc = sim.makeKubeConfig();
    const [apps, batch, core] = [kc.makeApiClient(k8s.AppsV1Api), kc.makeApiClient(k8s.BatchV1Api), kc.makeApiClient(k8s.CoreV1Api)];
    const pool = doc.pools[0]!;
    const cls = doc.classes[0]!;
    await apps.createNamespacedDeployment({ namespace: NS, body: buildPlaceholderDeployment(runner, pool, cls, NS, 1) });
    const placeholder = await until('the placeholder ready on its own node', () =>
      sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.pool}=default` })
        .find((p) => p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')),
      { clock: sim.clock, stepMs: 500 });

    const request = parseRunsOn(['runs-fleet=1/runner=4cpu-linux-arm64'], doc.aliases)!;
    const at = sim.clock.now();
    const job = queuedJob({ jobId: 7, request, receivedAt: at, enqueuedAt: at });
    const objects = buildRunnerObjects({ job, runner: resolveRunner(request, doc), doc, namespace: NS, runnerName: 'rf-7', encodedJitConfig: 'not-a-jit-config' });
    await core.createNamespacedSecret({ namespace: NS, body: objects.secret });
    await batch.createNamespacedJob({ namespace: NS, body: objects.job });
    const pod = await until('the runner container running', () =>
      sim.store.list('pods', { namespace: NS, labelSelector: `${LABEL.jobId}=7` })
        .find((p) => p.status?.containerStatuses?.some((c: { name: string; state?: { running?: unknown } }) => c.name === RUNNER_CONTAINER && c.state?.running)),
      { clock: sim.clock, stepMs: 100 });
    return { startMs: sim.clock.now() - at, placeholderNode: placeholder.spec.nodeName, runnerNode: pod.spec.nodeName };
  } finally {
    await sim.stop();
  }
}

describe('placeholders pre-pull the runner images', () => {
  it('a runner taking a pre-pulling placeholder\'s place starts without a pull; without pre-pulling it waits for one', async () => {
    const pulled = await warmStart(doc.runner);
    const plain = await warmStart({ ...doc.runner, prePullImages: false });
    for (const r of [pulled, plain]) assert.equal(r.runnerNode, r.placeholderNode, 'the runner took the placeholder\'s place (warm)');
    assert.ok(pulled.startMs < PULL_MS / 4, `pre-pulled: running after ${pulled.startMs} ms, expected far less than a ${PULL_MS} ms pull`);
    assert.ok(plain.startMs >= PULL_MS, `not pre-pulled: running after ${plain.startMs} ms, expected at least the ${PULL_MS} ms pull`);
  });
});
