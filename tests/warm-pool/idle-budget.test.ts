import assert from 'node:assert/strict';
import { capacity, pacedCeiling, refillBudget, type IdleBudget } from '../../runtime/controllers/warm-pool/idle-budget.ts';

const T0 = Date.UTC(2025, 0, 6, 0, 0, 0);
const HOUR = 3_600_000;
const cpuH = (n: number) => n * 3600; // CPU-hours → CPU-seconds
const budget = (savedCpuHours: number): IdleBudget => ({ saved: cpuH(savedCpuHours), at: T0 });
const held = (above: number) => ({ above, cpu: 4, holdSeconds: 600 });

describe('warm-pool idle budget pacing', () => {
  it('a new pool starts with no savings; the refill is the cap spread over 24 h', () => {
    assert.deepEqual(refillBudget(undefined, 96, 0, T0), { saved: 0, at: T0 });
    const after = refillBudget({ saved: 0, at: T0 }, 96, 0, T0 + HOUR);
    assert.equal(after.saved, cpuH(4), '96 CPU-h a day = 4 CPU-h an hour');
    const spending = refillBudget({ saved: 0, at: T0 }, 96, 8, T0 + HOUR);
    assert.equal(spending.saved, cpuH(-4), 'holding 8 CPUs draws 4 CPU-h more than the refill');
  });

  it('saves at most `saveHours` of refill, and owes at most as much', () => {
    assert.equal(capacity(96), cpuH(32), '8 hours of a 4 CPU-h/h refill');
    assert.equal(refillBudget({ saved: 0, at: T0 }, 96, 0, T0 + 24 * HOUR).saved, cpuH(32), 'a quiet day saves no more than 8 h');
    assert.equal(refillBudget({ saved: 0, at: T0 }, 96, 400, T0 + 24 * HOUR).saved, cpuH(-32));
  });

  it('a clock that goes back does not refill', () => {
    assert.deepEqual(refillBudget({ saved: 100, at: T0 }, 96, 0, T0 - HOUR), { saved: 100, at: T0 });
  });

  const cases: Array<[string, number, IdleBudget, number, number]> = [
    // name, cap CPU-h/day, savings, held above the floor, allowed above the floor
    ['no savings: what the refill sustains (4 CPUs = one 4-CPU placeholder)', 96, budget(0), 0, 1],
    ['no savings and a refill below one placeholder: none', 48, budget(0), 0, 0],
    ['full savings (32 CPU-h) spread over 4 h add two', 96, budget(32), 0, 3],
    ['savings short of paying one more for 4 h add none', 96, budget(15.9), 1, 1],
    ['savings that pay one more for 4 h (8 CPUs − 4 refill = 16 CPU-h) add it', 96, budget(16), 1, 2],
    ['a small cap spends its savings over less than 4 h', 24, budget(6), 0, 1],
    ['a small cap with too little saved: none', 24, budget(5), 0, 0],
    ['placeholders already paid for are kept while the savings last', 96, budget(0.5), 3, 3],
    ['…and through a little debt (one scale-down delay of them)', 96, budget(-0.66), 3, 3],
    ['past that, back to what the refill sustains', 96, budget(-0.67), 3, 1],
    ['deep debt: only what the refill sustains', 96, budget(-30), 0, 1],
    ['a zero cap allows nothing', 0, budget(0), 0, 0],
  ];
  for (const [name, cap, b, above, want] of cases) {
    it(name, () => assert.equal(pacedCeiling(b, cap, held(above)), want));
  }

  it('a quiet night pays for a busy morning, then the pace holds through the evening without flapping', () => {
    // A pool whose demand always wants 8 above its floor from 06:00; nothing before. The
    // refill (112 / 24 = 4.67 CPUs) is not a whole number of placeholders: the count must
    // time-share between 1 and 2 above the floor without flipping at every pass.
    const cap = 112;
    let b = refillBudget(undefined, cap, 0, T0);
    let above = 0;
    const byHour: number[] = [];
    let changes = 0;
    let spent = 0;
    const step = 15_000;
    for (let t = T0; t < T0 + 24 * HOUR; t += step) {
      b = refillBudget(b, cap, above * 4, t);
      const next = t < T0 + 6 * HOUR ? 0 : Math.min(8, pacedCeiling(b, cap, held(above)));
      if (next !== above) changes++;
      above = next;
      spent += above * 4 * (step / 1000);
      if ((t - T0) % HOUR === 0) byHour.push(above);
    }
    assert.ok(byHour[6]! >= 2, `06:00: the night's savings buy more than the pace of 1 (${byHour.join(' ')})`);
    assert.ok(byHour.slice(18).every((n) => n >= 1), `18:00–24:00 is not starved (${byHour.join(' ')})`);
    assert.ok(changes <= 12, `${changes} changes in a day: no flapping at the threshold`);
    // From no savings the pace alone overruns only by the debt it tolerates; the rolling-day
    // ledger (desired.ts) is the hard cap.
    const debt = 4 * 600;
    assert.ok(spent <= cpuH(cap) + debt, `spent ${spent / 3600} CPU-h of ${cap}`);
    assert.ok(spent >= cpuH(0.6 * cap), `the budget is used: ${spent / 3600} CPU-h`);
  });
});
