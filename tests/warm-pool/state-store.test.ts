import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Valkey } from 'iovalkey';
import { emptyDemand, recordArrivals } from '../../runtime/controllers/warm-pool/demand.ts';
import { memoryStateStore, parseStoredPool, valkeyStateStore, type StoredPoolState } from '../../runtime/controllers/warm-pool/state-store.ts';

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const state = (arrivals: number[]): StoredPoolState => ({
  demand: arrivals.reduce((d, t) => recordArrivals(d, t), emptyDemand(T0)),
  decision: { desired: 3, lastAboveAt: T0, at: T0, floor: 1, ledger: [[Math.floor(T0 / 3_600_000), 120.5]], budget: { saved: -1234.5, at: T0 } },
});

describe('warm-pool state store', () => {
  let valkey: Valkey;
  before(() => {
    valkey = new Valkey(process.env.RUNS_FLEET_TEST_VALKEY_URL!);
  });
  after(() => valkey.disconnect());

  for (const [label, make] of [['memory', () => memoryStateStore()], ['valkey', () => valkeyStateStore(valkey, `test:${randomUUID()}:warm-pool`)]] as const) {
    it(`${label}: a new leader loads what the last one saved; removed pools are forgotten`, async () => {
      const store = make();
      assert.deepEqual(await store.load(T0), new Map());
      const saved = new Map([['default', state([T0, T0 + 500, T0 + 900])], ['big', state([T0])]]);
      await store.save(saved);
      assert.deepEqual(await store.load(T0 + 1), saved);
      await store.save(new Map([['big', state([T0 + 5])]]));
      assert.deepEqual([...(await store.load(T0 + 2)).keys()], ['big']);
      await store.save(new Map());
      assert.deepEqual(await store.load(T0 + 3), new Map());
    });
  }

  it('valkey: an unreadable entry becomes empty history instead of failing the pass', async () => {
    const key = `test:${randomUUID()}:warm-pool`;
    await valkey.hset(key, { default: '{"demand":{"v":9}}', big: 'garbage' });
    const loaded = await valkeyStateStore(valkey, key).load(T0);
    assert.deepEqual(loaded.get('default'), { demand: emptyDemand(T0) });
    assert.deepEqual(loaded.get('big'), { demand: emptyDemand(T0) });
    await valkey.del(key);
  });

  it('an entry written by the previous version keeps its decision and idle ledger (its bursts carry over)', () => {
    const decision = { desired: 4, lastAboveAt: T0, at: T0, floor: 2, ledger: [[Math.floor(T0 / 3_600_000), 900]] };
    const v1 = { v: 1, at: T0, short: 1, long: 1, peaks: [{ start: T0 - 4_000, last: T0 - 3_000, size: 9 }] };
    const loaded = parseStoredPool(JSON.stringify({ demand: v1, decision }), T0 + 1);
    assert.deepEqual(loaded.decision, decision);
    assert.deepEqual(loaded.demand.bursts, v1.peaks);
    assert.equal(loaded.demand.v, 2);
  });
});
