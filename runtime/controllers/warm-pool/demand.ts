import { z } from 'zod';

/**
 * Recent demand of one pool, from job arrivals. Pure and plain-JSON, so the leader can
 * keep it in Valkey and a new leader starts with the history instead of from zero.
 *
 * Two things predict how many warm slots the next minutes need:
 * - the arrival rate, as exponentially decayed counts over a short window (reacts to a
 *   rush within minutes) and a long one (remembers the working day across a lull);
 * - matrix bursts: jobs that arrive within seconds of each other need that many slots at
 *   the same moment, which no average shows. The largest recent burst is remembered for
 *   a while (CI pushes repeat), then forgotten, so an evening's last burst does not keep
 *   nodes warm all night.
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
  /** How long the size of a burst keeps counting. */
  burstMemoryMs: number;
}

export const DEFAULT_DEMAND_OPTIONS: DemandOptions = {
  shortTauMs: 5 * 60_000,
  longTauMs: 60 * 60_000,
  burstGapMs: 10_000,
  burstSpanMs: 60_000,
  burstMemoryMs: 45 * 60_000,
};

const Burst = z.object({ start: z.number(), last: z.number(), size: z.number().int().min(1) });
type Burst = z.infer<typeof Burst>;

export const DemandState = z.object({
  v: z.literal(1),
  /** Time the decayed counts refer to (the latest arrival). */
  at: z.number(),
  /** Σ exp(-(at − tᵢ)/τ) over arrivals: the rate is count / τ. */
  short: z.number().min(0),
  long: z.number().min(0),
  lastArrivalAt: z.number().optional(),
  /** The burst still accepting arrivals. */
  open: Burst.optional(),
  /**
   * Closed bursts that can still be the recent peak, oldest first. A burst is dropped once a
   * later one is at least as large (it would expire first and never be the maximum), so this
   * stays sorted by size descending and short: a sliding-window maximum.
   */
  peaks: z.array(Burst).max(64),
});
export type DemandState = z.infer<typeof DemandState>;

export interface DemandSnapshot {
  /** Arrivals per minute, fast and slow estimates. */
  ratePerMinShort: number;
  ratePerMinLong: number;
  /** Largest number of jobs that arrived together within burst memory (0 when none). */
  peakBurst: number;
  lastArrivalAt?: number;
}

export function emptyDemand(at = 0): DemandState {
  return { v: 1, at, short: 0, long: 0, peaks: [] };
}

/**
 * Adds `count` arrivals at `at` (e.g. a matrix of 8 jobs seen in one pass). Feed arrivals in
 * time order; a late one still counts towards the rates but not towards bursts.
 */
export function recordArrivals(state: DemandState, at: number, count = 1, options = DEFAULT_DEMAND_OPTIONS): DemandState {
  if (count <= 0) return state;
  const next: DemandState = { ...state, peaks: state.peaks.slice() };
  if (at >= state.at) {
    next.short = decay(state.short, at - state.at, options.shortTauMs) + count;
    next.long = decay(state.long, at - state.at, options.longTauMs) + count;
    next.at = at;
  } else {
    next.short = state.short + decay(count, state.at - at, options.shortTauMs);
    next.long = state.long + decay(count, state.at - at, options.longTauMs);
  }
  next.lastArrivalAt = Math.max(state.lastArrivalAt ?? at, at);
  return addToBursts(next, at, count, options);
}

function addToBursts(state: DemandState, at: number, count: number, options: DemandOptions): DemandState {
  const open = state.open;
  if (open && at >= open.last - options.burstGapMs && at - open.last <= options.burstGapMs && at - open.start <= options.burstSpanMs) {
    state.open = { start: Math.min(open.start, at), last: Math.max(open.last, at), size: open.size + count };
    return state;
  }
  if (open && at < open.start) return state; // late arrival from before the open burst
  if (open) pushPeak(state.peaks, open);
  state.open = { start: at, last: at, size: count };
  prunePeaks(state.peaks, at, options);
  return state;
}

function pushPeak(peaks: Burst[], burst: Burst): void {
  while (peaks.length > 0 && peaks[peaks.length - 1]!.size <= burst.size) peaks.pop();
  peaks.push(burst);
  if (peaks.length > 64) peaks.shift();
}

function prunePeaks(peaks: Burst[], now: number, options: DemandOptions): void {
  while (peaks.length > 0 && now - peaks[0]!.last > options.burstMemoryMs) peaks.shift();
}

function decay(value: number, elapsedMs: number, tauMs: number): number {
  return elapsedMs <= 0 ? value : value * Math.exp(-elapsedMs / tauMs);
}

/** Rates decayed to `now` and the peak burst within memory. */
export function demandSnapshot(state: DemandState, now: number, options = DEFAULT_DEMAND_OPTIONS): DemandSnapshot {
  const elapsed = Math.max(0, now - state.at);
  const remembered = (b: Burst) => now - b.last <= options.burstMemoryMs;
  const bursts = [...state.peaks, ...(state.open ? [state.open] : [])].filter(remembered);
  const snapshot: DemandSnapshot = {
    ratePerMinShort: (decay(state.short, elapsed, options.shortTauMs) / options.shortTauMs) * 60_000,
    ratePerMinLong: (decay(state.long, elapsed, options.longTauMs) / options.longTauMs) * 60_000,
    peakBurst: bursts.reduce((max, b) => Math.max(max, b.size), 0),
  };
  if (state.lastArrivalAt !== undefined) snapshot.lastArrivalAt = state.lastArrivalAt;
  return snapshot;
}

/** State as stored in Valkey. */
export function serializeDemand(state: DemandState): string {
  return JSON.stringify(state);
}

/** State read back from Valkey; anything unreadable (older format, corruption) starts empty rather than failing the pass. */
export function parseDemand(text: string | null | undefined, now: number): DemandState {
  if (!text) return emptyDemand(now);
  try {
    const parsed = DemandState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : emptyDemand(now);
  } catch {
    return emptyDemand(now);
  }
}
