import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Valkey } from 'iovalkey';
import { emptyDemand, recordArrivals } from '../../runtime/controllers/warm-pool/demand.ts';
import { memoryStateStore, valkeyStateStore, type StoredPoolState } from '../../runtime/controllers/warm-pool/state-store.ts';

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const state = (arrivals: number[]): StoredPoolState => ({
  demand: arrivals.reduce((d, t) => recordArrivals(d, t), emptyDemand(T0)),
  decision: { desired: 3, lastAboveAt: T0, at: T0, floor: 1, ledger: [[Math.floor(T0 / 3_600_000), 120.5]] },
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
});
