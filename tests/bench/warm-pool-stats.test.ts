import assert from 'node:assert/strict';
import { CONTROLLER_POOL, COST_CURVE, curvePolicy } from '../../bench/warm-pool/policies.ts';
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
      nodesLaunched: 3, nodeCpuHours: 40, wallMs: 5,
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
  });

  it('a job that never started counts as cold and is left out of the percentiles', () => {
    const s = policyStats({
      trace: 't', policy: 'fixed', starts: [start(1, 0, 4, true), start(2, 0, undefined, false)], placeholderCpuHours: 0, placeholderCpuHoursByPeriod: {},
      nodesLaunched: 0, nodeCpuHours: 0, wallMs: 0,
    });
    assert.equal(s.neverStarted, 1);
    assert.equal(s.coldStarts, 1);
    assert.equal(s.p95StartS, 4);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('a cost-curve setting is the benchmarked controller pool with only its own fields changed', () => {
    for (const setting of COST_CURVE) {
      const policy = curvePolicy(setting);
      assert.equal(policy.controller, true);
      const pool = policy.doc.pools[0]!;
      for (const [key, value] of Object.entries({ ...CONTROLLER_POOL, ...setting.pool })) {
        if (key === 'schedules') assert.equal(pool.schedules.length, CONTROLLER_POOL.schedules!.length, setting.title);
        else assert.deepEqual(pool[key as keyof typeof pool], value, `${setting.title}: ${key}`);
      }
    }
  });
});
