import assert from 'node:assert/strict';
import { CONTROLLER_POOL, CONTROLLER_SETTINGS, controllerPolicy, policyByName, scheduledPolicy, sweepPolicies } from '../../bench/warm-pool/policies.ts';
import { cheapFastBar, coldBar, frontierAt, frontierBar, type Point } from '../../bench/warm-pool/frontier.ts';
import type { JobStart, ReplayResult } from '../../bench/warm-pool/replay.ts';
import { percentile, policyStats } from '../../bench/warm-pool/stats.ts';

const HOUR = 3_600_000;

function start(i: number, at: number, startS: number | undefined, warm: boolean): JobStart {
  const s: JobStart = { job: { at, jobId: i, runId: i, runMs: 60_000, source: 'push' }, warm, preempted: false };
  if (startS !== undefined) s.startMs = startS * 1000;
  return s;
}

describe('warm-pool benchmark statistics', () => {
  it('nearest-rank percentiles, cold starts and per-period counts come from the starts', () => {
    // 20 jobs: 17 warm starting in 4 s, 3 cold (at 01:00, 09:00, 20:00) starting in 60, 62 and 64 s.
    const starts = [
      ...Array.from({ length: 17 }, (_, i) => start(i + 1, 10 * HOUR, 4, true)),
      start(18, 1 * HOUR, 60, false), start(19, 9 * HOUR, 62, false), start(20, 20 * HOUR, 64, false),
    ];
    const r: ReplayResult = {
      trace: 't', policy: 'fixed', starts, placeholderCpuHours: 12.34, placeholderCpuHoursByPeriod: { '00–08': 1, '08–18': 2, '18–24': 3 },
      nodesLaunched: 3, nodeCpuHours: 40, placeholderUsd: 1.234, nodeUsd: 20.456, nodeHoursByCapacityType: { spot: 3, 'on-demand': 1 }, wallMs: 5,
    };
    const s = policyStats(r);
    assert.equal(s.coldStarts, 3);
    assert.equal(s.warmHitRate, 0.85);
    assert.equal(s.p50StartS, 4);
    assert.equal(s.p90StartS, 60, 'the 18th of 20');
    assert.equal(s.p95StartS, 62, 'the 19th of 20: 2 of 20 is more than 5 %');
    assert.deepEqual(s.byPeriod['00–08'], { jobs: 1, cold: 1, idleCpuHours: 1 });
    assert.deepEqual(s.byPeriod['08–18'], { jobs: 18, cold: 1, idleCpuHours: 2 });
    assert.deepEqual(s.byPeriod['18–24'], { jobs: 1, cold: 1, idleCpuHours: 3 });
    assert.equal(s.idlePlaceholderCpuHours, 12.3);
    assert.equal(s.idleUsdPerDay, 1.23);
    assert.equal(s.nodeUsdPerDay, 20.46);
    assert.equal(s.spotShare, 0.75);
    assert.equal(s.slowWarmStarts, 0, 'every warm start here took 4 s');
  });

  it('a job that never started counts as cold and is left out of the percentiles', () => {
    const s = policyStats({
      trace: 't', policy: 'fixed', starts: [start(1, 0, 4, true), start(2, 0, undefined, false)], placeholderCpuHours: 0, placeholderCpuHoursByPeriod: {},
      nodesLaunched: 0, nodeCpuHours: 0, placeholderUsd: 0, nodeUsd: 0, nodeHoursByCapacityType: {}, wallMs: 0,
    });
    assert.equal(s.neverStarted, 1);
    assert.equal(s.coldStarts, 1);
    assert.equal(s.p95StartS, 4);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('a cost-curve setting is the benchmarked controller pool with only its own fields changed', () => {
    for (const setting of CONTROLLER_SETTINGS) {
      const policy = controllerPolicy(setting);
      assert.equal(policy.controller, true);
      const pool = policy.doc.pools[0]!;
      for (const [key, value] of Object.entries({ ...CONTROLLER_POOL, ...setting.pool })) {
        if (key === 'schedules') assert.equal(pool.schedules.length, CONTROLLER_POOL.schedules!.length, setting.title);
        else assert.deepEqual(pool[key as keyof typeof pool], value, `${setting.title}: ${key}`);
      }
    }
  });

  it('every swept policy is found again by its name, as a worker thread is told it', () => {
    const grid = sweepPolicies({ WARM_POOL_GRID: 'full' });
    assert.deepEqual(grid.filter((p) => p.kind === 'fixed').map((p) => p.fixedReplicas ?? 0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert.deepEqual(sweepPolicies({}).filter((p) => p.kind === 'fixed').map((p) => p.fixedReplicas ?? 0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16], 'the default steps by one where the cheapest p95 ≤ 10 s anchor lies');
    for (const p of grid) assert.deepEqual(policyByName(p.name).doc, p.doc, p.name);
    assert.throws(() => policyByName('fixed-x'), /unknown policy/);
    assert.deepEqual(sweepPolicies({ WARM_POOL_FIXED: '0,3', WARM_POOL_SCHEDULED: '5' }).filter((p) => p.kind !== 'controller').map((p) => p.name), ['fixed-0', 'fixed-3', 'scheduled-5']);
  });

  it('a cron pool is N in weekday working hours and nothing else', () => {
    const p = scheduledPolicy(4);
    assert.deepEqual(p.schedule, { replicas: 4, weekdays: [1, 2, 3, 4, 5], fromMinute: 480, toMinute: 1080 });
    assert.equal(p.controller, false);
  });
});

describe('warm-pool frontier and bars', () => {
  const pt = (policy: string, anchor: boolean, usd: number, p95: number, cold: number): Point => ({ policy, anchor, usd, p95, cold });
  const anchors = [pt('fixed-0', true, 18, 130, 200), pt('fixed-2', true, 24, 129, 70), pt('fixed-8', true, 36, 84, 17), pt('fixed-16', true, 50, 8, 5)];

  it('the frontier at a budget is the best point costing at most that', () => {
    assert.equal(frontierAt(anchors, 30), 129);
    assert.equal(frontierAt(anchors, 36), 84);
    assert.equal(frontierAt(anchors, 10), Number.POSITIVE_INFINITY);
    assert.equal(frontierAt(anchors, 40, 'cold'), 17);
  });

  it('bar 1 fails where an anchor is faster at some budget, and holds where the controller is never slower', () => {
    assert.equal(frontierBar([...anchors, pt('controller-a', false, 23, 100, 40), pt('controller-b', false, 30, 80, 10), pt('controller-c', false, 45, 8, 4)]).met, true);
    const worse = frontierBar([...anchors, pt('controller-a', false, 23, 130, 40)]);
    assert.equal(worse.met, false);
    assert.match(worse.detail, /above at/);
  });

  it('bar 2 compares against the best anchor costing between the controller setting and the fixed 2 (what a user could buy instead)', () => {
    const f2 = anchors[1]!;
    assert.equal(coldBar([...anchors, pt('controller-a', false, 23, 100, 52)], f2).met, true, '52 ≤ 0.75 × 70 (fixed 2)');
    assert.equal(coldBar([...anchors, pt('controller-a', false, 23, 100, 53)], f2).met, false, '53 > 0.75 × 70');
    assert.match(coldBar([...anchors, pt('controller-a', false, 23, 100, 53)], f2).detail, /vs fixed-2 70/, 'not fixed 16, whose 5 no setting at this price could beat');
    assert.equal(coldBar([...anchors, pt('controller-a', false, 25, 100, 1)], f2).met, false, 'costs more than the fixed 2');
    const weak = pt('scheduled-6', true, 23.5, 131, 120);
    assert.equal(coldBar([...anchors, weak, pt('controller-a', false, 23, 100, 60)], f2).met, false, 'a weak anchor just above the controller does not stand in for fixed 2');
    const strong = pt('scheduled-3', true, 23.2, 120, 50);
    assert.match(coldBar([...anchors, strong, pt('controller-a', false, 23, 100, 52)], f2).detail, /vs scheduled-3 50/, 'the best anchor in the bracket, not the fixed 2');
    // The fewest-cold setting (30) misses against an anchor beside it (32); a dearer one (40) meets it against fixed 2 (70).
    const close = pt('scheduled-3', true, 23.2, 120, 32);
    const mixed = coldBar([...anchors, close, pt('controller-a', false, 23, 100, 30), pt('controller-b', false, 23.9, 90, 40)], f2);
    assert.equal(mixed.met, true, 'any setting at or under the budget may meet it (40 ≤ 0.75 × 70)');
    assert.match(mixed.detail, /controller-b 40 cold .* vs fixed-2 70/);
  });

  it('bar 3 is the price of p95 ≤ 10 s, controller vs anchors', () => {
    assert.equal(cheapFastBar([...anchors, pt('controller-c', false, 35, 9, 6)]).met, true, '35 ≤ 0.7 × 50');
    assert.equal(cheapFastBar([...anchors, pt('controller-c', false, 36, 9, 6)]).met, false, '36 > 35');
    assert.equal(cheapFastBar([...anchors, pt('controller-c', false, 20, 11, 6)]).met, false, 'not reached');
  });
});
