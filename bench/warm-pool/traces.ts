import { TraceRandom } from './random.ts';

/**
 * Synthetic arrival traces for the warm-pool benchmark: one simulated day of workflow
 * jobs, a pure function of a shape and a seed. Times are UTC; the day is a Monday, so
 * weekday schedule windows apply.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
export const DAY_MS = 24 * HOUR;
/** Monday 2026-11-23 00:00 UTC: the simulated day. */
export const TRACE_DAY = Date.UTC(2026, 10, 23, 0, 0, 0);
/** No generator loop may produce more arrivals than this (a shape typo must not hang the benchmark). */
const MAX_EVENTS = 20_000;

/** `build`: a pipeline's first job; `fan-out`: the test matrix queued when that build completes. */
export type JobSource = 'push' | 'matrix' | 'scheduled' | 'build' | 'fan-out' | 'recorded';

export interface TraceJob {
  /** Milliseconds after the start of the day the webhook arrives. */
  at: number;
  /** 1-based, in arrival order. */
  jobId: number;
  /** The workflow run the job belongs to (a push's jobs share one, a matrix's too). */
  runId: number;
  /** How long the job runs once its runner is up. */
  runMs: number;
  source: JobSource;
  /** The job's runs-on labels (a recorded job's, in `npm run what-if`); the bench's one class when absent. */
  labels?: string[];
  /** Workflow and job name, as GitHub's workflow_job payload gives them (what fan-out anticipation learns from). */
  workflow?: string;
  jobName?: string;
}

export interface RunMinutes {
  median: number;
  sigma: number;
  min: number;
  max: number;
}

export interface TraceShape {
  /** Workflow runs (pushes, pull requests) per hour, for each UTC hour of the day (24 entries). */
  runsPerHour: readonly number[];
  /** Jobs per ordinary run, by weight: `[jobs, weight]`. */
  jobsPerRun: ReadonlyArray<readonly [number, number]>;
  /** An ordinary run's jobs arrive within this long of each other. */
  runSpreadMs: number;
  /** Matrix bursts per hour, for each UTC hour (24 entries). */
  matrixPerHour: readonly number[];
  /** Jobs in one matrix, uniform in [lo, hi]. */
  matrixSize: readonly [number, number];
  /** A matrix's jobs arrive within this long of each other. */
  matrixSpreadMs: number;
  /** Scheduled workflows (cron) with a matrix: `HH:MM` UTC and size. */
  scheduled: ReadonlyArray<{ at: string; size: number }>;
  /** Run time of an ordinary job and of a matrix job: log-normal, clamped (minutes). */
  runMinutes: RunMinutes;
  matrixRunMinutes: RunMinutes;
  /** Pipelines per hour (24 entries): a build job, then a matrix of `matrixSize` queued when it completes. */
  fanOutPerHour?: readonly number[];
  buildRunMinutes?: RunMinutes;
}

export interface Trace {
  name: string;
  title: string;
  /** One paragraph for the benchmark doc. */
  summary: string;
  seed: number;
  shape: TraceShape;
  /** Epoch ms of the day's start (00:00 UTC). */
  startAt: number;
  durationMs: number;
  jobs: TraceJob[];
}

const hours = (f: (h: number) => number): number[] => Array.from({ length: 24 }, (_, h) => f(h));
const JOB_MINUTES: RunMinutes = { median: 5, sigma: 0.8, min: 1, max: 45 };
const MATRIX_MINUTES: RunMinutes = { median: 10, sigma: 0.5, min: 2, max: 45 };

/** Quiet night, morning ramp, busy working hours with a lunch dip, matrix bursts 09–18, a nightly cron matrix. */
export const WORKING_DAY: TraceShape = {
  runsPerHour: [1, 1, 1, 1, 1, 1, 3, 10, 30, 40, 40, 40, 20, 40, 40, 40, 35, 25, 12, 6, 3, 2, 1, 1],
  jobsPerRun: [[1, 0.5], [2, 0.3], [3, 0.2]],
  runSpreadMs: 5_000,
  matrixPerHour: hours((h) => (h >= 9 && h < 18 ? 1 : 0)),
  matrixSize: [8, 16],
  matrixSpreadMs: 10_000,
  scheduled: [{ at: '02:00', size: 6 }],
  runMinutes: JOB_MINUTES,
  matrixRunMinutes: MATRIX_MINUTES,
};

/** A team spread over time zones: about the working day's volume, flat over 24 hours, no quiet night. */
export const FOLLOW_THE_SUN: TraceShape = {
  ...WORKING_DAY,
  runsPerHour: hours(() => 17),
  matrixPerHour: hours(() => 0.4),
  scheduled: [],
};

/** A small team: a few runs an hour 09–17, an occasional small matrix, nothing at night. */
export const SMALL_TEAM: TraceShape = {
  ...WORKING_DAY,
  runsPerHour: hours((h) => (h >= 9 && h < 17 ? 4 : 0)),
  matrixPerHour: hours((h) => (h >= 9 && h < 17 ? 0.25 : 0)),
  matrixSize: [4, 8],
  scheduled: [],
};

/**
 * Pipelines that fan out: the working day's pushes, and instead of matrices out of nowhere,
 * 2 pipelines an hour 09–18 whose build job (median 6 min) queues a test matrix of 8–16 when
 * it completes, as `needs: build` with `strategy.matrix` does.
 */
export const FAN_OUT: TraceShape = {
  ...WORKING_DAY,
  matrixPerHour: hours(() => 0),
  scheduled: [],
  fanOutPerHour: hours((h) => (h >= 9 && h < 18 ? 2 : 0)),
  buildRunMinutes: { median: 6, sigma: 0.4, min: 3, max: 15 },
};

/**
 * A build's matrix is queued when the build completes: its arrival + a warm start + its run
 * time. The trace is fixed in advance, so a build that started cold would in reality release its
 * matrix up to a cold start later; the trace takes the warm case for every policy alike.
 */
const BUILD_START_MS = 4_000;

export interface TraceSpec {
  name: string;
  title: string;
  summary: string;
  shape: TraceShape;
  seed: number;
}

export const TRACE_SPECS: readonly TraceSpec[] = [
  {
    name: 'working-day',
    title: 'Working day',
    summary:
      'Quiet night (1 run/h, a nightly cron matrix of 6 at 02:00), ramp from 06:00, 30–40 runs/h 08:00–17:00 with a lunch dip, ' +
      'tapering to 1 run/h by 22:00; matrix bursts of 8–16 jobs at 1/h between 09:00 and 18:00.',
    shape: WORKING_DAY,
    seed: 1,
  },
  {
    name: 'follow-the-sun',
    title: 'Follow the sun',
    summary: 'About the working day\'s volume spread flat over 24 h: 17 runs/h and 0.4 matrix bursts (8–16 jobs)/h at every hour, no quiet night.',
    shape: FOLLOW_THE_SUN,
    seed: 2,
  },
  {
    name: 'small-team',
    title: 'Small team',
    summary: '4 runs/h between 09:00 and 17:00, a matrix of 4–8 jobs at 0.25/h in the same hours, nothing at night.',
    shape: SMALL_TEAM,
    seed: 3,
  },
  {
    name: 'fan-out',
    title: 'Fan-out pipelines',
    summary:
      'The working day\'s pushes, and 2 pipelines/h 09:00–18:00 whose build job (log-normal, median 6 min, 3–15 min) queues a test matrix of 8–16 jobs when it completes ' +
      '(arrival + a 4 s warm start + the build\'s run time), minutes after the run\'s first job; no matrices without a build before them.',
    shape: FAN_OUT,
    seed: 1,
  },
];

/** Workflow and job names by source: a push runs `ci`'s jobs, a matrix `test (n)`, a pipeline `build` then its tests. */
const JOB_NAMES: Record<JobSource, (i: number) => { workflow?: string; jobName?: string }> = {
  push: (i) => ({ workflow: 'ci', jobName: ['check', 'unit', 'lint'][i % 3]! }),
  matrix: (i) => ({ workflow: 'matrix', jobName: `test (${i + 1})` }),
  scheduled: (i) => ({ workflow: 'nightly', jobName: `test (${i + 1})` }),
  build: () => ({ workflow: 'pipeline', jobName: 'build' }),
  'fan-out': (i) => ({ workflow: 'pipeline', jobName: `test (${i + 1})` }),
  // Recorded jobs come from sim/what-if/records.ts with what their records hold.
  recorded: () => ({}),
};

/** The day of arrivals a shape and seed describe. Deterministic. */
export function generateTrace(spec: TraceSpec, startAt = TRACE_DAY): Trace {
  const { shape, seed } = spec;
  const rnd = new TraceRandom(seed);
  const jobs: Array<Omit<TraceJob, 'jobId'>> = [];
  let runId = 0;
  const add = (start: number, size: number, spreadMs: number, source: JobSource, minutes: RunMinutes, fixedRunMs?: number) => {
    runId++;
    for (let i = 0; i < size; i++) {
      const at = Math.min(DAY_MS - 1, Math.round(start + rnd.uniform() * spreadMs));
      jobs.push({ at, runId, runMs: fixedRunMs ?? runMs(rnd, minutes), source, ...JOB_NAMES[source](i) });
    }
    if (jobs.length > MAX_EVENTS) throw new Error(`trace ${spec.name}: more than ${MAX_EVENTS} jobs; check the shape's rates`);
  };

  for (const start of poissonTimes(rnd, shape.runsPerHour)) add(start, rnd.weighted(shape.jobsPerRun), shape.runSpreadMs, 'push', shape.runMinutes);
  for (const start of poissonTimes(rnd, shape.matrixPerHour))
    add(start, rnd.int(shape.matrixSize[0], shape.matrixSize[1]), shape.matrixSpreadMs, 'matrix', shape.matrixRunMinutes);
  for (const s of shape.scheduled) add(clockTime(s.at), s.size, shape.matrixSpreadMs, 'scheduled', shape.matrixRunMinutes);
  if (shape.fanOutPerHour) {
    for (const start of poissonTimes(rnd, shape.fanOutPerHour)) {
      const build = runMs(rnd, shape.buildRunMinutes ?? shape.runMinutes);
      add(start, 1, 0, 'build', shape.buildRunMinutes ?? shape.runMinutes, build);
      const size = rnd.int(shape.matrixSize[0], shape.matrixSize[1]);
      // Same run: the matrix is the build's pipeline continuing.
      runId--;
      add(start + BUILD_START_MS + build, size, shape.matrixSpreadMs, 'fan-out', shape.matrixRunMinutes);
    }
  }

  // Stable order: time, then run, so equal times keep a fixed order.
  jobs.sort((a, b) => a.at - b.at || a.runId - b.runId);
  return {
    name: spec.name, title: spec.title, summary: spec.summary, seed, shape, startAt, durationMs: DAY_MS,
    jobs: jobs.map((j, i) => ({ ...j, jobId: i + 1 })),
  };
}

/** Start times of a Poisson process whose rate is constant within each hour (`perHour`, 24 entries). */
function poissonTimes(rnd: TraceRandom, perHour: readonly number[]): number[] {
  const out: number[] = [];
  perHour.forEach((rate, h) => {
    if (!(rate > 0)) return;
    const end = (h + 1) * HOUR;
    for (let t = h * HOUR + rnd.exponential(HOUR / rate); t < end; t += rnd.exponential(HOUR / rate)) {
      out.push(Math.round(t));
      if (out.length > MAX_EVENTS) throw new Error(`more than ${MAX_EVENTS} arrivals; check the shape's rates`);
    }
  });
  return out;
}

function runMs(rnd: TraceRandom, m: RunMinutes): number {
  const minutes = Math.min(m.max, Math.max(m.min, rnd.logNormal(m.median, m.sigma)));
  return Math.round(minutes * MIN);
}

function clockTime(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h! * 60 + m!) * MIN;
}

/** Parts of the day that cold starts and idle spend are broken down by (ms after the day's start). */
export const DAY_PERIODS: ReadonlyArray<{ name: string; from: number; to: number }> = [
  { name: '00–08', from: 0, to: 8 * HOUR },
  { name: '08–18', from: 8 * HOUR, to: 18 * HOUR },
  { name: '18–24', from: 18 * HOUR, to: DAY_MS },
];

/** Arrivals per UTC hour (24 entries): what the doc's shape describes, for tests and the report. */
export function jobsPerHour(trace: Trace): number[] {
  const out = new Array<number>(24).fill(0);
  for (const j of trace.jobs) out[Math.floor(j.at / HOUR)]!++;
  return out;
}
