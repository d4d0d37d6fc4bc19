import assert from 'node:assert/strict';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { decideLiveness, isGone } from '../../runtime/queue/liveness.ts';
import { queuedJob } from '../support/jobs.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

describe('consumer liveness: the decision', () => {
  const base = { self: 'me', now: 100_000, staleMs: 6_000 };

  it('a beat exactly staleMs old is alive; one ms more is gone', () => {
    assert.equal(isGone(94_000, 100_000, 6_000), false);
    assert.equal(isGone(93_999, 100_000, 6_000), true);
  });

  it('claims only from consumers whose beat is stale or stopped, never from live ones or itself', () => {
    const d = decideLiveness({
      ...base,
      consumers: [
        { name: 'me', pending: 9 }, { name: 'alive', pending: 4 }, { name: 'dead', pending: 3 },
        { name: 'stopped', pending: 1 }, { name: 'dead-empty', pending: 0 }, { name: 'old-release', pending: 2 }, { name: 'old-empty', pending: 0 },
      ],
      heartbeats: new Map([['me', 99_000], ['alive', 95_000], ['dead', 90_000], ['stopped', 0], ['dead-empty', 1]]),
    });
    assert.deepEqual(d, [
      { consumer: 'dead', action: 'claim', pending: 3 },
      { consumer: 'stopped', action: 'claim', pending: 1 },
      { consumer: 'dead-empty', action: 'forget' },
      { consumer: 'old-release', action: 'legacy', pending: 2 },
    ]);
  });

  it('a live consumer with a long-pending entry (a slow provision) keeps it', () => {
    assert.deepEqual(decideLiveness({ ...base, consumers: [{ name: 'slow', pending: 1 }], heartbeats: new Map([['slow', 99_999]]) }), []);
  });
});

describe('consumer liveness: the queue (real Valkey)', () => {
  const conns = new Connections();
  afterEach(() => conns.closeAll());

  async function queue(prefix: string, consumer: string) {
    const q = new JobQueue(conns.command(), { prefix, consumer }, conns.blocking());
    await conns.ready();
    return q;
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('takes a silent consumer\'s entries only after staleMs without a beat, and only once', async () => {
    const prefix = uniquePrefix('liveness');
    const a = await queue(prefix, 'a');
    const b = await queue(prefix, 'b');
    const c = await queue(prefix, 'c');
    await a.ensureGroup();
    await a.heartbeat();
    for (let i = 0; i < 3; i++) await a.enqueue(queuedJob());
    assert.equal((await a.read(10, 50)).length, 3);

    // Alive (fresh beat), however long its entries have been pending: nothing is taken.
    await sleep(300);
    await a.heartbeat();
    const early = await b.reclaimGone(250, 60_000);
    assert.deepEqual([early.entries.length, early.decisions.length], [0, 0]);

    // Silent past staleMs: taken, by exactly one of two replicas looking at once.
    await sleep(400);
    const [fromB, fromC] = await Promise.all([b.reclaimGone(250, 60_000), c.reclaimGone(250, 60_000)]);
    assert.equal(fromB.entries.length + fromC.entries.length, 3);
    assert.ok(fromB.entries.length === 0 || fromC.entries.length === 0, 'one claim moves them all; the other finds none');
    assert.ok([...fromB.entries, ...fromC.entries].every((e) => e.deliveries === 2));

    // Nothing left pending on the gone consumer: it is forgotten (group and heartbeat set).
    await b.reclaimGone(250, 60_000);
    const look = conns.command();
    await conns.ready();
    const names = ((await look.xinfo('CONSUMERS', a.keys.jobs, a.keys.group)) as unknown[][]).map((r) => String(r[1]));
    assert.equal(names.includes('a'), false);
    assert.equal(await look.zscore(a.keys.consumers, 'a'), null);
  });

  it('the claim re-checks the beat atomically: a beat after the caller looked keeps the entries', async () => {
    const prefix = uniquePrefix('liveness');
    const a = await queue(prefix, 'a');
    const b = await queue(prefix, 'b');
    await a.ensureGroup();
    await a.heartbeat();
    await a.enqueue(queuedJob());
    await a.read(1, 50);
    await sleep(300);
    // b decides "gone" from a stale view, but a beats before the claim runs: the script refuses.
    const client = conns.command();
    await conns.ready();
    const real = client.zrange.bind(client);
    const bq = new JobQueue(client, { prefix, consumer: 'b' });
    (client as any).zrange = async (...args: unknown[]) => {
      const view = await (real as any)(...args);
      await a.heartbeat();
      return view;
    };
    const r = await bq.reclaimGone(250, 60_000);
    assert.equal(r.decisions[0]?.action, 'claim', 'the view said gone');
    assert.equal(r.entries.length, 0, 'but the entry stayed with its live consumer');
    assert.equal((await b.reclaimGone(250, 60_000)).entries.length, 0);
  });

  it('a stopped consumer (beat 0) is gone at once; one that never beat keeps the long idle rule', async () => {
    const prefix = uniquePrefix('liveness');
    const a = await queue(prefix, 'a');
    const legacy = await queue(prefix, 'legacy');
    const b = await queue(prefix, 'b');
    await a.ensureGroup();
    await a.heartbeat();
    await a.enqueue(queuedJob());
    await a.read(1, 50);
    await legacy.enqueue(queuedJob());
    await legacy.read(1, 50);
    await a.markStopped();
    const r = await b.reclaimGone(60_000, 60_000);
    assert.equal(r.entries.length, 1, 'the stopped one\'s entry, not the legacy one (idle < 60 s)');
    await sleep(50);
    assert.equal((await b.reclaimGone(60_000, 20)).entries.length, 1, 'the legacy one past its idle deadline');
  });

  it('reclaimOwn retries own failed entries but never one still in flight', async () => {
    const prefix = uniquePrefix('liveness');
    const a = await queue(prefix, 'a');
    await a.ensureGroup();
    await a.enqueue(queuedJob());
    await a.enqueue(queuedJob());
    const [slow, failed] = await a.read(2, 50);
    await sleep(30);
    const r = await a.reclaimOwn(20, new Set([slow!.id]));
    assert.deepEqual(r.entries.map((e) => e.id), [failed!.id]);
    assert.equal(r.entries[0]!.deliveries, 2);
  });
});
