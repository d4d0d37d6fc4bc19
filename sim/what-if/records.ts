import { DAY_MS, type Trace, type TraceJob } from '../../bench/warm-pool/traces.ts';

/**
 * One job as recorded: by the orchestrator (its job record in Valkey) or by GitHub (a row of
 * the jobs API exported to CSV). What the replay needs of it: when it was queued, its labels
 * (which class), and how long it ran once it had a runner. What really happened (its
 * recorded start) is kept to show beside the replay.
 */
export interface RecordedJob {
  /** Epoch ms it was queued: GitHub's created_at, the record's receivedAt. */
  createdAt: number;
  /** Epoch ms it started on a runner, as recorded (started_at, runningAt). */
  startedAt: number;
  /** How long it ran: completed_at − started_at, finishedAt − runningAt. */
  runMs: number;
  labels: string[];
  /** Its workflow run, workflow and job name when recorded (GitHub's run_id, workflow_name, name): fan-out anticipation learns from them. */
  runId?: number;
  workflow?: string;
  jobName?: string;
  /** Where it came from, for messages: `jobs.csv line 12`, `record {runs-fleet}:job:123:1`. */
  source: string;
}

/** A trace that cannot be replayed: the message names the input and the fix. */
export class TraceError extends Error {
  override name = 'TraceError';
}

/** Jobs left out of the replay, by reason (each reason says why), for the report. */
export type Skipped = Map<string, number>;

export function skip(skipped: Skipped, reason: string): void {
  skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
}

export interface Window {
  /** Epoch ms, 00:00 UTC of the first day replayed. */
  from: number;
  days: number;
  /** Notes for the report: days dropped or empty, a cap applied. */
  notes: string[];
}

const day = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * The last `days` whole UTC days up to the day of the newest job (or of `now`, for Valkey:
 * "the last 7 days" means up to today). Leading days before the first job are not replayed
 * (records expire, an export starts somewhere): replaying them would spread the cost over
 * days the trace knows nothing about. Days inside the span with no job are replayed (a
 * quiet weekend costs what the pools hold) and named. With more than `maxJobs` jobs, the
 * oldest days are dropped until it fits, and the note says so.
 */
export function chooseWindow(jobs: readonly RecordedJob[], days: number, o: { now?: number; maxJobs: number; what: string }): { window: Window; jobs: RecordedJob[] } {
  if (!jobs.length) throw new TraceError(`${o.what}: no jobs to replay`);
  const newest = jobs.reduce((m, j) => Math.max(m, j.createdAt), -Infinity);
  const lastDay = day(Math.max(newest, o.now ?? newest));
  let from = lastDay - (days - 1) * DAY_MS;
  const notes: string[] = [];
  let inWindow = jobs.filter((j) => j.createdAt >= from && j.createdAt < lastDay + DAY_MS);
  if (!inWindow.length)
    throw new TraceError(`${o.what}: no jobs in the last ${days} day(s) (${iso(from)} to ${iso(lastDay)}); the newest is from ${iso(newest)}: raise --days, or export newer jobs`);
  const firstDay = day(inWindow.reduce((m, j) => Math.min(m, j.createdAt), Infinity));
  if (firstDay > from) {
    notes.push(`no jobs before ${iso(firstDay)}: replaying ${(lastDay - firstDay) / DAY_MS + 1} day(s), not ${days}`);
    from = firstDay;
  }
  while (inWindow.length > o.maxJobs && from < lastDay) {
    from += DAY_MS;
    inWindow = inWindow.filter((j) => j.createdAt >= from);
  }
  if (from > firstDay) notes.push(`more than --max-jobs ${o.maxJobs} jobs: replaying only the newest ${(lastDay - from) / DAY_MS + 1} day(s) from ${iso(from)} (${inWindow.length} jobs)`);
  if (inWindow.length > o.maxJobs) {
    inWindow = inWindow.sort((a, b) => a.createdAt - b.createdAt).slice(-o.maxJobs);
    notes.push(`the newest day alone holds more than ${o.maxJobs} jobs: replaying its last ${o.maxJobs}`);
  }
  const n = (lastDay - from) / DAY_MS + 1;
  const busy = new Set(inWindow.map((j) => day(j.createdAt)));
  const empty = Array.from({ length: n }, (_, i) => from + i * DAY_MS).filter((d) => !busy.has(d));
  if (empty.length) notes.push(`no jobs on ${empty.map(iso).join(', ')}: replayed as quiet days (only the warm pools cost)`);
  return { window: { from, days: n, notes }, jobs: inWindow };
}

const UNRECORDED_RUN = 1e15;

/** The jobs as a trace the warm-pool bench replays: arrivals after the window's start, numbered 1… in arrival order. */
export function toTrace(jobs: readonly RecordedJob[], window: Window, name: string): Trace {
  const sorted = [...jobs].sort((a, b) => a.createdAt - b.createdAt);
  // A job whose run was not recorded is a run of its own (ids past any real run id).
  const traceJobs: TraceJob[] = sorted.map((j, i) => ({
    at: j.createdAt - window.from, jobId: i + 1, runId: j.runId ?? UNRECORDED_RUN + i, runMs: Math.max(1_000, j.runMs), source: 'recorded', labels: j.labels,
    ...(j.workflow !== undefined ? { workflow: j.workflow } : {}), ...(j.jobName !== undefined ? { jobName: j.jobName } : {}),
  }));
  return {
    name, title: name, summary: `${jobs.length} recorded jobs over ${window.days} day(s) from ${iso(window.from)}`, seed: 1,
    shape: { runsPerHour: [], jobsPerRun: [], runSpreadMs: 0, matrixPerHour: [], matrixSize: [0, 0], matrixSpreadMs: 0, scheduled: [], runMinutes: { median: 0, sigma: 0, min: 0, max: 0 }, matrixRunMinutes: { median: 0, sigma: 0, min: 0, max: 0 } },
    startAt: window.from, durationMs: window.days * DAY_MS, jobs: traceJobs,
  };
}
