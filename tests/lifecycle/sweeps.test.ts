import assert from 'node:assert/strict';
import { TASK } from '../../runtime/controllers/lifecycle/start.ts';
import { COMPONENT, LABEL, MANAGED_BY } from '../../runtime/k8s/labels.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { RUNNER_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { FAST_LIFECYCLE, LABELS, leaderOf, lifecycleStack, metric, REPO, runnerJobs, type LifecycleStack } from './support/stack.ts';

const jobNamed = (s: LifecycleStack, name: string) => s.sim.store.get('jobs', RUNNER_NAMESPACE, name);

describe('lifecycle sweeps (sim cluster + GitHub double)', function () {
  this.timeout(30_000);
  let s: LifecycleStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  /** Queues a job whose queued webhook GitHub never sends. */
  function queueWithoutWebhook(stack: LifecycleStack, labels = LABELS) {
    const url = stack.webhookUrl;
    stack.github.setWebhook(undefined);
    try {
      return stack.github.queueJob({ ...REPO, labels });
    } finally {
      stack.github.setWebhook(url, stack.webhookSecret);
    }
  }

  it('a lost webhook: the stale-queued sweep finds the job on GitHub and provisions it', async () => {
    s = await lifecycleStack({ agent: { runMs: () => 200 } });
    const leader = await leaderOf(s);
    // An ordinary job first: the repository becomes one the sweep looks at.
    const seen = s.github.queueJob({ ...REPO, labels: LABELS });
    await eventually(() => s!.github.getJob(seen.id)?.status, (st) => st === 'completed');
    const lost = queueWithoutWebhook(s);
    assert.equal(s.github.listDeliveries().filter((d) => d.action === 'queued').length, 1, 'no webhook for the lost job');

    await eventually(async () => {
      await leader.lifecycle.runNow(TASK.staleQueued);
      return jobNamed(s!, `runner-${lost.id}-1`);
    }, (j) => !!j);
    await eventually(() => s!.github.getJob(lost.id)?.conclusion, (c) => c === 'success');
    assert.equal(await metric(leader, 'runs_fleet_sweep_actions_total', { sweep: 'stale_queued', kind: 'enqueue' }), 1);
    await leader.lifecycle.runNow(TASK.staleQueued);
    assert.equal(runnerJobs(s).length, 2, 'one runner per job, nothing more');
  });

  it('a stolen runner: our runner took an older job, the starved job gets a new runner', async () => {
    let older = 0;
    s = await lifecycleStack({ agent: { runMs: (job) => (job.id === older ? 600_000 : 200) } });
    const leader = await leaderOf(s);
    // B: same labels, queued first, its webhook lost (so only A's runner exists). A's runner takes B: GitHub gives the oldest fitting job.
    await leader.lifecycle.store.noteRepo({ repository: 'octo-org/app', installationId: s.github.defaultInstallationId, org: true }, Date.now());
    await leaderLoopStarted(leader);
    older = queueWithoutWebhook(s).id;
    const a = s.github.queueJob({ ...REPO, labels: LABELS });
    await eventually(() => s!.github.getJob(older), (b) => b?.status === 'in_progress');
    const ours = jobNamed(s, `runner-${a.id}-1`)!.metadata.annotations!['runs-fleet.io/runner-name'];
    assert.equal(s.github.getJob(older)!.runnerName, ours, "A's runner took B");

    await eventually(async () => {
      await leader.lifecycle.runNow(TASK.staleQueued);
      return jobNamed(s!, `runner-${a.id}-1-r1`);
    }, (j) => !!j);
    const done = await eventually(() => s!.github.getJob(a.id), (j) => j?.status === 'completed');
    assert.equal(done!.conclusion, 'success');
    assert.notEqual(done!.runnerName, ours, 'A ran on its new runner');
    assert.equal(await metric(leader, 'runs_fleet_sweep_actions_total', { sweep: 'stale_queued', kind: 'requeue' }), 1);
    assert.equal((await leader.records.get(a.id, 1))?.infraRetries, '1');
  });

  it('rate cap: a flood of lost jobs is provisioned a few per pass', async () => {
    const lifecycle = { ...FAST_LIFECYCLE, sweeps: { ...FAST_LIFECYCLE.sweeps, staleQueued: { ...FAST_LIFECYCLE.sweeps!.staleQueued, maxActionsPerPass: 2 } } };
    s = await lifecycleStack({ lifecycle });
    const leader = await leaderOf(s);
    await leader.lifecycle.store.noteRepo({ repository: 'octo-org/app', installationId: s.github.defaultInstallationId, org: true }, Date.now());
    await leaderLoopStarted(leader);
    for (let i = 0; i < 5; i++) queueWithoutWebhook(s);
    await new Promise((r) => setTimeout(r, FAST_LIFECYCLE.sweeps!.staleQueued!.queuedTooLongMs! + 50));
    const enqueued = async () => metric(leader, 'runs_fleet_sweep_actions_total', { sweep: 'stale_queued', kind: 'enqueue' });
    await leader.lifecycle.runNow(TASK.staleQueued);
    assert.equal(await enqueued(), 2);
    await leader.lifecycle.runNow(TASK.staleQueued);
    assert.equal(await enqueued(), 4);
    await leader.lifecycle.runNow(TASK.staleQueued);
    assert.equal(await enqueued(), 5);
    assert.ok((await metric(leader, 'runs_fleet_sweep_actions_capped_total', { sweep: 'stale_queued' })) >= 2);
    await eventually(() => runnerJobs(s!).length, (n) => n === 5);
  });

  it('orphans: a Secret without its Job, a registered runner without a pod, a finished Job past its TTL — and nothing else', async () => {
    const lifecycle = {
      ...FAST_LIFECYCLE,
      sweeps: { ...FAST_LIFECYCLE.sweeps, orphans: { secretGraceMs: 0, finishedGraceMs: 0, orphanConfirmMs: 300, idleRunnerMs: 3_600_000 } },
    };
    let liveId = 0;
    s = await lifecycleStack({ lifecycle, agent: { runMs: (job) => (job.id === liveId ? 600_000 : 100) } });
    const leader = await leaderOf(s);
    const finished = s.github.queueJob({ ...REPO, labels: LABELS });
    await eventually(() => jobNamed(s!, `runner-${finished.id}-1`), (j) => !!j?.status?.conditions?.some((c: any) => c.type === 'Complete'));
    liveId = s.github.queueJob({ ...REPO, labels: LABELS }).id;
    await eventually(() => s!.github.getJob(liveId)?.status, (st) => st === 'in_progress');

    const labels = { [LABEL.component]: COMPONENT.runner, [LABEL.managedBy]: MANAGED_BY };
    await leader.kube.core.createNamespacedSecret({ namespace: RUNNER_NAMESPACE, body: { metadata: { name: 'runner-1-1', labels }, stringData: { jitToken: 'x' } } });
    const target = { scope: 'org' as const, owner: 'octo-org', installationId: s.github.defaultInstallationId };
    const orphan = await leader.github.generateJitConfig({ ...target, name: 'rf-2cpu-linux-arm64-1-1-abcdef', runnerGroupId: 1, labels: LABELS });
    const foreign = await leader.github.generateJitConfig({ ...target, name: 'build-box-1', runnerGroupId: 1, labels: ['self-hosted'] });
    const liveRunner = jobNamed(s, `runner-${liveId}-1`)!.metadata.annotations!['runs-fleet.io/runner-name']!;

    await leader.lifecycle.runNow(TASK.orphans);
    assert.ok(s.github.findRunner(orphan.runnerName), 'a runner seen orphaned once is only remembered');
    await new Promise((r) => setTimeout(r, 350));
    await leader.lifecycle.runNow(TASK.orphans);

    assert.equal(s.sim.store.get('secrets', RUNNER_NAMESPACE, 'runner-1-1'), undefined);
    assert.equal(s.github.findRunner(orphan.runnerName), undefined);
    await eventually(() => jobNamed(s!, `runner-${finished.id}-1`), (j) => !j);
    assert.ok(s.github.findRunner(foreign.runnerName), 'runners runs-fleet did not register are never touched');
    assert.ok(s.github.findRunner(liveRunner), 'a busy runner stays');
    assert.ok(jobNamed(s, `runner-${liveId}-1`), 'a running runner Job stays');
    assert.ok(s.sim.store.get('secrets', RUNNER_NAMESPACE, `runner-${liveId}-1`), "and its Secret");
    const removed = (kind: string) => metric(leader, 'runs_fleet_sweep_actions_total', { sweep: 'orphans', kind });
    assert.deepEqual([await removed('delete_secret'), await removed('delete_runner'), await removed('delete_job')], [1, 1, 1]);
  });

  it('failed webhook deliveries are redelivered through the GitHub API, each at most maxPerGuid times', async () => {
    s = await lifecycleStack();
    const leader = await leaderOf(s);
    const url = s.webhookUrl;
    s.github.setWebhook('http://127.0.0.1:9/webhook', s.webhookSecret);
    const job = s.github.queueJob({ ...REPO, labels: LABELS });
    const hopeless = s.github.queueJob({ ...REPO, labels: LABELS });
    await s.github.deliveriesSettled();
    s.github.setWebhook(url, s.webhookSecret);
    // Truncates the second one's recorded body: every redelivery of it is refused (400, not JSON).
    const failing = s.github.listDeliveries().find((d) => JSON.parse(d.request.body).workflow_job.id === hopeless.id)!;
    failing.request.body = failing.request.body.slice(0, -1);

    await leader.lifecycle.runNow(TASK.redeliveries);
    await s.github.deliveriesSettled();
    await eventually(() => jobNamed(s!, `runner-${job.id}-1`), (j) => !!j);
    for (let i = 0; i < 3; i++) {
      await leader.lifecycle.runNow(TASK.redeliveries);
      await s.github.deliveriesSettled();
    }
    assert.equal(s.github.calls(ROUTES.redeliver), 3, 'the good one once; the hopeless one twice (maxPerGuid), then left alone');
    assert.equal(jobNamed(s, `runner-${hopeless.id}-1`), undefined);
  });
});

/**
 * The leader's loop runs every task once when it takes the lease. On a loaded machine that first
 * pass can come after a test has queued its jobs and would act on them (or spend a pass's cap) on
 * its own; waiting for it makes each pass a test counts one it asked for.
 */
async function leaderLoopStarted(leader: Awaited<ReturnType<typeof leaderOf>>): Promise<void> {
  await eventually(() => metric(leader, 'runs_fleet_sweep_passes_total', { sweep: TASK.staleQueued, result: 'ok' }), (n) => n >= 1);
}
