import assert from 'node:assert/strict';
import { LifecycleStore } from '../../runtime/controllers/lifecycle/store.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords } from '../../runtime/queue/job-records.ts';
import { queuedJob } from '../support/jobs.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

describe('lifecycle store (real Valkey): every check-and-act is atomic', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  async function setup() {
    const prefix = uniquePrefix('lifecycle');
    const valkey = conns.command();
    const queue = new JobQueue(valkey, { prefix, consumer: 'c1' }, conns.blocking());
    await conns.ready();
    await queue.ensureGroup();
    return { queue, records: new JobRecords(valkey, prefix), store: new LifecycleStore(valkey, prefix, queue.keys) };
  }

  it('two leaders provisioning the same job again at once: exactly one entry, count and marker set', async () => {
    const { queue, records, store } = await setup();
    const job = queuedJob({ requeue: { reason: 'spot_interruption', count: 1 } });
    await records.update(job.jobId, job.runAttempt, { status: 'job_created' });
    const cause = (i: number) => (i % 2 ? 'runner-a' : 'stale-1');
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimRequeue({ ...job }, cause(i), 0, 2)));
    assert.equal(claims.filter((c) => c === 'queued').length, 1);
    assert.equal((await queue.depth()).length, 1);
    const [entry] = await queue.read(10, 10);
    assert.deepEqual(entry?.job.requeue, { reason: 'spot_interruption', count: 1 });
    const record = await records.get(job.jobId, job.runAttempt);
    assert.deepEqual([record?.status, record?.infraRetries, await store.reprovisions(job.jobId, job.runAttempt)], ['requeued', '1', 1]);
    // The same cause again: already done. A new cause with the old count: the count changed.
    assert.equal(await store.claimRequeue(job, cause(claims.indexOf('queued')), 1, 2), 'done');
    assert.equal(await store.claimRequeue(job, 'runner-b', 0, 2), 'changed');
  });

  it('re-provisioning stops at the bound', async () => {
    const { store } = await setup();
    const job = queuedJob();
    assert.equal(await store.claimRequeue({ ...job, requeue: { reason: 'x', count: 1 } }, 'a', 0, 1), 'queued');
    assert.equal(await store.claimRequeue({ ...job, requeue: { reason: 'x', count: 2 } }, 'b', 1, 1), 'exhausted');
  });

  it('re-runs: one reservation per cause, bounded per lineage across causes', async () => {
    const { store } = await setup();
    const lineage = store.keys.lineage('Octo-Org/App', 77, 'build (linux)');
    const results = await Promise.all(Array.from({ length: 6 }, () => store.claimRerun(lineage, 'runner-1-1', 1, 1, 1, 'spot_interruption')));
    assert.equal(results.filter((r) => r.state === 'new').length, 1);
    assert.ok(results.filter((r) => r.state !== 'new').every((r) => r.state === 'claimed' && r.count === 1));
    await store.finishRerun('runner-1-1', 1, 1);
    assert.deepEqual(await store.claimRerun(lineage, 'runner-1-1', 1, 1, 1, 'spot_interruption'), { state: 'done', count: 0 });
    // The re-run attempt lost as well: another cause, but the lineage bound is reached.
    assert.deepEqual(await store.claimRerun(lineage, 'runner-2-2', 2, 2, 1, 'spot_interruption'), { state: 'exhausted', count: 1 });
    assert.deepEqual(await store.lineage('octo-org/app', 77, 'build (linux)'), { reruns: 1, lostAttempt: 1, reason: 'spot_interruption' });
  });

  it('a lost runner is scheduled once, even after its recovery finished (tombstone)', async () => {
    const { store } = await setup();
    const item = { objectName: 'runner-1-1', jobId: 1, runAttempt: 1, className: 'small', kind: 'node_lost' as const, detail: '', lostAt: 5 };
    assert.equal(await store.schedule(item, 10), true);
    assert.equal(await store.schedule(item, 10), false);
    assert.deepEqual((await store.due(9, 10)).length, 0);
    const [due] = await store.due(10, 10);
    assert.equal(due?.objectName, 'runner-1-1');
    await store.finish(due!);
    assert.deepEqual(await store.due(1e15, 10), []);
    assert.equal(await store.schedule(item, 10), false);
    assert.equal((await store.item('runner-1-1'))?.state, 'done');
  });

  it('a sweep budget is shared by concurrent takers and renews each window', async () => {
    const { store } = await setup();
    const taken = await Promise.all(Array.from({ length: 12 }, () => store.takeBudget('orphans', 5, 60_000, 120_000)));
    assert.equal(taken.filter(Boolean).length, 5);
    assert.equal(await store.takeBudget('orphans', 5, 60_000, 180_000), true);
  });

  it('a failed delivery attempt is redelivered by one pass only, and counted per guid', async () => {
    const { store } = await setup();
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimRedelivery('guid-1', 7)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await store.claimRedelivery('guid-1', 9), true, 'a later failed attempt of the same delivery');
    assert.deepEqual([...(await store.redeliveries(['guid-1', 'guid-2']))], [['guid-1', 2]]);
  });
});
