import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  demandSnapshot, emptyDemand, parseDemand, recordArrivals, serializeDemand, type DemandSnapshot, type DemandState,
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
    assert.deepEqual(demandSnapshot(emptyDemand(T0), T0 + MIN), { ratePerMinShort: 0, ratePerMinLong: 0, recentBurst: 0, recurringBurst: 0 });
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

  it('a single matrix burst counts for the burst memory only: one burst does not predict another', () => {
    let state = feed([0, 500, 900, 1200, 1800, 2500, 2600, 3000].map((d) => T0 + d)); // 8 jobs in 3 s
    state = recordArrivals(state, T0 + 2 * MIN); // a lone job closes the burst
    const at = (ms: number) => demandSnapshot(state, T0 + ms);
    assert.deepEqual([at(3 * MIN).recentBurst, at(3 * MIN).recurringBurst], [8, 0]);
    assert.equal(at(3_000 + 5 * MIN).recentBurst, 8);
    assert.equal(at(3_001 + 5 * MIN).recentBurst, 1, 'only the lone job is left');
    assert.equal(at(60 * MIN).recurringBurst, 0);
  });

  it('counts several arrivals at one instant as one burst', () => {
    const state = recordArrivals(recordArrivals(emptyDemand(T0), T0, 12), T0 + 2_000, 4);
    assert.equal(demandSnapshot(state, T0 + 5_000).recentBurst, 16);
  });

  it('does not let a steady stream grow into one endless burst', () => {
    const state = feed(Array.from({ length: 120 }, (_, i) => T0 + i * 5_000)); // one job every 5 s for 10 min
    const peak = demandSnapshot(state, T0 + 10 * MIN).recentBurst;
    assert.ok(peak <= 13 && peak >= 12, `peak ${peak}: at most one burst span of arrivals`);
  });

  /** `size` jobs within a few seconds at `at`. */
  const burst = (at: number, size: number) => Array.from({ length: size }, (_, i) => at + i * 300);

  it('bursts that recur about hourly are expected again: the size they all reach, for the recurrence window', () => {
    const H = 60 * MIN;
    let state = feed(burst(T0, 12));
    state = feed(burst(T0 + H, 8), state);
    state = feed([T0 + H + 20 * MIN], state);
    assert.equal(demandSnapshot(state, T0 + H + 30 * MIN).recurringBurst, 0, 'two bursts are not yet a habit');
    state = feed(burst(T0 + 2 * H, 10), state);
    state = feed([T0 + 2 * H + 20 * MIN], state);
    const at = (ms: number) => demandSnapshot(state, T0 + ms).recurringBurst;
    assert.equal(at(2 * H + 30 * MIN), 8, 'the third: 12, 8 and 10 all reach 8');
    assert.equal(at(3 * H - 1), 8, 'kept between bursts, long after the burst memory');
    assert.equal(at(3 * H + 3_301 + 1), 0, 'the first burst left the 3 h window');
  });

  it('keeps the size that recurs, not a single larger peak', () => {
    let state = feed(burst(T0, 40));
    for (const h of [1, 2, 3]) state = feed(burst(T0 + h * 50 * MIN, 6), state);
    state = feed([T0 + 3 * 50 * MIN + 5 * MIN], state);
    const s = demandSnapshot(state, T0 + 3 * 50 * MIN + 11 * MIN);
    assert.deepEqual([s.recurringBurst, s.recentBurst], [6, 0]);
  });

  it('two bursts an hour apart at night are not recurrence: nothing is kept after the burst memory', () => {
    const night = Date.UTC(2025, 0, 7, 0, 59, 0);
    let state = feed(burst(night, 5), emptyDemand(night)); // a push at 00:59
    state = feed(burst(night + 61 * MIN, 6), state); // the nightly cron matrix at 02:00
    state = feed([night + 140 * MIN], state); // 03:19, a lone job
    const s = demandSnapshot(state, night + 64 * MIN);
    assert.deepEqual([s.recurringBurst, s.recentBurst], [0, 6]);
    assert.deepEqual([demandSnapshot(state, night + 140 * MIN).recurringBurst, demandSnapshot(state, night + 140 * MIN).recentBurst], [0, 1]);
  });

  it('keeps few bursts, and what it drops never changes a snapshot (property against every burst)', () => {
    const arrival = fc.record({ gapMs: fc.integer({ min: 0, max: 40 * MIN }), count: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(fc.array(arrival, { minLength: 1, maxLength: 120 }), fc.array(fc.integer({ min: 0, max: 4 * 3_600_000 }), { minLength: 1, maxLength: 5 }), (arrivals, laters) => {
        let state = emptyDemand(T0);
        let t = T0;
        const closed: Array<{ last: number; size: number }> = [];
        for (const a of arrivals) {
          t += a.gapMs;
          const before = state.open;
          state = recordArrivals(state, t, a.count);
          // A new open burst means the previous one closed: the reference keeps every one.
          if (before && state.open!.start !== before.start) closed.push(before);
          assert.ok(state.bursts.length <= 64);
        }
        const all = [...closed, state.open!];
        for (const later of laters) {
          const now = t + later;
          const sizes = (ms: number) => all.filter((b) => now - b.last <= ms).map((b) => b.size);
          const recurring = sizes(3 * 60 * MIN).filter((n) => n >= 2).sort((a, b) => b - a);
          const s = demandSnapshot(state, now);
          assert.equal(s.recentBurst, Math.max(0, ...sizes(5 * MIN)), 'recent burst');
          assert.equal(s.recurringBurst, recurring.length >= 3 ? recurring[2]! : 0, 'recurring burst');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips through its stored form, reads the first format, and starts empty from anything unreadable', () => {
    const state = feed([T0, T0 + 1_000, T0 + 40 * MIN]);
    assert.deepEqual(parseDemand(serializeDemand(state), T0), state);
    const v1 = { v: 1, at: T0, short: 2, long: 3, lastArrivalAt: T0, peaks: [{ start: T0 - 9_000, last: T0 - 8_000, size: 7 }, { start: T0 - 5_000, last: T0 - 5_000, size: 1 }] };
    assert.deepEqual(parseDemand(JSON.stringify(v1), T0), { v: 2, at: T0, short: 2, long: 3, lastArrivalAt: T0, bursts: [v1.peaks[0]] });
    for (const bad of [null, '', 'not json', '{"v":3}', '{"v":2,"at":"x"}', JSON.stringify({ ...state, short: -1 })])
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

    it('covers recurring bursts, a burst just seen, or the arrivals expected within one refill period', () => {
      const snap = (over: Partial<DemandSnapshot>): DemandSnapshot => ({ ratePerMinShort: 0, ratePerMinLong: 0, recentBurst: 0, recurringBurst: 0, ...over });
      assert.deepEqual(demandTarget(snap({})), { slots: 0, basis: 'none', expected: 0 });
      assert.equal(demandTarget(snap({ recentBurst: 1 })).slots, 0, 'a lone job is not a burst');
      assert.deepEqual(demandTarget(snap({ ratePerMinShort: 0.1, ratePerMinLong: 0.1, recurringBurst: 6 })), { slots: 6, basis: 'recurring_burst', expected: 0.15 });
      assert.deepEqual(demandTarget(snap({ recurringBurst: 6, recentBurst: 9 })).basis, 'recent_burst');
      assert.deepEqual(demandTarget(snap({ recurringBurst: 9, recentBurst: 9 })).basis, 'recurring_burst', 'a tie is the recurring size');
      const busy = demandTarget(snap({ ratePerMinShort: 4, ratePerMinLong: 1, recurringBurst: 2, recentBurst: 3 })); // 6 expected per 90 s
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

    it('keeps a lone nightly matrix warm for minutes, not for the hour after', () => {
      const cron = Date.UTC(2025, 0, 7, 2, 0, 0);
      const state = feed(Array.from({ length: 6 }, (_, i) => cron + i * 1_500), emptyDemand(cron));
      const target = (at: number) => demandTarget(demandSnapshot(state, at)).slots;
      assert.equal(target(cron + 4 * MIN), 6, 'a re-run within minutes finds its slots');
      assert.ok(target(cron + 15 * MIN) <= 1, 'then only what the rate asks');
      assert.equal(target(cron + 30 * MIN), 0);
    });
  });
});
