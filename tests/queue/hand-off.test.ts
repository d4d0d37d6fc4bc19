import assert from 'node:assert/strict';
import { Consumer } from '../../runtime/controllers/provisioner/consumer.ts';
import { createProvisionerMetrics } from '../../runtime/controllers/provisioner/metrics.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords } from '../../runtime/queue/job-records.ts';
import type { HandOff, QueueEntry, QueuedJob } from '../../runtime/queue/types.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { queuedJob } from '../support/jobs.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

/** A hand-off that records what it was given. */
function recorder(): HandOff & { taken: QueueEntry[]; done: () => void; doneCalls: number } {
  const r = {
    taken: [] as QueueEntry[],
    doneCalls: 0,
    take: (e: QueueEntry) => void r.taken.push(e),
    done: () => void r.doneCalls++,
  };
  return r;
}

async function pendingFor(q: JobQueue, client: ReturnType<Connections['command']>): Promise<Map<string, string>> {
  const rows = (await client.xpending(q.keys.jobs, q.keys.group, '-', '+', 100)) as [string, string, number, number][];
  return new Map(rows.map(([id, consumer]) => [id, consumer]));
}

describe('hand-off: the ingress gives a job to its own replica in the enqueue step (real Valkey)', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  async function setup(consumer = 'c1') {
    const prefix = uniquePrefix();
    const command = conns.command();
    const q = new JobQueue(command, { prefix, consumer }, conns.blocking());
    await conns.ready();
    await q.ensureGroup();
    return { q, command, records: new JobRecords(command, prefix) };
  }

  it('reads the new entry for this consumer in the same step and marks its record dequeued', async () => {
    const { q, command, records } = await setup();
    const job = queuedJob({ enqueuedAt: 1_700_000_000_123 });
    const h = recorder();
    const result = await q.enqueue(job, h);
    assert.equal(result.status, 'enqueued');
    assert.equal(h.taken.length, 1);
    const [entry] = h.taken;
    assert.equal(entry!.id, result.status === 'enqueued' ? result.id : '');
    assert.deepEqual(entry!.job, job);
    assert.equal(entry!.deliveries, 1);
    assert.equal(entry!.handedOff, 'dequeued');
    assert.equal(h.doneCalls, 1);
    assert.equal((await pendingFor(q, command)).get(entry!.id), 'c1', 'pending for this consumer, as a read would leave it');
    assert.deepEqual(await q.read(10, 20), [], 'the blocking read never gets it a second time');
    const record = await records.get(job.jobId, job.runAttempt);
    assert.equal(record?.status, 'dequeued');
    assert.equal(record?.stages.dequeuedAt, job.enqueuedAt);
  });

  it('a backlog goes first: the oldest undelivered entry is handed over, unmarked, and the new one waits its turn', async () => {
    const { q, records } = await setup();
    const older = queuedJob();
    await q.enqueue(older);
    const newer = queuedJob();
    const h = recorder();
    await q.enqueue(newer, h);
    assert.equal(h.taken.length, 1);
    assert.equal(h.taken[0]!.job.jobId, older.jobId);
    assert.equal(h.taken[0]!.handedOff, undefined, 'its record is left for provisioning to check');
    assert.equal((await records.get(older.jobId, 1))?.status, 'queued');
    const [next] = await q.read(10, 50);
    assert.equal(next?.job.jobId, newer.jobId);
  });

  it('a duplicate hands nothing over and still gives the slot back', async () => {
    const { q } = await setup();
    const job = queuedJob();
    await q.enqueue(job);
    const h = recorder();
    assert.equal((await q.enqueue({ ...job }, h)).status, 'duplicate');
    assert.equal(h.taken.length, 0);
    assert.equal(h.doneCalls, 1);
  });

  it('a job GitHub already said finished is handed over unmarked, so provisioning still finds it finished', async () => {
    const { q, records } = await setup();
    const job = queuedJob();
    // The completed event arrived before the queued one (GitHub does not order deliveries).
    await records.update(job.jobId, job.runAttempt, { completedOnGitHubAt: '5', status: 'completed' });
    const h = recorder();
    await q.enqueue(job, h);
    assert.equal(h.taken[0]?.handedOff, undefined);
    assert.equal(await records.updateUnlessFinished(job.jobId, job.runAttempt, { status: 'dequeued' }), false);
  });

  it('gives the slot back when Valkey refuses the step, and hands nothing over', async () => {
    const { q } = await setup();
    const h = recorder();
    conns.closeAll();
    await assert.rejects(q.enqueue(queuedJob(), h));
    assert.equal(h.taken.length, 0);
    assert.equal(h.doneCalls, 1);
  });
});

describe('hand-off: the consumer\'s slots (real Valkey)', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  async function consumerWith(concurrency: number, handle: (e: QueueEntry) => Promise<unknown>, blockMs = 50) {
    const prefix = uniquePrefix();
    const q = new JobQueue(conns.command(), { prefix, consumer: 'c1' }, conns.blocking());
    await conns.ready();
    await q.ensureGroup();
    const c = new Consumer(
      { queue: q, handle, clock: systemClock, log: silentLogger(), metrics: createProvisionerMetrics(createRegistry()) },
      { concurrency, blockMs },
    );
    return { q, c };
  }

  /** Whether a slot is free now, without keeping it. */
  const free = (c: Consumer) => {
    const s = c.reserveSlot();
    s?.done();
    return s !== undefined;
  };

  /** Starts the consumer, waits until its blocking read waits, hands one job to its only slot, then stores another without a hand-off. */
  async function handOffThenStoreAnother(q: JobQueue, c: Consumer): Promise<[QueuedJob, QueuedJob]> {
    c.start();
    await until(() => free(c));
    await new Promise((r) => setTimeout(r, 50));
    const first = queuedJob();
    await q.enqueue(first, c.reserveSlot());
    const second = queuedJob();
    await q.enqueue(second);
    return [first, second];
  }

  const until = async (cond: () => boolean, ms = 3_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('offers no slot before its first heartbeat, then one per free slot, none while stopping', async () => {
    const handled: QueueEntry[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { q, c } = await consumerWith(2, async (e) => { handled.push(e); await gate; });
    assert.equal(c.reserveSlot(), undefined, 'not started: takes nothing');
    c.start();
    await until(() => free(c));
    // Two slots: each hand-off holds one until its enqueue is done, then its entry does.
    await q.enqueue(queuedJob(), c.reserveSlot());
    await q.enqueue(queuedJob(), c.reserveSlot());
    await until(() => handled.length === 2);
    assert.ok(handled.every((e) => e.handedOff === 'dequeued'));
    assert.equal(c.reserveSlot(), undefined, 'both slots busy');
    release();
    await until(() => free(c));
    const stopping = c.stop(1_000);
    assert.equal(c.reserveSlot(), undefined, 'stopping: takes nothing new');
    await stopping;
    assert.equal((await q.depth()).pending, 0, 'both handed-over entries were acked');
  });

  it('keeps its concurrency when a hand-off takes the slot a waiting blocking read was counting on', async () => {
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A long block: the read asked for one entry before the hand-off took the only slot.
    const { q, c } = await consumerWith(1, async (e) => { started.push(e.job.jobId); await gate; }, 2_000);
    // Another replica's ingress stores the second job: the waiting read gets it, but the slot is taken.
    const [first, second] = await handOffThenStoreAnother(q, c);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(started, [first.jobId], 'one at a time: the second waits for the slot');
    assert.equal(c.reserveSlot(), undefined, 'no slot for the ingress either');
    release();
    await until(() => started.length === 2);
    assert.deepEqual(started, [first.jobId, second.jobId]);
    await c.stop(1_000);
    assert.equal((await q.depth()).pending, 0);
  });

  it('gives back, unstarted, an entry read while no slot was free when it stops', async () => {
    const started: number[] = [];
    const { q, c } = await consumerWith(1, async (e) => {
      started.push(e.job.jobId);
      await new Promise((r) => setTimeout(r, 300));
    }, 2_000);
    const [first] = await handOffThenStoreAnother(q, c);
    await new Promise((r) => setTimeout(r, 50));
    await c.stop(1_000);
    assert.deepEqual(started, [first.jobId], 'the waiting one was not started during shutdown');
    const pending = (await q.depth()).pending;
    assert.equal(pending, 1, 'it stays pending, given back for another replica');
  });

  it('a slot given back without an entry frees the read loop again', async () => {
    const handled: number[] = [];
    const { q, c } = await consumerWith(1, async (e) => void handled.push(e.job.jobId));
    c.start();
    await until(() => free(c));
    const slot = c.reserveSlot()!;
    // The only slot is reserved (and the read that was waiting when it was taken has ended):
    // a job stored meanwhile by another replica's ingress waits…
    await new Promise((r) => setTimeout(r, 120));
    const other = queuedJob();
    await q.enqueue(other);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(handled, []);
    // …until the reservation ends without an entry; then the read loop takes it.
    slot.done();
    slot.done();
    await until(() => handled.length === 1);
    assert.deepEqual(handled, [other.jobId]);
    await c.stop(1_000);
  });
});
