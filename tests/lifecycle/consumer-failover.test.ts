import assert from 'node:assert/strict';
import { Valkey } from 'iovalkey';
import { HEARTBEAT_STALE_MS } from '../../runtime/queue/liveness.ts';
import { queueKeys } from '../../runtime/queue/keys.ts';
import { RUNNER_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { startReplicaProcess, type ReplicaProcess } from './support/replica-process.ts';
import { LABELS, lifecycleStack, REPO, type LifecycleStack } from './support/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Issue 16's bar: a gone consumer's entries are provisioned by a live one within 10 s of its death. */
const FAILOVER_BOUND_MS = 10_000;

/**
 * A consumer process is SIGKILLed mid-burst while it holds entries (its JIT calls are slowed
 * by a proxy, so some are in flight when it dies). Every entry it held must be provisioned by
 * the surviving replica within 10 s of the kill, every job exactly once (one Job in the sim,
 * one runner registered at the GitHub double), and the survivor must take nothing while the
 * doomed consumer lives — though its entries sit pending far longer than the survivor's
 * 300 ms own-retry deadline (FAST_CONSUMER), which the old idle-time reclaim would have used.
 */
describe('queue: a consumer killed mid-burst (real child process, real Valkey)', function () {
  this.timeout(90_000);
  let s: LifecycleStack | undefined;
  let doomed: ReplicaProcess | undefined;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  let valkey: Valkey | undefined;
  afterEach(async () => {
    await doomed?.kill();
    await s?.stop();
    await proxy?.stop();
    valkey?.disconnect();
    s = doomed = proxy = valkey = undefined;
  });

  it('every entry it held is provisioned by another replica within 10 s of the kill, exactly once, and none before', async () => {
    // Runners take their jobs (the agent), so no sweep re-queues a job for sitting queued on GitHub.
    s = await lifecycleStack({ replicas: 0, github: { autoDeliver: false }, agent: { runMs: () => 600_000 } });
    const stack = s;
    proxy = await startFaultProxy(stack.github.url);
    // Slow JIT calls for the doomed replica only: it holds entries in flight when killed.
    const slowJit = { method: 'POST', path: /generate-jitconfig/, delayMs: 1_200, times: 1_000 };
    proxy.inject(slowJit);
    doomed = await startReplicaProcess(stack, 'orchestrator-doomed', { githubApiUrl: proxy.url });
    const survivor = await stack.addReplica();
    valkey = new Valkey(stack.valkeyUrl, { lazyConnect: false });
    const keys = queueKeys(stack.queuePrefix);
    const owners = async () => ((await valkey!.xpending(keys.jobs, keys.group, '-', '+', 1_000)) as [string, string, number, number][]);

    const JOBS = 24;
    const jobs = Array.from({ length: JOBS }, () => stack.github.queueJob({ ...REPO, labels: LABELS }));
    const deliver = async (jobId: number) => {
      const hook = stack.github.buildWorkflowJobWebhook(jobId, 'queued');
      const res = await fetch(`${doomed!.url}/webhook`, { method: 'POST', headers: hook.headers, body: hook.body });
      assert.equal(res.status, 202);
    };
    // Both replicas read the one stream; the doomed one reads up to 4 (its concurrency) and is slow with them.
    // Watched until the kill: an entry once owned by the doomed consumer must never move to the survivor while it lives.
    const everDoomed = new Set<string>();
    const stolen: string[] = [];
    let killAt = 0;
    const watch = (async () => {
      while (!killAt) {
        const rows = await owners();
        if (killAt) break;
        for (const [id, owner] of rows) {
          if (owner === 'orchestrator-doomed') everDoomed.add(id);
          else if (everDoomed.has(id)) stolen.push(id);
        }
        await sleep(50);
      }
    })();
    for (const j of jobs.slice(0, 12)) await deliver(j.id);
    // Mid-burst: some Jobs made, the rest queued or in flight on the doomed replica.
    await eventually(() => stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, (n) => n >= 4, 30_000);
    // From here on the doomed replica's JIT calls stall past its death, so what it takes now it
    // still holds when killed (a fixed wait before the kill let it finish everything it had).
    slowJit.delayMs = 30_000;
    // The rest spread over ~2.4 s (past the 1.2 s calls already started), so the doomed consumer
    // finishes those and takes new ones before it dies.
    for (const j of jobs.slice(12)) {
      await deliver(j.id);
      await sleep(200);
    }
    const heldBefore = await eventually(async () => (await owners()).filter(([, owner]) => owner === 'orchestrator-doomed'), (l) => l.length > 0, 20_000);
    killAt = Date.now();
    await doomed.kill();
    await watch;
    const held = (await owners()).filter(([, owner]) => owner === 'orchestrator-doomed').map(([id]) => id);
    assert.ok(held.length > 0, `the doomed consumer held entries when killed (held ${heldBefore.length} just before)`);
    assert.ok(everDoomed.size > held.length, 'the watch saw the doomed consumer work through entries before the kill');
    assert.deepEqual(stolen, [], 'nothing was taken from the consumer while it was alive');

    // The entries it held, by job: each is provisioned (job record's jobCreatedAt, written by the survivor) within the bound.
    const heldJobs = new Map<string, number>();
    for (const id of held) {
      const [row] = (await valkey.xrange(keys.jobs, id, id)) as [string, string[]][];
      heldJobs.set(id, (JSON.parse(row![1][1]!) as { jobId: number }).jobId);
    }
    await eventually(async () => (await owners()).length, (n) => n === 0, 30_000);
    for (const [id, jobId] of heldJobs) {
      const record = await survivor.records.get(jobId, 1);
      const createdAt = Number(record?.stages.jobCreatedAt);
      assert.ok(Number.isFinite(createdAt), `job ${jobId} (entry ${id}) has a Job: ${JSON.stringify(record)} ${JSON.stringify(stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).map((j) => j.metadata.name))}`);
      // A Job the doomed replica created just before dying counts too: it was provisioned, once.
      assert.ok(createdAt - killAt <= FAILOVER_BOUND_MS, `job ${jobId} provisioned ${createdAt - killAt} ms after the kill (bound ${FAILOVER_BOUND_MS})`);
    }
    // Taken by a live one only after the dead one's heartbeat went stale: claimed ones have jobCreatedAt past lastBeat + stale.
    const tookOver = [...heldJobs.values()].map((jobId) => survivor.records.get(jobId, 1));
    const createdTimes = (await Promise.all(tookOver)).map((r) => Number(r?.stages.jobCreatedAt)).filter((t) => t > killAt);
    assert.ok(createdTimes.length > 0, 'at least one held entry was provisioned by the survivor after the kill');
    assert.ok(Math.min(...createdTimes) >= killAt + HEARTBEAT_STALE_MS - 2_000 - 50, 'not before the heartbeat could have gone stale (last beat ≤ 2 s before the kill)');

    // Exactly once: one Job per job, one runner registered per job.
    await sleep(1_500); // a late duplicate would show up here
    const names = stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).map((j) => j.metadata.name).sort();
    assert.deepEqual(names, jobs.map((j) => `runner-${j.id}-1`).sort());
    const runners = stack.github.listRunners().map((r) => r.name);
    assert.equal(runners.length, JOBS, `one runner registration per job (got ${runners.length})`);
    assert.equal(new Set(runners).size, JOBS);
  });
});
