import assert from 'node:assert/strict';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { QueueInspector } from '../../runtime/queue/inspect.ts';
import { queuedJob } from '../support/jobs.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

describe('queue inspector (real Valkey)', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  it('reports an empty deployment without failing', async () => {
    const inspect = new QueueInspector(conns.command(), uniquePrefix());
    await conns.ready();
    assert.deepEqual(await inspect.summary(), { length: 0, inFlight: 0, waiting: 0, deadLetters: 0, consumers: [] });
    assert.deepEqual(await inspect.inFlight(), []);
    assert.deepEqual(await inspect.waiting(), []);
    assert.deepEqual(await inspect.deadLetters(), []);
    assert.equal(await inspect.deadLetter('1-0'), undefined);
    assert.equal(await inspect.deadLetter('not-an-id'), undefined);
  });

  it('tells waiting, in-flight and dead-lettered entries apart', async () => {
    const prefix = uniquePrefix();
    const q = new JobQueue(conns.command(), { prefix, consumer: 'replica-a' }, conns.blocking());
    const inspect = new QueueInspector(conns.command(), prefix);
    await conns.ready();
    await q.ensureGroup();
    const jobs = Array.from({ length: 4 }, () => queuedJob());
    for (const j of jobs) await q.enqueue(j);
    const [first, second] = await q.read(2, 50);
    await q.deadLetter(first!, 'unknown_class: runner "2cpu-linux-x64" is not defined', 1234);

    const summary = await inspect.summary();
    assert.deepEqual(
      { ...summary, consumers: summary.consumers.map((c) => [c.name, c.pending]) },
      { length: 4, inFlight: 1, waiting: 2, deadLetters: 1, consumers: [['replica-a', 1]] },
    );
    const inFlight = await inspect.inFlight();
    assert.deepEqual(inFlight.map((e) => [e.id, e.consumer, e.deliveries, e.job?.jobId]), [[second!.id, 'replica-a', 1, jobs[1]!.jobId]]);
    assert.deepEqual((await inspect.waiting()).map((e) => e.job.jobId), [jobs[2]!.jobId, jobs[3]!.jobId]);

    const [dead] = await inspect.deadLetters();
    assert.equal(dead!.job.jobId, jobs[0]!.jobId);
    assert.equal(dead!.entryId, first!.id);
    assert.equal(dead!.at, 1234);
    assert.match(dead!.reason, /^unknown_class/);
    assert.deepEqual(await inspect.deadLetter(dead!.id), dead);
  });

  it('lists dead letters newest first and honours the count', async () => {
    const prefix = uniquePrefix();
    const q = new JobQueue(conns.command(), { prefix, consumer: 'c' }, conns.blocking());
    const inspect = new QueueInspector(conns.command(), prefix);
    await conns.ready();
    await q.ensureGroup();
    for (let i = 0; i < 3; i++) await q.enqueue(queuedJob());
    for (const e of await q.read(3, 50)) await q.deadLetter(e, `reason ${e.job.jobId}`);
    const all = await inspect.deadLetters();
    assert.equal(all.length, 3);
    assert.ok(all[0]!.job.jobId > all[2]!.job.jobId);
    assert.equal((await inspect.deadLetters(2)).length, 2);
  });
});
