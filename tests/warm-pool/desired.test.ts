import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfigDocument, Pool, RunnerClass, type Pool as PoolT } from '../../runtime/config/document.ts';
import { poissonQuantile } from '../../runtime/controllers/warm-pool/demand-target.ts';
import type { DemandSnapshot } from '../../runtime/controllers/warm-pool/demand.ts';
import { desiredForPools, poolOfRunner } from '../../runtime/controllers/warm-pool/desired-pools.ts';
import {
  DEFAULT_DESIRED_OPTIONS, desiredPlaceholders, REASONS, type DesiredReason, type InFlight, type PoolDecisionState,
} from '../../runtime/controllers/warm-pool/desired.ts';
import { poolFloor } from '../../runtime/controllers/warm-pool/schedule.ts';

const NOW = Date.UTC(2025, 0, 6, 12, 0, 0); // Monday 12:00 UTC
const MIN = 60_000;
const cls = RunnerClass.parse({ name: 'c4', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 400 });
const pool = (over: Record<string, unknown> = {}) => Pool.parse({ name: 'p', class: 'c4', min: 2, max: 10, scaleDownDelaySeconds: 600, ...over });
/** Recurring bursts of `burst` jobs (a recent one with `recent`) and a steady rate. */
const demand = (burst = 0, ratePerMin = 0, recent = 0): DemandSnapshot => ({
  ratePerMinShort: ratePerMin, ratePerMinLong: ratePerMin, recurringBurst: burst, recentBurst: recent,
});
/** Demand with `slots` expected for a fan-out wave, held up to `holdMs`. */
const fanOut = (d: DemandSnapshot, slots: number, holdMs = 5 * MIN): DemandSnapshot => ({ ...d, fanOut: { slots, holdMs } });
const HOUR_INDEX = Math.floor(NOW / 3_600_000);
/** Savings of the paced idle budget, in CPU-hours, as of the previous decision. */
const saved = (cpuHours: number) => ({ budget: { saved: cpuHours * 3600, at: NOW - 30_000 } });
const idle: InFlight = { pendingRunners: 0, runningRunners: 0 };
const prev = (desired: number, sinceMin: number, over: Partial<PoolDecisionState> = {}): PoolDecisionState => ({
  desired, lastAboveAt: NOW - sinceMin * MIN, at: NOW - 30_000, floor: 2, ledger: [], ...over,
});

interface Case {
  name: string;
  pool?: Record<string, unknown>;
  demand?: DemandSnapshot;
  inFlight?: InFlight;
  previous?: PoolDecisionState;
  now?: number;
  want: [number, DesiredReason];
}

const cases: Case[] = [
  { name: 'no demand: the pool min', want: [2, 'floor'] },
  { name: 'a schedule window replaces min', pool: { schedules: [{ start: '09:00', end: '17:00', min: 5 }] }, want: [5, 'schedule'] },
  { name: 'a weekend window may lower it to 0', pool: { schedules: [{ days: ['mon'], start: '00:00', end: '23:59', min: 0 }] }, want: [0, 'schedule'] },
  { name: 'the schedule floor is raised before the window starts', pool: { schedules: [{ start: '12:02', end: '17:00', min: 5 }] }, want: [5, 'schedule'] },
  { name: 'a lone job is not a burst', demand: demand(1), want: [2, 'floor'] },
  { name: 'matrix bursts of 6 that recur', demand: demand(6), want: [6, 'demand'] },
  { name: 'a burst of 6 just seen', demand: demand(0, 0, 6), want: [6, 'demand'] },
  { name: 'a burst larger than max', demand: demand(30), want: [10, 'max'] },
  { name: '4 jobs/min: the Poisson quantile of 6 per refill', demand: demand(0, 4), want: [poissonQuantile(6, 0.1), 'demand'] },
  { name: 'a burst below the floor changes nothing', pool: { min: 7 }, demand: demand(6), want: [7, 'floor'] },
  { name: 'yields to runners waiting for a node', demand: demand(6), inFlight: { pendingRunners: 2, runningRunners: 4 }, previous: prev(6, 0), want: [4, 'yield_pending'] },
  { name: 'adds nothing while runners wait', demand: demand(6), inFlight: { pendingRunners: 1, runningRunners: 0 }, previous: prev(3, 0), want: [3, 'yield_pending'] },
  { name: 'yields at once, without the scale-down delay', demand: demand(6), inFlight: { pendingRunners: 3, runningRunners: 0 }, previous: prev(8, 1), want: [3, 'yield_pending'] },
  { name: 'another pool of the class has waiting runners: adds nothing', demand: demand(6), inFlight: { pendingRunners: 0, runningRunners: 0, classPendingRunners: 2 }, previous: prev(3, 0), want: [3, 'yield_pending'] },
  { name: 'yielding never goes below the floor', pool: { min: 5 }, demand: demand(6), inFlight: { pendingRunners: 9, runningRunners: 0 }, previous: prev(6, 0), want: [5, 'yield_pending'] },
  { name: 'scale-up is immediate', demand: demand(6), previous: prev(2, 60), want: [6, 'demand'] },
  { name: 'scale-down waits for the delay', previous: prev(8, 5), want: [8, 'scale_down_delay'] },
  { name: 'scale-down to a lower demand after the delay', demand: demand(4), previous: prev(8, 11), want: [4, 'demand'] },
  { name: 'scale-down to the floor after the delay', previous: prev(8, 10), want: [2, 'floor'] },
  { name: 'a lowered max applies at once', pool: { max: 5 }, previous: prev(8, 1), want: [5, 'scale_down_delay'] },
  // 96 CPU-h a day refills 4 CPUs: one 4-CPU placeholder above the floor at the pace.
  { name: 'a new pool has no savings: the pace, one above the floor', pool: { idleCpuHoursPerDayCap: 96 }, demand: demand(10), want: [3, 'cost_cap'] },
  {
    name: 'full savings (32 CPU-h) spread over 4 h: two more',
    pool: { idleCpuHoursPerDayCap: 96 },
    demand: demand(10),
    previous: prev(2, 60, saved(32)),
    want: [5, 'cost_cap'],
  },
  {
    name: 'placeholders paid for are kept while the savings last, not flipped at the threshold',
    pool: { idleCpuHoursPerDayCap: 96 },
    demand: demand(10),
    previous: prev(6, 0, saved(0.2)),
    want: [6, 'cost_cap'],
  },
  {
    name: 'savings spent: back to the pace at once',
    pool: { idleCpuHoursPerDayCap: 96 },
    demand: demand(10),
    previous: prev(6, 0, saved(-1)),
    want: [3, 'cost_cap'],
  },
  {
    name: 'a spent rolling-day cap leaves only the floor, at once, whatever the savings',
    pool: { idleCpuHoursPerDayCap: 4 },
    demand: demand(10),
    previous: prev(8, 0, { ledger: [[HOUR_INDEX - 1, 13_500]], ...saved(1.3) }),
    want: [2, 'cost_cap'],
  },
  { name: 'the budget never cuts into the floor', pool: { min: 3, idleCpuHoursPerDayCap: 0 }, demand: demand(10), want: [3, 'cost_cap'] },
  { name: 'a cap that is not reached changes nothing', pool: { idleCpuHoursPerDayCap: 96 }, demand: demand(3), want: [3, 'demand'] },
  { name: 'an expected fan-out wave adds its slots on top of demand', demand: fanOut(demand(3), 5), want: [8, 'fan_out'] },
  { name: 'a fan-out wave stays within max', demand: fanOut(demand(3), 12), want: [10, 'fan_out'] },
  // 96 CPU-h a day; 8 slots × 4 CPU for 10 min = 5.3 CPU-h: paid for by the day's cap, not by the pace.
  { name: 'a fan-out wave is paid from what is left of the day\'s cap for as long as it may be held', pool: { idleCpuHoursPerDayCap: 96 }, demand: fanOut(demand(), 8, 10 * MIN), want: [10, 'fan_out'] },
  { name: 'a fan-out wave the cap cannot pay for is cut to what it can', pool: { idleCpuHoursPerDayCap: 3 }, demand: fanOut(demand(), 8, 10 * MIN), want: [6, 'fan_out'] },
  { name: 'a fan-out wave waits while runners wait for a node', demand: fanOut(demand(), 5), inFlight: { pendingRunners: 1, runningRunners: 0 }, previous: prev(2, 0), want: [2, 'yield_pending'] },
  { name: 'slots held for a wave that came go at once, without the scale-down delay', demand: demand(3), previous: prev(8, 0, { ahead: 5 }), want: [3, 'demand'] },
];

describe('desiredPlaceholders', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = desiredPlaceholders(pool(c.pool), cls, c.demand ?? demand(), c.inFlight ?? idle, c.previous, c.now ?? NOW);
      assert.deepEqual([d.desired, d.reason], c.want, d.explain);
      assert.equal(d.state.desired, d.desired);
    });
  }

  it('explains itself with the numbers behind the reason', () => {
    const d = desiredPlaceholders(pool({ idleCpuHoursPerDayCap: 48 }), cls, demand(6), { pendingRunners: 0, runningRunners: 3 }, prev(9, 2), NOW);
    assert.match(d.explain, /^scale_down_delay: 9 placeholders \(floor 2 from min, max 10\); demand 6 by recurring_burst/);
    assert.match(d.explain, /recurring burst 6, recent burst 0/);
    assert.match(d.explain, /holding until 2025-01-06T12:08:00\.000Z/);
    assert.match(d.explain, /running 3/);
    assert.match(d.explain, /idle 0\.\d of 48 CPU-h in 24 h, 0\.\d CPU-h saved/);
  });

  it('keeps the delay running from when demand last wanted the current count', () => {
    const p = pool();
    let state = desiredPlaceholders(p, cls, demand(8), idle, undefined, NOW).state;
    const after = (min: number, burst: number) => {
      const d = desiredPlaceholders(p, cls, demand(burst), idle, state, NOW + min * MIN);
      state = d.state;
      return d.desired;
    };
    assert.equal(after(1, 3), 8);
    assert.equal(after(6, 3), 8);
    assert.equal(after(10, 3), 3, 'ten minutes after demand fell');
    assert.equal(after(15, 0), 3);
    assert.equal(after(20, 8), 8, 'back up at once');
  });

  /** Decides every `stepMs` for `hours`; returns CPU-seconds held above the floor per step. */
  function run(p: PoolT, demandAt: (t: number) => DemandSnapshot, hours: number, stepMs = 30_000): number[] {
    let state: PoolDecisionState | undefined;
    const spent: number[] = [];
    for (let t = NOW; t < NOW + hours * 60 * MIN; t += stepMs) {
      const d = desiredPlaceholders(p, cls, demandAt(t), idle, state, t);
      state = d.state;
      spent.push((d.desired - d.floor) * cls.cpu * (stepMs / 1000));
    }
    return spent;
  }

  /** The most spent in any 24 hours (a sliding window over the steps). */
  function mostInADay(spent: number[], stepMs = 30_000): number {
    const n = (24 * 60 * MIN) / stepMs;
    let sum = 0;
    let most = 0;
    spent.forEach((s, i) => {
      sum += s - (i >= n ? spent[i - n]! : 0);
      most = Math.max(most, sum);
    });
    return most;
  }

  it('never spends more than the cap in any 24 hours under constant demand, and uses it', () => {
    const p = pool({ idleCpuHoursPerDayCap: 24, scaleDownDelaySeconds: 300 });
    const spent = run(p, () => demand(10), 72);
    const slack = 8 * cls.cpu * 30; // one step of the most placeholders
    assert.ok(mostInADay(spent) <= 24 * 3600 + slack, `${mostInADay(spent) / 3600} CPU-h in one day`);
    const total = spent.reduce((a, b) => a + b, 0);
    assert.ok(total >= 0.8 * 3 * 24 * 3600, `the budget is used, not wasted: ${total / 3600} CPU-h in 3 days`);
  });

  it('paces the budget: demand all day long still finds placeholders in the evening', () => {
    // Pools with a cap of 112 CPU-h (4.67 CPUs a day): the old first-come-first-served cap spent it by noon.
    const p = pool({ min: 0, idleCpuHoursPerDayCap: 112 });
    const spent = run(p, () => demand(10), 24);
    const hourly = Array.from({ length: 24 }, (_, h) => spent.slice(h * 120, (h + 1) * 120).reduce((a, b) => a + b, 0) / 3600);
    assert.ok(hourly.every((cpuH) => cpuH >= 3.9), `every hour keeps at least one placeholder: ${hourly.map((h) => h.toFixed(1)).join(' ')}`);
    assert.ok(mostInADay(spent) <= 112 * 3600 + 8 * cls.cpu * 30);
  });

  it('never spends more than the cap in any 24 hours, whatever the demand, schedules and delay (property)', () => {
    const arbPool = fc
      .record({
        min: fc.integer({ min: 0, max: 4 }),
        extra: fc.integer({ min: 0, max: 12 }),
        delay: fc.integer({ min: 0, max: 1800 }),
        cap: fc.double({ min: 0, max: 200, noNaN: true }),
        window: fc.option(fc.record({ start: fc.integer({ min: 0, max: 23 }), hours: fc.integer({ min: 1, max: 12 }), min: fc.integer({ min: 0, max: 6 }) }), { nil: undefined }),
      })
      .map(({ min, extra, delay, cap, window }): PoolT => {
        const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
        const schedules = window ? [{ days: ['mon', 'tue'], start: hh(window.start), end: hh(window.start + window.hours), min: Math.min(window.min, min + extra) }] : [];
        return Pool.parse({ name: 'p', class: 'c4', min, max: min + extra, scaleDownDelaySeconds: delay, idleCpuHoursPerDayCap: cap, schedules });
      });
    const arbDemand = fc.record({ burst: fc.integer({ min: 0, max: 20 }), rate: fc.double({ min: 0, max: 10, noNaN: true }), recent: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(arbPool, fc.array(arbDemand, { minLength: 52, maxLength: 52 }), (p, demands) => {
        const stepMs = 60_000;
        const spent = run(p, (t) => {
          const d = demands[Math.floor((t - NOW) / (30 * MIN))]!;
          return demand(d.burst, d.rate, d.recent);
        }, 26, stepMs);
        const most = mostInADay(spent, stepMs);
        assert.ok(most <= p.idleCpuHoursPerDayCap! * 3600 + 1e-6, `${most / 3600} CPU-h in a day, cap ${p.idleCpuHoursPerDayCap}`);
      }),
      { numRuns: 25 },
    );
  });

  it('always stays within [floor, max] (property)', () => {
    const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const arbPool = fc
      .record({
        min: fc.integer({ min: 0, max: 20 }),
        extra: fc.integer({ min: 0, max: 20 }),
        delay: fc.integer({ min: 0, max: 3600 }),
        cap: fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined }),
        schedules: fc.array(
          fc.record({
            days: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], { minLength: 1 }),
            start: hhmm,
            end: hhmm,
            timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
            min: fc.integer({ min: 0, max: 40 }),
          }),
          { maxLength: 3 },
        ),
      })
      .map(({ min, extra, delay, cap, schedules }): PoolT =>
        Pool.parse({
          name: 'p', class: 'c4', min, max: min + extra, scaleDownDelaySeconds: delay, idleCpuHoursPerDayCap: cap,
          schedules: schedules.filter((s) => s.start !== s.end).map((s) => ({ ...s, min: Math.min(s.min, min + extra) })),
        }),
      );
    const arbDemand = fc.record({
      ratePerMinShort: fc.double({ min: 0, max: 100, noNaN: true }),
      ratePerMinLong: fc.double({ min: 0, max: 100, noNaN: true }),
      recentBurst: fc.integer({ min: 0, max: 200 }),
      recurringBurst: fc.integer({ min: 0, max: 200 }),
    });
    const arbStep = fc.record({
      demand: arbDemand,
      pending: fc.integer({ min: 0, max: 30 }),
      classPending: fc.integer({ min: 0, max: 30 }),
      advanceMs: fc.integer({ min: 0, max: 2 * 3_600_000 }),
    });
    fc.assert(
      fc.property(arbPool, fc.integer({ min: 0, max: 14 * 24 * 60 }), fc.array(arbStep, { minLength: 1, maxLength: 12 }), (p, startMin, steps) => {
        let now = NOW + startMin * MIN;
        let state: PoolDecisionState | undefined;
        for (const s of steps) {
          now += s.advanceMs;
          const inFlight = { pendingRunners: s.pending, runningRunners: 0, classPendingRunners: s.pending + s.classPending };
          const d = desiredPlaceholders(p, cls, s.demand, inFlight, state, now);
          const floor = Math.min(poolFloor(p, now, DEFAULT_DESIRED_OPTIONS.prewarmMs).floor, p.max);
          assert.ok(d.desired >= floor && d.desired <= p.max, `${d.desired} outside [${floor}, ${p.max}]: ${d.explain}`);
          assert.ok(Number.isInteger(d.desired));
          assert.ok((REASONS as readonly string[]).includes(d.reason));
          if (state && inFlight.classPendingRunners > 0) assert.ok(d.desired <= Math.max(state.desired, floor), 'grew while runners waited');
          state = d.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('desiredForPools', () => {
  const doc = parseConfigDocument({
    classes: [
      { name: 'c4', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 400 },
      { name: 'c8', arch: 'amd64', cpu: 8, memoryGiB: 32, diskGiB: 100, instanceFamilies: ['m7i'], nodePoolCpuLimit: 400 },
    ],
    pools: [
      { name: 'default', class: 'c4', min: 1, max: 10 },
      { name: 'release', class: 'c4', min: 0, max: 10 },
      { name: 'big', class: 'c8', min: 2, max: 4 },
    ],
  });

  it('attributes runners to the pool their job named, else the first pool of their class', () => {
    assert.equal(poolOfRunner(doc, { class: 'c4', pool: 'release' }), 'release');
    assert.equal(poolOfRunner(doc, { class: 'c4' }), 'default');
    assert.equal(poolOfRunner(doc, { class: 'c4', pool: 'big' }), 'default', 'a pool of another class does not hold this runner');
    assert.equal(poolOfRunner(doc, { class: 'c8', pool: 'nope' }), 'big');
    assert.equal(poolOfRunner(doc, { class: 'unpooled' }), undefined);
  });

  it('decides every pool; runners waiting in one pool stop the class\'s other pools from growing', () => {
    const demand = new Map([['default', { ratePerMinShort: 0, ratePerMinLong: 0, recentBurst: 6, recurringBurst: 0 }], ['release', { ratePerMinShort: 0, ratePerMinLong: 0, recentBurst: 0, recurringBurst: 6 }]]);
    const runners = new Map([['default', { pending: 2, running: 1 }]]);
    const previous = new Map([['default', prev(6, 0, { floor: 1 })], ['release', prev(2, 0, { floor: 0 })]]);
    const out = desiredForPools(doc, demand, runners, previous, NOW);
    assert.deepEqual(out.map((d) => [d.pool, d.desired, d.reason]), [
      ['default', 4, 'yield_pending'],
      ['release', 2, 'yield_pending'],
      ['big', 2, 'floor'],
    ]);
  });
});
