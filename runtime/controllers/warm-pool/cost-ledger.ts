/**
 * Idle placeholder CPU-seconds spent above the floor, per hour, over the last 24 hours:
 * what the pool's `idleCpuHoursPerDayCap` is checked against. A rolling day rather than
 * a calendar one, so the cap means the same in every time zone and a burst of spending
 * just before midnight is not forgiven at midnight. Plain JSON (kept with the pool state).
 */

/** `[hour index since the epoch, CPU-seconds]`, oldest first, at most 25 entries. */
export type CostLedger = Array<[number, number]>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Adds `cpus` held from `from` to `to`, split at hour boundaries; drops hours older than a day. */
export function accrue(ledger: CostLedger, from: number, to: number, cpus: number): CostLedger {
  const out = ledger.map(([h, s]) => [h, s] as [number, number]);
  const start = Math.max(from, to - DAY);
  if (cpus > 0 && to > start) {
    for (let t = start; t < to; ) {
      const hour = Math.floor(t / HOUR);
      const end = Math.min(to, (hour + 1) * HOUR);
      add(out, hour, (cpus * (end - t)) / 1000);
      t = end;
    }
  }
  return prune(out, to);
}

/** CPU-seconds spent in the 24 hours up to `now` (hour resolution: the oldest hour counts whole). */
export function spentLastDay(ledger: CostLedger, now: number): number {
  return prune(ledger, now).reduce((sum, [, s]) => sum + s, 0);
}

function add(ledger: CostLedger, hour: number, seconds: number): void {
  const last = ledger[ledger.length - 1];
  if (last && last[0] === hour) last[1] += seconds;
  else if (!last || last[0] < hour) ledger.push([hour, seconds]);
  else {
    const entry = ledger.find(([h]) => h === hour);
    if (entry) entry[1] += seconds;
    else ledger.push([hour, seconds]), ledger.sort((a, b) => a[0] - b[0]);
  }
}

function prune(ledger: CostLedger, now: number): CostLedger {
  const oldest = Math.floor((now - DAY) / HOUR);
  return ledger.filter(([h]) => h >= oldest);
}
