import { z } from 'zod';
import type { Anticipation } from './fan-out.ts';

/**
 * Recent demand of one pool, from job arrivals. Pure and plain-JSON, so the leader can
 * keep it in Valkey and a new leader starts with the history instead of from zero.
 *
 * Two things predict how many warm slots the next minutes need:
 * - the arrival rate, as exponentially decayed counts over a short window (reacts to a
 *   rush within minutes) and a long one (remembers the working day across a lull);
 * - matrix bursts: jobs that arrive within seconds of each other need that many slots at
 *   the same moment, which no average shows. A burst predicts the next one only when
 *   bursts recur: a burst size counts for hours while bursts at least that large keep
 *   coming (about hourly, by default), but a single burst — the nightly cron matrix, a
 *   push at 1 a.m. — counts only for a few minutes (a re-run, the rest of a fan-out).
 *   The size kept for recurring bursts is the one that keeps coming back, not the largest
 *   ever seen: the `recurrences`-th largest within the window.
 */

export interface DemandOptions {
  /** Time constant of the fast rate (ms). */
  shortTauMs: number;
  /** Time constant of the slow rate (ms). */
  longTauMs: number;
  /** Arrivals this close to the previous one continue a burst. */
  burstGapMs: number;
  /** A burst never spans longer than this: a steady stream is a rate, not a burst. */
  burstSpanMs: number;
  /** How long the size of a burst counts when bursts do not recur. */
  burstMemoryMs: number;
  /** Recurrence is judged over the bursts of this last stretch of time. */
  recurrenceWindowMs: number;
  /** Bursts of a size recur when at least this many of at least that size arrived within the window. */
  recurrences: number;
}

export const DEFAULT_DEMAND_OPTIONS: DemandOptions = {
  shortTauMs: 5 * 60_000,
  longTauMs: 60 * 60_000,
  burstGapMs: 10_000,
  burstSpanMs: 60_000,
  burstMemoryMs: 5 * 60_000,
  // Three within three hours: bursts about every hour, as a team's matrix builds come.
  recurrenceWindowMs: 3 * 60 * 60_000,
  recurrences: 3,
};

/** Closed bursts kept at most: the recurrence list is pruned far below this in practice. */
const MAX_BURSTS = 64;

const Burst = z.object({ start: z.number(), last: z.number(), size: z.number().int().min(1) });
type Burst = z.infer<typeof Burst>;

const Rates = {
  /** Time the decayed counts refer to (the latest arrival). */
  at: z.number(),
  /** Σ exp(-(at − tᵢ)/τ) over arrivals: the rate is count / τ. */
  short: z.number().min(0),
  long: z.number().min(0),
  lastArrivalAt: z.number().optional(),
  /** The burst still accepting arrivals. */
  open: Burst.optional(),
};

const DemandStateV2 = z.object({
  v: z.literal(2),
  ...Rates,
  /**
   * Closed bursts of 2 or more jobs that can still decide a snapshot, oldest first. A burst
   * is dropped once `recurrences` later ones are at least as large (they outlive it in any
   * window, so it can never be the recurring size nor the recent maximum), or once it is
   * older than the recurrence window: the list stays short.
   */
  bursts: z.array(Burst).max(MAX_BURSTS),
});

/** The first stored format kept a sliding maximum (`peaks`); its bursts carry over. */
const DemandStateV1 = z.object({ v: z.literal(1), ...Rates, peaks: z.array(Burst).max(MAX_BURSTS) });

export const DemandState = z.union([
  DemandStateV2,
  DemandStateV1.transform(({ peaks, ...rest }) => ({ ...rest, v: 2 as const, bursts: peaks.filter((b) => b.size >= 2) })),
]);
export type DemandState = z.infer<typeof DemandStateV2>;

export interface DemandSnapshot {
  /** Arrivals per minute, fast and slow estimates. */
  ratePerMinShort: number;
  ratePerMinLong: number;
  /** Largest number of jobs that arrived together within the burst memory (0 when none). */
  recentBurst: number;
  /** The burst size that keeps coming back within the recurrence window (0 when bursts do not recur). */
  recurringBurst: number;
  lastArrivalAt?: number;
  /** Slots for waves that pipelines are expected to queue soon (fan-out.ts), set by the reconciler. */
  fanOut?: Anticipation;
}

export function emptyDemand(at = 0): DemandState {
  return { v: 2, at, short: 0, long: 0, bursts: [] };
}

/**
 * Adds `count` arrivals at `at` (e.g. a matrix of 8 jobs seen in one pass). Feed arrivals in
 * time order; a late one still counts towards the rates but not towards bursts. `burst: false`
 * counts them towards the rates only: a fan-out wave that was expected is predicted by its
 * pipeline (fan-out.ts), not by the bursts before it, and must not hold slots after it.
 */
export function recordArrivals(state: DemandState, at: number, count = 1, options = DEFAULT_DEMAND_OPTIONS, burst = true): DemandState {
  if (count <= 0) return state;
  const next: DemandState = { ...state, bursts: state.bursts.slice() };
  if (at >= state.at) {
    next.short = decay(state.short, at - state.at, options.shortTauMs) + count;
    next.long = decay(state.long, at - state.at, options.longTauMs) + count;
    next.at = at;
  } else {
    next.short = state.short + decay(count, state.at - at, options.shortTauMs);
    next.long = state.long + decay(count, state.at - at, options.longTauMs);
  }
  next.lastArrivalAt = Math.max(state.lastArrivalAt ?? at, at);
  return burst ? addToBursts(next, at, count, options) : next;
}

function addToBursts(state: DemandState, at: number, count: number, options: DemandOptions): DemandState {
  const open = state.open;
  if (open && at >= open.last - options.burstGapMs && at - open.last <= options.burstGapMs && at - open.start <= options.burstSpanMs) {
    state.open = { start: Math.min(open.start, at), last: Math.max(open.last, at), size: open.size + count };
    return state;
  }
  if (open && at < open.start) return state; // late arrival from before the open burst
  if (open && open.size >= 2) keepBurst(state.bursts, open, options);
  state.open = { start: at, last: at, size: count };
  pruneBursts(state.bursts, at, options);
  return state;
}

function keepBurst(bursts: Burst[], burst: Burst, options: DemandOptions): void {
  bursts.push(burst);
  // Drop every burst that `recurrences` later ones at least as large now outlive.
  const need = Math.max(1, options.recurrences);
  for (let i = bursts.length - 2; i >= 0; i--) {
    let larger = 0;
    for (let j = i + 1; j < bursts.length && larger < need; j++) if (bursts[j]!.size >= bursts[i]!.size) larger++;
    if (larger >= need) bursts.splice(i, 1);
  }
  if (bursts.length > MAX_BURSTS) bursts.splice(0, bursts.length - MAX_BURSTS);
}

function pruneBursts(bursts: Burst[], now: number, options: DemandOptions): void {
  const keepMs = Math.max(options.recurrenceWindowMs, options.burstMemoryMs);
  while (bursts.length > 0 && now - bursts[0]!.last > keepMs) bursts.shift();
}

function decay(value: number, elapsedMs: number, tauMs: number): number {
  return elapsedMs <= 0 ? value : value * Math.exp(-elapsedMs / tauMs);
}

/** Rates decayed to `now`, the largest burst within memory, and the size of recurring bursts. */
export function demandSnapshot(state: DemandState, now: number, options = DEFAULT_DEMAND_OPTIONS): DemandSnapshot {
  const elapsed = Math.max(0, now - state.at);
  const all = [...state.bursts, ...(state.open ? [state.open] : [])];
  const within = (ms: number) => all.filter((b) => now - b.last <= ms).map((b) => b.size);
  const snapshot: DemandSnapshot = {
    ratePerMinShort: (decay(state.short, elapsed, options.shortTauMs) / options.shortTauMs) * 60_000,
    ratePerMinLong: (decay(state.long, elapsed, options.longTauMs) / options.longTauMs) * 60_000,
    recentBurst: Math.max(0, ...within(options.burstMemoryMs)),
    recurringBurst: recurringSize(within(options.recurrenceWindowMs).filter((s) => s >= 2), options.recurrences),
  };
  if (state.lastArrivalAt !== undefined) snapshot.lastArrivalAt = state.lastArrivalAt;
  return snapshot;
}

/** The largest size that at least `n` of the bursts reach: the n-th largest (0 when fewer than n). */
function recurringSize(sizes: number[], n: number): number {
  if (n <= 0 || sizes.length < n) return 0;
  return sizes.sort((a, b) => b - a)[n - 1]!;
}

/** State as stored in Valkey. */
export function serializeDemand(state: DemandState): string {
  return JSON.stringify(state);
}

/** State read back from Valkey; anything unreadable (corruption, an unknown format) starts empty rather than failing the pass. */
export function parseDemand(text: string | null | undefined, now: number): DemandState {
  if (!text) return emptyDemand(now);
  try {
    const parsed = DemandState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : emptyDemand(now);
  } catch {
    return emptyDemand(now);
  }
}
