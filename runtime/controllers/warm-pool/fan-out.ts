import { z } from 'zod';

/**
 * Fan-out anticipation. Pipelines queue their next stage when a job completes: a build with
 * `needs: build` and `strategy.matrix` after it queues 8–16 test jobs minutes after the run's
 * first one, all at once. No rate or burst history can see such a wave coming, but the run
 * can: the job that comes before it is known minutes in advance. So the controller learns,
 * per (repository, workflow, job name), which jobs are usually followed by a wave in the same
 * run, how large and how long after, and when such a job arrives again it warms that many
 * slots from one warm-up (node launch + image pull) before the earliest wave it has seen,
 * until the wave arrives or the latest one it has seen is past.
 *
 * Learned only from the runner pods' own arrivals (their run and job identity annotations).
 * Pure and plain JSON, kept with the pool's demand state so a new leader keeps what was learned.
 */

export interface Arrival {
  /** Runner pod creation time. */
  at: number;
  /** The workflow run (repository, run id and attempt): a re-run is a new attempt, not a wave. */
  run?: string;
  /** repository / workflow / job name: what predicts a wave. */
  key?: string;
}

export interface FanOutOptions {
  /** An arrival this long after its run's previous one starts a new wave (a later stage). */
  minLagMs: number;
  /** Arrivals of a run this close together belong to the same wave. */
  waveGapMs: number;
  /** A run is followed this long after its last arrival. */
  runMemoryMs: number;
  /** How long a placeholder takes to be warm on a new node (launch + image pull): slots go up this long before the earliest wave seen. */
  warmUpMs: number;
  /** An expected wave is given up this long after the latest one seen would have come. */
  graceMs: number;
  /** Waves remembered per key (the most recent). */
  samples: number;
  /** A key anticipates only after this many waves followed it... */
  minFollowed: number;
  /** ...and only if waves followed at least this share of its recent arrivals. */
  minShare: number;
  maxKeys: number;
  maxRuns: number;
}

export const DEFAULT_FAN_OUT_OPTIONS: FanOutOptions = {
  minLagMs: 60_000,
  waveGapMs: 10_000,
  runMemoryMs: 30 * 60_000,
  // The sim's timing profile (sim/k8s/timing-profile.ts): node launch → Ready 40 s, runner image pull 88 s; a pass's 15 s on top.
  warmUpMs: 150_000,
  graceMs: 60_000,
  samples: 8,
  minFollowed: 2,
  minShare: 0.5,
  maxKeys: 256,
  maxRuns: 1024,
};

const Wave = z.object({ lag: z.number().min(0), size: z.number().int().min(1) });
const KeyStats = z.object({
  key: z.string(),
  /** Arrivals of this key, halved with `followed` once past twice `samples`: a recent share. */
  seen: z.number().min(0),
  followed: z.number().min(0),
  lastAt: z.number(),
  waves: z.array(Wave).max(64),
});
const Run = z.object({
  run: z.string(),
  lastAt: z.number(),
  /** Key of the latest arrival: a new wave is credited to it. */
  lastKey: z.string().optional(),
  /** The wave now arriving: its key's sample grows while it lasts; `anticipated` when it was expected. */
  wave: z.object({ key: z.string().optional(), last: z.number(), anticipated: z.boolean() }).optional(),
});
const Expected = z.object({ run: z.string(), key: z.string(), from: z.number(), until: z.number(), size: z.number().int().min(1) });

export const FanOutState = z.object({
  v: z.literal(1),
  keys: z.array(KeyStats).max(4096),
  runs: z.array(Run).max(8192),
  expected: z.array(Expected).max(8192),
});
export type FanOutState = z.infer<typeof FanOutState>;
type KeyStatsT = z.infer<typeof KeyStats>;
type RunT = z.infer<typeof Run>;
type ExpectedT = z.infer<typeof Expected>;

export function emptyFanOut(): FanOutState {
  return { v: 1, keys: [], runs: [], expected: [] };
}

export interface FanOutUpdate {
  state: FanOutState;
  /** For each arrival (in the order given): it belongs to a wave that was expected. */
  anticipated: boolean[];
}

/** Adds arrivals (in time order) to what is learned and expected. */
export function recordFanOut(prev: FanOutState, arrivals: readonly Arrival[], now: number, options = DEFAULT_FAN_OUT_OPTIONS): FanOutUpdate {
  // Copies all the way down: the previous state is left as it was.
  const keys = new Map(prev.keys.map((k) => [k.key, { ...k, waves: k.waves.map((w) => ({ ...w })) }]));
  const runs = new Map(prev.runs.map((r) => [r.run, { ...r, ...(r.wave ? { wave: { ...r.wave } } : {}) }]));
  const expected = new Map(prev.expected.map((e) => [e.run, e]));
  const anticipated = arrivals.map((a) => {
    const hit = a.run !== undefined ? recordInRun(runs, keys, expected, a as Arrival & { run: string }, options) : false;
    if (a.key === undefined) return hit;
    const stats = countSeen(keys, a.key, a.at, options);
    const e = a.run !== undefined ? expectation(stats, a.run, a.at, options) : undefined;
    if (e) expected.set(e.run, e);
    return hit;
  });
  return { state: prune({ v: 1, keys: [...keys.values()], runs: [...runs.values()], expected: [...expected.values()] }, now, options), anticipated };
}

/** Follows the arrival's run; true when it belongs to a wave that was expected. */
function recordInRun(runs: Map<string, RunT>, keys: Map<string, KeyStatsT>, expected: Map<string, ExpectedT>, a: Arrival & { run: string }, options: FanOutOptions): boolean {
  const run = runs.get(a.run);
  if (!run) {
    runs.set(a.run, { run: a.run, lastAt: a.at, ...(a.key !== undefined ? { lastKey: a.key } : {}) });
    return false;
  }
  let hit = false;
  const continuing = run.wave !== undefined && Math.abs(a.at - run.wave.last) <= options.waveGapMs;
  if (continuing) {
    hit = run.wave!.anticipated;
    const stats = run.wave!.key !== undefined ? keys.get(run.wave!.key) : undefined;
    const last = stats?.waves[stats.waves.length - 1];
    if (last) last.size++;
    run.wave!.last = Math.max(run.wave!.last, a.at);
  } else if (a.at - run.lastAt >= options.minLagMs) {
    hit = expected.delete(a.run);
    credit(run, a, keys, options);
    run.wave = { last: a.at, anticipated: hit, ...(run.lastKey !== undefined ? { key: run.lastKey } : {}) };
  } else delete run.wave;
  // Every arrival may be what the next stage follows: a deploy after the tests.
  run.lastAt = Math.max(run.lastAt, a.at);
  if (a.key !== undefined) run.lastKey = a.key;
  else delete run.lastKey;
  return hit;
}

/** A new wave: a sample for the key of the run's latest arrival before it. */
function credit(run: RunT, a: Arrival, keys: Map<string, KeyStatsT>, options: FanOutOptions): void {
  const stats = run.lastKey !== undefined ? keys.get(run.lastKey) : undefined;
  if (!stats) return;
  stats.waves.push({ lag: Math.max(0, a.at - run.lastAt), size: 1 });
  if (stats.waves.length > options.samples) stats.waves.splice(0, stats.waves.length - options.samples);
  stats.followed++;
}

function countSeen(keys: Map<string, KeyStatsT>, key: string, at: number, options: FanOutOptions): KeyStatsT {
  const stats = keys.get(key) ?? { key, seen: 0, followed: 0, lastAt: at, waves: [] };
  stats.seen++;
  stats.lastAt = Math.max(stats.lastAt, at);
  if (stats.seen > 2 * options.samples) [stats.seen, stats.followed] = [stats.seen / 2, stats.followed / 2];
  keys.set(key, stats);
  return stats;
}

/** The wave this arrival's key usually brings, if it reliably brings one. */
function expectation(stats: KeyStatsT, run: string, at: number, options: FanOutOptions) {
  const waves = stats.waves;
  // `seen` counts this arrival already: the share is of the arrivals before it.
  const before = Math.max(1, stats.seen - 1);
  if (waves.length < options.minFollowed || stats.followed / before < options.minShare) return undefined;
  const lags = waves.map((w) => w.lag);
  return {
    run, key: stats.key, size: Math.max(...waves.map((w) => w.size)),
    from: at + Math.min(...lags) - options.warmUpMs,
    until: at + Math.max(...lags) + options.graceMs,
  };
}

function prune(state: FanOutState, now: number, options: FanOutOptions): FanOutState {
  const runs = state.runs.filter((r) => now - r.lastAt <= options.runMemoryMs).sort((a, b) => a.lastAt - b.lastAt).slice(-options.maxRuns);
  const keys = state.keys.sort((a, b) => a.lastAt - b.lastAt).slice(-options.maxKeys);
  const expected = state.expected.filter((e) => e.until > now);
  return { v: 1, keys, runs, expected };
}

export interface Anticipation {
  /** Slots to hold warm now for waves expected soon. */
  slots: number;
  /** How long the latest of those expectations can still last (ms): what the slots may cost. */
  holdMs: number;
}

export function anticipatedSlots(state: FanOutState, now: number): Anticipation {
  let slots = 0;
  let holdMs = 0;
  for (const e of state.expected) {
    if (e.from > now || e.until <= now) continue;
    slots += e.size;
    holdMs = Math.max(holdMs, e.until - now);
  }
  return { slots, holdMs };
}
