import assert from 'node:assert/strict';
import { ROUTES } from '../../sim/github/double.ts';
import { kubeconfigYaml, makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import type { Orchestrator } from '../../runtime/orchestrator.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const FAST = { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 };
const LABEL = 'runs-fleet=1/runner=2cpu-linux-arm64';

/**
 * A cancellation (completed/cancelled before any runner took the job) at each stage of
 * provisioning must end with no Job, no Secret and no registered runner for that job.
 */
describe('cancellation during provisioning leaves nothing behind', function () {
  this.timeout(30_000);
  let s: LocalStack | undefined;
  let stopProxy: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await s?.stop();
    await stopProxy?.();
    s = undefined;
    stopProxy = undefined;
  });

  async function stack(env: Record<string, string> = {}) {
    s = await startLocalStack({ doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('cancel'), orchestrator: { consumer: FAST }, env });
    return s;
  }

  /** A replica whose Kubernetes calls go through a fault proxy, taking the webhooks and the queue alone. */
  async function proxiedReplica(st: LocalStack) {
    const proxy = await startFaultProxy(st.sim.url);
    stopProxy = () => proxy.stop();
    const replica = await st.addReplica({ kubeConfig: makeKubeConfig(kubeconfigYaml(proxy.url)) });
    await st.orchestrators[0]!.stop();
    st.github.setWebhook(`${replica.url}/webhook`, st.webhookSecret);
    return { proxy, replica };
  }

  async function assertNothingLeft(st: LocalStack, o: Orchestrator, jobId: number) {
    const record = await eventually(() => o.records.get(jobId, 1), (r) => r?.status === 'cancelled_cleaned');
    await eventually(() => st.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, (n) => n === 0);
    await eventually(() => st.sim.store.list('secrets', { namespace: RUNNER_NAMESPACE }).length, (n) => n === 0);
    await eventually(() => st.github.listRunners().length, (n) => n === 0);
    await eventually(() => o.queue.depth(), (d) => d.pending === 0 && d.lag === 0);
    // Nothing comes back later: wait past the consumer's reclaim and look again.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(st.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, 0, 'no Job');
    assert.equal(st.sim.store.list('secrets', { namespace: RUNNER_NAMESPACE }).length, 0, 'no Secret');
    assert.deepEqual(st.github.listRunners().map((r) => r.name), [], 'no registered runner');
    assert.equal((await o.records.get(jobId, 1))?.status, 'cancelled_cleaned');
    return record;
  }

  it('while GitHub holds the JIT call', async () => {
    const st = await stack();
    const held = st.github.hold(ROUTES.orgJitConfig);
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await held.arrived;
    st.github.markJobCompleted(job.id, 'cancelled');
    await st.github.deliveriesSettled();
    held.release(); // GitHub now registers the runner and answers
    await eventually(() => st.github.calls(ROUTES.deleteOrgRunner), (n) => n >= 1);
    await assertNothingLeft(st, st.orchestrators[0]!, job.id);
  });

  it('after the runner is registered, while the Job is being created', async () => {
    const st = await stack();
    const { proxy, replica } = await proxiedReplica(st);
    proxy.inject({ method: 'POST', path: /\/jobs(\?|$)/, delayMs: 1_000, times: 1 });
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await eventually(() => st.github.listRunners().length, (n) => n === 1);
    st.github.markJobCompleted(job.id, 'cancelled');
    await st.github.deliveriesSettled();
    await assertNothingLeft(st, replica, job.id);
  });

  it('after the Job and Secret exist, before the record says job_created', async () => {
    const st = await stack();
    const { proxy, replica } = await proxiedReplica(st);
    proxy.inject({ method: 'PATCH', path: /\/secrets\//, delayMs: 1_000, times: 1 });
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await eventually(() => st.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, (n) => n === 1);
    assert.notEqual((await replica.records.get(job.id, 1))?.status, 'job_created');
    st.github.markJobCompleted(job.id, 'cancelled');
    await st.github.deliveriesSettled();
    await assertNothingLeft(st, replica, job.id);
  });

  it('after the record says job_created', async () => {
    const st = await stack();
    const o = st.orchestrators[0]!;
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await eventually(() => o.records.get(job.id, 1), (r) => r?.status === 'job_created');
    st.github.markJobCompleted(job.id, 'cancelled');
    await st.github.deliveriesSettled();
    await assertNothingLeft(st, o, job.id);
  });

  it('while it waits in the queue (the consumer never asks GitHub for a runner)', async () => {
    const st = await stack({ RUNS_FLEET_CONCURRENCY: '1' });
    const { proxy, replica } = await proxiedReplica(st);
    // The first job's Job POST is slow and the replica provisions one at a time (RUNS_FLEET_CONCURRENCY=1), so
    // the second job waits in the queue while it is cancelled.
    proxy.inject({ method: 'POST', path: /\/jobs(\?|$)/, delayMs: 1_000, times: 1 });
    const first = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await eventually(() => st.github.listRunners().length, (n) => n === 1);
    const second = st.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [LABEL] });
    await st.github.deliveriesSettled();
    st.github.markJobCompleted(second.id, 'cancelled');
    await st.github.deliveriesSettled();
    await eventually(() => replica.records.get(first.id, 1), (r) => r?.status === 'job_created');
    const record = await eventually(() => replica.records.get(second.id, 1), (r) => r?.status === 'cancelled_cleaned');
    assert.equal(record?.runnerName, undefined, 'no runner was registered for the cancelled job');
    await eventually(() => replica.queue.depth(), (d) => d.pending === 0 && d.lag === 0);
    assert.equal(st.github.listRunners().length, 1, "only the first job's runner");
    // The dequeued check runs beside the JIT call's rate-limit reservation; it still stops the call unsent.
    assert.equal(st.github.calls(ROUTES.orgJitConfig) + st.github.calls(ROUTES.repoJitConfig), 1, 'one JIT call: none for the cancelled job');
  });
});
