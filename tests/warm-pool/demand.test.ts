import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  demandSnapshot, emptyDemand, parseDemand, recordArrivals, serializeDemand, type DemandState,
} from '../../runtime/controllers/warm-pool/demand.ts';
import { demandTarget, poissonQuantile } from '../../runtime/controllers/warm-pool/demand-target.ts';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0); // Monday 09:00 UTC
const MIN = 60_000;

function feed(times: number[], state = emptyDemand(T0)): DemandState {
  return times.reduce((s, t) => recordArrivals(s, t), state);
}

/** P(N > k) for N ~ Poisson(mean), summed independently of the code under test. */
function tail(mean: number, k: number): number {
  let term = Math.exp(-mean);
  let cdf = 0;
  for (let i = 0; i <= k; i++) {
    cdf += term;
    term = (term * mean) / (i + 1);
  }
  return 1 - cdf;
}

describe('warm-pool demand', () => {
  it('is zero with no arrivals', () => {
    assert.deepEqual(demandSnapshot(emptyDemand(T0), T0 + MIN), { ratePerMinShort: 0, ratePerMinLong: 0, peakBurst: 0 });
  });

  it('estimates a steady rate, then forgets it fast (short) and slowly (long)', () => {
    const times = Array.from({ length: 240 }, (_, i) => T0 + i * 30_000); // 2 jobs/min for 2 h
    const state = feed(times);
    const end = times.at(-1)!;
    const busy = demandSnapshot(state, end + 15_000);
    assert.ok(Math.abs(busy.ratePerMinShort - 2) < 0.2, `short ${busy.ratePerMinShort}`);
    assert.ok(busy.ratePerMinLong > 1.5 && busy.ratePerMinLong < 2.2, `long ${busy.ratePerMinLong}`); // 2 h of a 1 h constant: ~86%
    const later = demandSnapshot(state, end + 30 * MIN);
    assert.ok(later.ratePerMinShort < 0.01, `short after 30 min ${later.ratePerMinShort}`);
    assert.ok(later.ratePerMinLong > 0.55 * busy.ratePerMinLong, `long after 30 min ${later.ratePerMinLong}`);
    assert.equal(later.lastArrivalAt, end);
  });

  it('rates do not depend on the order arrivals are recorded in (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 40 }), (offsets) => {
        const times = offsets.map((o) => T0 + o);
        const now = T0 + 4 * 3_600_000;
        const sorted = demandSnapshot(feed([...times].sort((a, b) => a - b)), now);
        const shuffled = demandSnapshot(feed(times), now);
        assert.ok(Math.abs(sorted.ratePerMinShort - shuffled.ratePerMinShort) < 1e-9);
        assert.ok(Math.abs(sorted.ratePerMinLong - shuffled.ratePerMinLong) < 1e-9);
      }),
    );
  });

  it('sees a matrix burst, keeps it through lone jobs, and forgets it after the memory', () => {
    let state = feed([0, 500, 900, 1200, 1800, 2500, 2600, 3000].map((d) => T0 + d)); // 8 jobs in 3 s
    state = recordArrivals(state, T0 + 10 * MIN);
    state = recordArrivals(state, T0 + 20 * MIN);
    assert.equal(demandSnapshot(state, T0 + 21 * MIN).peakBurst, 8);
    assert.equal(demandSnapshot(state, T0 + 3_000 + 45 * MIN).peakBurst, 8);
    assert.equal(demandSnapshot(state, T0 + 3_001 + 45 * MIN).peakBurst, 1, 'only the lone jobs are left');
  });

  it('counts several arrivals at one instant as one burst', () => {
    const state = recordArrivals(recordArrivals(emptyDemand(T0), T0, 12), T0 + 2_000, 4);
    assert.equal(demandSnapshot(state, T0 + 5_000).peakBurst, 16);
  });

  it('does not let a steady stream grow into one endless burst', () => {
    const state = feed(Array.from({ length: 120 }, (_, i) => T0 + i * 5_000)); // one job every 5 s for 10 min
    const peak = demandSnapshot(state, T0 + 11 * MIN).peakBurst;
    assert.ok(peak <= 13 && peak >= 12, `peak ${peak}: at most one burst span of arrivals`);
  });

  it('remembers the largest burst, and a smaller later one once the larger expires', () => {
    let state = feed([T0, T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + 4_000, T0 + 5_000, T0 + 6_000]); // 7
    state = feed([T0 + 20 * MIN, T0 + 20 * MIN + 1_000, T0 + 20 * MIN + 2_000], state); // 3
    state = recordArrivals(state, T0 + 30 * MIN); // closes the 3-burst
    assert.equal(demandSnapshot(state, T0 + 31 * MIN).peakBurst, 7);
    assert.equal(demandSnapshot(state, T0 + 60 * MIN).peakBurst, 3);
    assert.equal(demandSnapshot(state, T0 + 70 * MIN).peakBurst, 1);
    assert.ok(state.peaks.length <= 2, 'dominated bursts are not kept');
  });

  it('round-trips through its stored form and starts empty from anything unreadable', () => {
    const state = feed([T0, T0 + 1_000, T0 + 40 * MIN]);
    assert.deepEqual(parseDemand(serializeDemand(state), T0), state);
    for (const bad of [null, '', 'not json', '{"v":2}', '{"v":1,"at":"x"}', JSON.stringify({ ...state, short: -1 })])
      assert.deepEqual(parseDemand(bad, T0 + 5), emptyDemand(T0 + 5));
  });

  describe('demand target', () => {
    it('Poisson quantile: the smallest k with P(N > k) ≤ tail (known values and property)', () => {
      assert.equal(poissonQuantile(0, 0.1), 0);
      assert.equal(poissonQuantile(0.05, 0.1), 0);
      assert.equal(poissonQuantile(0.5, 0.1), 1);
      assert.equal(poissonQuantile(2, 0.1), 4);
      assert.ok(poissonQuantile(5000, 0.1) > 5000);
      assert.ok(poissonQuantile(3, 0) < 100, 'terminates for a zero tail');
      fc.assert(
        fc.property(fc.double({ min: 0.001, max: 200, noNaN: true }), fc.double({ min: 0.001, max: 0.5, noNaN: true }), (mean, t) => {
          const k = poissonQuantile(mean, t);
          assert.ok(tail(mean, k) <= t + 1e-9, `P(N>${k}) > ${t}`);
          if (k > 0) assert.ok(tail(mean, k - 1) > t - 1e-9, `${k - 1} would do`);
        }),
      );
    });

    it('covers the peak burst, or the arrivals expected within one refill period', () => {
      assert.deepEqual(demandTarget({ ratePerMinShort: 0, ratePerMinLong: 0, peakBurst: 0 }), { slots: 0, basis: 'none', expected: 0 });
      assert.equal(demandTarget({ ratePerMinShort: 0, ratePerMinLong: 0, peakBurst: 1 }).slots, 0, 'a lone job is not a burst');
      assert.deepEqual(demandTarget({ ratePerMinShort: 0.1, ratePerMinLong: 0.1, peakBurst: 6 }).basis, 'burst');
      assert.equal(demandTarget({ ratePerMinShort: 0.1, ratePerMinLong: 0.1, peakBurst: 6 }).slots, 6);
      const busy = demandTarget({ ratePerMinShort: 4, ratePerMinLong: 1, peakBurst: 2 }); // 6 expected per 90 s
      assert.equal(busy.basis, 'rate');
      assert.equal(busy.expected, 6);
      assert.equal(busy.slots, poissonQuantile(6, 0.1));
    });

    it('keeps enough for the next burst through the working day, and nothing overnight', () => {
      // A team pushing every 20 min from 09:00 to 17:00, each push a matrix of 6 jobs within 4 s.
      const times: number[] = [];
      for (let t = T0; t < T0 + 8 * 60 * MIN; t += 20 * MIN) for (let j = 0; j < 6; j++) times.push(t + j * 700);
      const state = feed(times);
      const target = (at: number) => demandTarget(demandSnapshot(state, at)).slots;
      assert.ok(target(T0 + 8 * 60 * MIN - 1) >= 6, 'a burst of 6 is ready for at end of day');
      assert.ok(target(T0 + 4 * 60 * MIN + 10 * MIN) >= 6, 'and between pushes');
      assert.equal(target(T0 + 11 * 60 * MIN), 0, '20:00: nobody pushed for 3 h');
      assert.equal(target(T0 + 18 * 60 * MIN), 0, '03:00');
    });
  });
});
