import assert from 'node:assert/strict';
import {
  DAY_MS, FOLLOW_THE_SUN, generateTrace, jobsPerHour, SMALL_TEAM, TRACE_SPECS, WORKING_DAY, type Trace, type TraceJob, type TraceSpec,
} from '../../bench/warm-pool/traces.ts';

const HOUR = 3_600_000;
const spec = (name: string): TraceSpec => TRACE_SPECS.find((s) => s.name === name)!;

/** Jobs grouped by workflow run. */
function runs(trace: Trace, source?: TraceJob['source']): TraceJob[][] {
  const by = new Map<number, TraceJob[]>();
  for (const j of trace.jobs) if (!source || j.source === source) by.set(j.runId, [...(by.get(j.runId) ?? []), j]);
  return [...by.values()];
}

const spread = (jobs: TraceJob[]) => Math.max(...jobs.map((j) => j.at)) - Math.min(...jobs.map((j) => j.at));
const hourOf = (jobs: TraceJob[]) => Math.floor(Math.min(...jobs.map((j) => j.at)) / HOUR);

describe('warm-pool benchmark traces', () => {
  it('are a pure function of shape and seed', () => {
    for (const s of TRACE_SPECS) assert.deepEqual(generateTrace(s), generateTrace(s), s.name);
    const other = generateTrace({ ...spec('working-day'), seed: 99 });
    assert.notDeepEqual(other.jobs, generateTrace(spec('working-day')).jobs, 'another seed, another day');
  });

  it('hold one day of jobs in arrival order, numbered 1…n, each running 1–45 min', () => {
    for (const s of TRACE_SPECS) {
      const t = generateTrace(s);
      assert.ok(t.jobs.length > 0, s.name);
      t.jobs.forEach((j, i) => {
        assert.equal(j.jobId, i + 1);
        assert.ok(j.at >= 0 && j.at < DAY_MS, `${s.name} job ${j.jobId} at ${j.at}`);
        if (i > 0) assert.ok(j.at >= t.jobs[i - 1]!.at, `${s.name}: out of order at job ${j.jobId}`);
        assert.ok(j.runMs >= 60_000 && j.runMs <= 45 * 60_000, `${s.name} job ${j.jobId} runs ${j.runMs} ms`);
      });
    }
  });

  it('working day: a quiet night, a busy day, matrix bursts of 8–16 only 09–18, the cron matrix of 6 at 02:00', () => {
    const t = generateTrace(spec('working-day'));
    const perHour = jobsPerHour(t);
    const sum = (from: number, to: number) => perHour.slice(from, to).reduce((a, b) => a + b, 0);
    assert.ok(sum(0, 6) <= 30, `00–06: ${sum(0, 6)} jobs`);
    assert.ok(sum(9, 17) >= 10 * sum(0, 6), `09–17 (${sum(9, 17)}) is busier than the night (${sum(0, 6)}) by far`);
    assert.ok(sum(22, 24) < perHour[10]! / 4, 'the evening tapers off');

    const matrices = runs(t, 'matrix');
    assert.ok(matrices.length >= 4, `${matrices.length} matrix bursts`);
    for (const m of matrices) {
      assert.ok(m.length >= 8 && m.length <= 16, `matrix of ${m.length}`);
      assert.ok(hourOf(m) >= 9 && hourOf(m) < 18, `matrix at hour ${hourOf(m)}`);
      assert.ok(spread(m) <= WORKING_DAY.matrixSpreadMs);
    }
    const [cron, ...more] = runs(t, 'scheduled');
    assert.equal(more.length, 0);
    assert.equal(cron!.length, 6);
    assert.ok(cron!.every((j) => j.at >= 2 * HOUR && j.at <= 2 * HOUR + WORKING_DAY.matrixSpreadMs), 'at 02:00');
    for (const r of runs(t, 'push')) {
      assert.ok(r.length >= 1 && r.length <= 3, `a run of ${r.length}`);
      assert.ok(spread(r) <= WORKING_DAY.runSpreadMs);
    }
  });

  it('follow the sun: every hour busy, no hour more than a few times another, matrices outside working hours too', () => {
    const t = generateTrace(spec('follow-the-sun'));
    const perHour = jobsPerHour(t);
    assert.ok(Math.min(...perHour) >= 5, `quietest hour ${Math.min(...perHour)}`);
    assert.ok(Math.max(...perHour) <= 5 * Math.min(...perHour), `hours ${perHour.join(',')}`);
    const hours = new Set(runs(t, 'matrix').map(hourOf));
    assert.ok([...hours].some((h) => h < 8 || h >= 18), `matrices at hours ${[...hours].join(',')}`);
    assert.equal(runs(t, 'scheduled').length, 0);
  });

  it('small team: jobs only 09–17, matrices of 4–8', () => {
    const t = generateTrace(spec('small-team'));
    assert.ok(t.jobs.every((j) => j.at >= 9 * HOUR && j.at < 17 * HOUR + SMALL_TEAM.matrixSpreadMs), 'nothing outside 09–17');
    for (const m of runs(t, 'matrix')) assert.ok(m.length >= 4 && m.length <= 8, `matrix of ${m.length}`);
    assert.ok(t.jobs.length < 200, `${t.jobs.length} jobs`);
  });

  it('produce the documented volumes on average over seeds (runs per hour, jobs per run, matrices per hour)', () => {
    const seeds = Array.from({ length: 12 }, (_, i) => 1_000 + i);
    for (const shape of [WORKING_DAY, FOLLOW_THE_SUN, SMALL_TEAM]) {
      const expectedRuns = shape.runsPerHour.reduce((a, b) => a + b, 0);
      const expectedMatrices = shape.matrixPerHour.reduce((a, b) => a + b, 0);
      const jobsPerRun = shape.jobsPerRun.reduce((a, [n, w]) => a + n * w, 0) / shape.jobsPerRun.reduce((a, [, w]) => a + w, 0);
      const days = seeds.map((seed) => generateTrace({ name: 'x', title: 'x', summary: 'x', shape, seed }));
      const mean = (f: (t: Trace) => number) => days.reduce((a, t) => a + f(t), 0) / days.length;
      const pushRuns = mean((t) => runs(t, 'push').length);
      const pushJobs = mean((t) => t.jobs.filter((j) => j.source === 'push').length);
      const matrices = mean((t) => runs(t, 'matrix').length);
      // Poisson counts: the mean of 12 days is within 4 standard errors of the rate.
      const within = (got: number, want: number) => Math.abs(got - want) <= 4 * Math.sqrt(want / seeds.length) + 0.5;
      assert.ok(within(pushRuns, expectedRuns), `runs/day ${pushRuns} vs ${expectedRuns}`);
      assert.ok(Math.abs(pushJobs / pushRuns - jobsPerRun) < 0.1, `jobs per run ${pushJobs / pushRuns} vs ${jobsPerRun}`);
      assert.ok(within(matrices, expectedMatrices), `matrices/day ${matrices} vs ${expectedMatrices}`);
    }
  });

  it('fan-out: each build is followed by its matrix of 8–16 in the same run, minutes later', () => {
    const t = generateTrace(spec('fan-out'));
    const builds = t.jobs.filter((j) => j.source === 'build');
    assert.ok(builds.length >= 10, `${builds.length} builds`);
    for (const b of builds) {
      const matrix = t.jobs.filter((j) => j.runId === b.runId && j.source === 'fan-out');
      assert.ok(matrix.length >= 8 && matrix.length <= 16, `matrix of ${matrix.length}`);
      const first = Math.min(...matrix.map((j) => j.at));
      assert.ok(first >= b.at + b.runMs && first - b.at >= 3 * 60_000, 'the matrix comes after the build completed, minutes after it arrived');
    }
    assert.equal(t.jobs.filter((j) => j.source === 'matrix').length, 0);
  });
});
