import assert from 'node:assert/strict';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords } from '../../runtime/queue/job-records.ts';
import { connectValkey, waitReady } from '../../runtime/queue/connection.ts';
import { startValkey } from '../../sim/valkey.ts';
import { queuedJob } from '../support/jobs.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

describe('job queue (real Valkey)', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  async function queue(prefix: string, consumer: string, maxDeliveries = 5) {
    const q = new JobQueue(conns.command(), { prefix, consumer, maxDeliveries }, conns.blocking());
    await conns.ready();
    return q;
  }

  it('stores the same job delivered 20 times concurrently exactly once', async () => {
    const q = await queue(uniquePrefix(), 'c1');
    await q.ensureGroup();
    const job = queuedJob();
    const results = await Promise.all(Array.from({ length: 20 }, () => q.enqueue({ ...job })));
    assert.equal(results.filter((r) => r.status === 'enqueued').length, 1);
    assert.equal(results.filter((r) => r.status === 'duplicate').length, 19);
    assert.equal((await q.depth()).length, 1);
    // A new run attempt of the same job is a different job.
    assert.equal((await q.enqueue({ ...job, runAttempt: 2 })).status, 'enqueued');
  });

  it('creating the group twice is harmless', async () => {
    const q = await queue(uniquePrefix(), 'c1');
    await q.ensureGroup();
    await q.ensureGroup();
  });

  it('hands an entry left unacked by a dead consumer to another one', async () => {
    const prefix = uniquePrefix();
    const dead = await queue(prefix, 'dead');
    await dead.ensureGroup();
    const job = queuedJob();
    await dead.enqueue(job);
    const [taken] = await dead.read(10, 100);
    assert.equal(taken?.job.jobId, job.jobId);
    conns.closeAll(); // the consumer dies without acking

    const alive = await queue(prefix, 'alive');
    assert.deepEqual(await alive.read(10, 50), [], 'a pending entry is not handed out as new');
    const early = await alive.reclaim(60_000);
    assert.equal(early.entries.length, 0, 'not reclaimed before its idle deadline');
    await new Promise((r) => setTimeout(r, 30));
    const { entries } = await alive.reclaim(20);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.job.jobId, job.jobId);
    assert.equal(entries[0]!.deliveries, 2);
    await alive.ack(entries[0]!.id);
    assert.equal((await alive.depth()).pending, 0);
  });

  it('dead-letters an entry after too many deliveries, with its reason', async () => {
    const q = await queue(uniquePrefix(), 'c1', 2);
    await q.ensureGroup();
    await q.enqueue(queuedJob());
    await q.read(1, 50);
    const reclaimed: number[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const r = await q.reclaim(1);
      reclaimed.push(r.entries.length, r.deadLettered.length);
    }
    assert.deepEqual(reclaimed, [1, 0, 0, 1, 0, 0]);
    const dead = await q.deadLetters();
    assert.equal(dead.length, 1);
    assert.match(dead[0]!.reason, /delivered 2 times/);
    assert.equal((await q.depth()).pending, 0);
  });

  it('dead-letters explicitly with a reason and acks in the same step', async () => {
    const q = await queue(uniquePrefix(), 'c1');
    await q.ensureGroup();
    await q.enqueue(queuedJob());
    const [entry] = await q.read(1, 50);
    await q.deadLetter(entry!, 'unknown_class: runner "gpu" is not defined');
    assert.equal((await q.depth()).pending, 0);
    assert.equal((await q.deadLetters())[0]!.reason, 'unknown_class: runner "gpu" is not defined');
  });

  it('a released entry is reclaimable at once', async () => {
    const prefix = uniquePrefix();
    const a = await queue(prefix, 'a');
    await a.ensureGroup();
    await a.enqueue(queuedJob());
    const [entry] = await a.read(1, 50);
    await a.release(entry!.id, 3_600_000);
    const b = await queue(prefix, 'b');
    const { entries } = await b.reclaim(60_000);
    assert.equal(entries.length, 1);
  });

  it('trims acked entries but never a pending one', async () => {
    const q = await queue(uniquePrefix(), 'c1');
    await q.ensureGroup();
    for (let i = 0; i < 5; i++) await q.enqueue(queuedJob());
    const entries = await q.read(5, 50);
    for (const e of entries.slice(0, 2)) await q.ack(e.id);
    await q.ack(entries[3]!.id);
    await q.trim();
    const { length, pending } = await q.depth();
    assert.equal(pending, 2);
    assert.equal(length, 3, 'entries from the oldest pending one on are kept');
    const left = await q.reclaim(0);
    assert.deepEqual(left.entries.map((e) => e.id), [entries[2]!.id, entries[4]!.id]);
  });

  it('keeps accepted jobs and their dedupe markers across a Valkey restart (AOF)', async () => {
    const server = await startValkey();
    try {
      const prefix = uniquePrefix();
      const mk = () => {
        const c = connectValkey(server.url, 'command');
        c.on('error', () => {});
        return c;
      };
      let client = mk();
      await waitReady(client);
      let q = new JobQueue(client, { prefix, consumer: 'c1' });
      await q.ensureGroup();
      const jobs = Array.from({ length: 10 }, () => queuedJob());
      for (const j of jobs) assert.equal((await q.enqueue(j)).status, 'enqueued');
      await server.restart(); // SIGKILL: no chance to save on shutdown
      client.disconnect();
      client = mk();
      await waitReady(client);
      q = new JobQueue(client, { prefix, consumer: 'c1' });
      assert.equal((await q.enqueue(jobs[0]!)).status, 'duplicate');
      const read = await q.read(100, 50);
      assert.deepEqual(read.map((e) => e.job.jobId), jobs.map((j) => j.jobId));
      client.disconnect();
    } finally {
      await server.dispose();
    }
  });

  it('records per-job stages; the first stamp of a stage wins', async () => {
    const prefix = uniquePrefix();
    const q = await queue(prefix, 'c1');
    await q.ensureGroup();
    const job = queuedJob();
    await q.enqueue(job);
    const records = new JobRecords(conns.command(), prefix);
    await conns.ready();
    await records.update(job.jobId, 1, { runnerName: 'rf-1', status: 'provisioned' }, { jobCreatedAt: 10 });
    assert.equal(await records.stampOnce(job.jobId, 1, 'scheduledAt', 20), true);
    assert.equal(await records.stampOnce(job.jobId, 1, 'scheduledAt', 30), false);
    const rec = await records.get(job.jobId, 1);
    assert.equal(rec?.status, 'provisioned');
    assert.equal(rec?.runnerName, 'rf-1');
    assert.equal(rec?.stages.enqueuedAt, job.enqueuedAt);
    assert.deepEqual([rec?.stages.jobCreatedAt, rec?.stages.scheduledAt], [10, 20]);
    assert.equal(await records.get(999_999, 1), undefined);
  });
});
