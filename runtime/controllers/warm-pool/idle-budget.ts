/**
 * Pacing of a pool's idle budget (`idleCpuHoursPerDayCap`). The rolling-day ledger
 * (cost-ledger.ts) is the hard cap, but spent first come, first served it lets a busy
 * morning use the whole day's budget and leaves the evening nothing for a day. So the
 * budget also refills steadily, cap ÷ 24 every hour, like a token bucket:
 *
 * - up to `saveHours` of refill can be saved, so a quiet night pays for a busy morning
 *   (but not for more than a part of the day);
 * - a placeholder is added above the floor only if what is held, plus it, can be paid for
 *   `spendHours` by the refill and the savings — so one busy hour cannot empty them;
 * - one added is kept while the savings last (down to one scale-down delay's worth of
 *   debt), so the count does not flap at the threshold, creating placeholders that are
 *   deleted before their node is up; then the pool falls back to what the refill sustains.
 *
 * Plain JSON, kept with the pool's decision state.
 */

export interface BudgetPacing {
  /** Most refill that can be saved for later, in hours of refill. */
  saveHours: number;
  /** A placeholder is added only if the savings can pay for it this long. */
  spendHours: number;
}

export const DEFAULT_BUDGET_PACING: BudgetPacing = { saveHours: 8, spendHours: 4 };

export interface IdleBudget {
  /** Saved idle budget in CPU-seconds (negative: spent ahead of the refill, paid back first). */
  saved: number;
  at: number;
}

export interface Held {
  /** Placeholders above the floor held since the last decision. */
  above: number;
  /** CPUs of one placeholder. */
  cpu: number;
  /** Seconds a placeholder is kept at least (the pool's scale-down delay). */
  holdSeconds: number;
}

const DAY_SECONDS = 86_400;

/**
 * The savings at `now`, after `heldCpus` above the floor since the last update. A new pool
 * starts with none: it spends at the pace until quiet hours have saved some, so savings and
 * refill together cannot overrun the rolling-day cap on its first day.
 */
export function refillBudget(prev: IdleBudget | undefined, capCpuHours: number, heldCpus: number, now: number, pacing = DEFAULT_BUDGET_PACING): IdleBudget {
  if (!prev) return { saved: 0, at: now };
  const most = capacity(capCpuHours, pacing);
  const seconds = Math.max(0, now - prev.at) / 1000;
  const saved = prev.saved + ((capCpuHours * 3600) / DAY_SECONDS - heldCpus) * seconds;
  return { saved: Math.max(-most, Math.min(most, saved)), at: Math.max(prev.at, now) };
}

/** Placeholders the pace allows above the floor right now. */
export function pacedCeiling(budget: IdleBudget, capCpuHours: number, held: Held, pacing = DEFAULT_BUDGET_PACING): number {
  const refillCpus = capCpuHours / 24;
  // A budget too small to pay one placeholder for `spendHours` spends its savings over less.
  const spendSeconds = Math.max(60, Math.min(pacing.spendHours * 3600, capacity(capCpuHours, pacing) / held.cpu));
  const affordable = Math.max(0, Math.floor((refillCpus + Math.max(0, budget.saved) / spendSeconds) / held.cpu));
  const keep = budget.saved > -held.cpu * held.holdSeconds ? held.above : 0;
  return Math.max(affordable, keep);
}

/** Most CPU-seconds that can be saved. */
export function capacity(capCpuHours: number, pacing = DEFAULT_BUDGET_PACING): number {
  return capCpuHours * 3600 * (Math.max(0, pacing.saveHours) / 24);
}
