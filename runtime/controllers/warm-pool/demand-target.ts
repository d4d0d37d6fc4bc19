import type { DemandSnapshot } from './demand.ts';

/**
 * How many warm slots demand calls for. A runner that takes a warm slot evicts a
 * placeholder, whose replacement needs a new node: for `refillSeconds` that slot is gone.
 * So the slots needed are the arrivals expected within one refill period — enough that
 * the chance of one more arriving is below `missProbability` — or a matrix burst's size
 * if that is larger, since a burst needs all its slots at once: the size of recurring
 * bursts (the next one is expected), or of a burst seen minutes ago (a re-run, the rest
 * of its fan-out).
 */

export interface DemandTargetOptions {
  /** Time from a placeholder being preempted to its replacement running on a new node. */
  refillSeconds: number;
  /** Accepted chance that arrivals within one refill period outnumber the warm slots. */
  missProbability: number;
  /** Bursts smaller than this are left to the rate (a lone job is not a matrix). */
  minBurst: number;
}

export const DEFAULT_DEMAND_TARGET_OPTIONS: DemandTargetOptions = { refillSeconds: 90, missProbability: 0.1, minBurst: 2 };

export interface DemandTarget {
  slots: number;
  /** What set `slots`: nothing, the arrival rate, bursts that recur, or a burst just seen. */
  basis: 'none' | 'rate' | 'recurring_burst' | 'recent_burst';
  /** Arrivals expected within one refill period. */
  expected: number;
}

export function demandTarget(demand: DemandSnapshot, options = DEFAULT_DEMAND_TARGET_OPTIONS): DemandTarget {
  // The fast rate brings placeholders up within minutes of a rush; the slow one keeps them through a lull.
  const ratePerMin = Math.max(demand.ratePerMinShort, demand.ratePerMinLong);
  const expected = (ratePerMin * options.refillSeconds) / 60;
  const byRate = poissonQuantile(expected, options.missProbability);
  const burst = (size: number) => (size >= options.minBurst ? size : 0);
  const [recurring, recent] = [burst(demand.recurringBurst), burst(demand.recentBurst)];
  if (Math.max(recurring, recent) > byRate)
    return recurring >= recent ? { slots: recurring, basis: 'recurring_burst', expected } : { slots: recent, basis: 'recent_burst', expected };
  return { slots: byRate, basis: byRate > 0 ? 'rate' : 'none', expected };
}

/** The smallest k with P(N > k) ≤ tail for N ~ Poisson(mean). */
export function poissonQuantile(mean: number, tail: number): number {
  if (!(mean > 0)) return 0;
  // e^-mean underflows past ~700; so many arrivals per refill period are far beyond any pool's max.
  if (mean > 600) return Math.ceil(mean + 4 * Math.sqrt(mean));
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  // Rounding can keep the cdf a hair under 1 for a tail of 0; far past the mean is enough.
  const bound = Math.ceil(mean + 10 * Math.sqrt(mean) + 10);
  while (1 - cdf > tail && k < bound) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}
