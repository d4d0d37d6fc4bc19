import type { Pool, RunnerClass } from '../../config/document.ts';
import { accrue, spentLastDay, type CostLedger } from './cost-ledger.ts';
import type { DemandSnapshot } from './demand.ts';
import type { Anticipation } from './fan-out.ts';
import { DEFAULT_DEMAND_TARGET_OPTIONS, demandTarget, type DemandTarget, type DemandTargetOptions } from './demand-target.ts';
import { DEFAULT_BUDGET_PACING, pacedCeiling, refillBudget, type BudgetPacing, type IdleBudget } from './idle-budget.ts';
import { poolFloor } from './schedule.ts';

/**
 * How many placeholders one pool should run. Pure: the reconciler observes, this decides.
 *
 * 1. The floor is the applying schedule window's `min`, else the pool's `min`.
 * 2. Demand (recent rate and matrix bursts) may want more, up to `max`.
 * 3. Above the floor, placeholders are spent from the idle budget (`idleCpuHoursPerDayCap`):
 *    never more than the cap in any 24 hours, and paced over the day (idle-budget.ts).
 * 4. While runners of the class wait for a node, placeholders yield: they must not race
 *    real jobs for new nodes (NodePool limits, EC2 capacity, launch rate), so none are
 *    added and those runners are subtracted from the target.
 * 5. Less demand lowers the count only after `scaleDownDelaySeconds`; a lower max, the
 *    budget and yielding apply at once.
 * 6. Waves a pipeline is expected to queue soon (fan-out.ts) add their slots on top, within
 *    `max` and what is left of the day's cap for as long as they may be held; they go as
 *    soon as the wave has come, without the scale-down delay.
 * The result never leaves [floor, max].
 */

export const REASONS = ['floor', 'schedule', 'demand', 'max', 'cost_cap', 'yield_pending', 'scale_down_delay', 'fan_out'] as const;
/** Why the count is what it is: a closed set, safe as a metric label. */
export type DesiredReason = (typeof REASONS)[number];

/** What one decision hands to the next (stored with the demand state, plain JSON). */
export interface PoolDecisionState {
  desired: number;
  /** Last time demand wanted at least `desired`: the scale-down delay runs from here. */
  lastAboveAt: number;
  /** When the decision was made, and the floor then: the idle spend since accrues from these. */
  at: number;
  floor: number;
  ledger: CostLedger;
  /** The paced idle budget's savings (pools with a cap). */
  budget?: IdleBudget;
  /** Of `desired`, the slots held for an expected fan-out wave (not subject to the scale-down delay). */
  ahead?: number;
}

export interface InFlight {
  /** Runners waiting for a node that this pool yields to (subtracted from its target). */
  pendingRunners: number;
  runningRunners: number;
  /** Runners of the class waiting for a node across all its pools; any of them stops this pool adding placeholders. */
  classPendingRunners?: number;
}

export interface DesiredOptions {
  /** Raise a schedule window's floor this long before it starts, so its nodes are ready on time. */
  prewarmMs: number;
  target: DemandTargetOptions;
  pacing: BudgetPacing;
}

export const DEFAULT_DESIRED_OPTIONS: DesiredOptions = { prewarmMs: 180_000, target: DEFAULT_DEMAND_TARGET_OPTIONS, pacing: DEFAULT_BUDGET_PACING };

export interface PoolDecision {
  pool: string;
  class: string;
  desired: number;
  reason: DesiredReason;
  /** One line for logs: the numbers behind the reason. */
  explain: string;
  floor: number;
  max: number;
  /** What demand alone asks for, within [floor, max]. */
  wanted: number;
  demand: DemandTarget;
  /** Placeholders given up for pending runners. */
  yielded: number;
  /** Placeholders added for expected fan-out waves. */
  ahead: number;
  state: PoolDecisionState;
}

export function desiredPlaceholders(
  pool: Pool,
  cls: RunnerClass,
  demand: DemandSnapshot,
  inFlight: InFlight,
  previous: PoolDecisionState | undefined,
  now: number,
  options: DesiredOptions = DEFAULT_DESIRED_OPTIONS,
): PoolDecision {
  const base = poolFloor(pool, now, options.prewarmMs);
  const max = pool.max;
  const floor = Math.min(base.floor, max);
  const target = demandTarget(demand, options.target);
  const wanted = clamp(target.slots, floor, max);
  let reason: DesiredReason = target.slots > max ? 'max' : target.slots > floor ? 'demand' : base.source === 'schedule' ? 'schedule' : 'floor';

  let desired = wanted;
  const delayMs = pool.scaleDownDelaySeconds * 1000;
  const previousBase = previous ? previous.desired - (previous.ahead ?? 0) : 0;
  if (previous && wanted < previousBase && now - previous.lastAboveAt < delayMs) {
    desired = Math.min(previousBase, max);
    reason = 'scale_down_delay';
  }

  const heldCpus = previous ? Math.max(0, previous.desired - previous.floor) * cls.cpu : 0;
  const ledger = previous ? accrue(previous.ledger, previous.at, now, heldCpus) : [];
  const cap = pool.idleCpuHoursPerDayCap;
  const budget = cap === undefined ? undefined : refillBudget(previous?.budget, cap, heldCpus, now, options.pacing);
  const ceiling = budgetCeiling(pool, cls, floor, previous && { ...previous, desired: previousBase }, ledger, budget, now, options.pacing);
  if (ceiling !== undefined && desired > ceiling) [desired, reason] = [ceiling, 'cost_cap'];

  const baseDesired = clamp(desired, floor, max);
  const ahead = aheadSlots(pool, cls, baseDesired, floor, ledger, demand.fanOut, now);
  if (ahead > 0) [desired, reason] = [baseDesired + ahead, 'fan_out'];

  const beforeYield = desired;
  const yieldTo = yieldCeiling(floor, wanted, inFlight, previous);
  if (yieldTo !== undefined && desired > yieldTo) [desired, reason] = [yieldTo, 'yield_pending'];

  desired = clamp(desired, floor, max);
  const state: PoolDecisionState = {
    desired,
    lastAboveAt: wanted >= baseDesired || !previous ? now : previous.lastAboveAt,
    at: now,
    floor,
    ledger,
  };
  if (budget) state.budget = budget;
  const held = Math.max(0, desired - baseDesired);
  if (held > 0) state.ahead = held;
  const decision = { pool: pool.name, class: cls.name, desired, reason, floor, max, wanted, demand: target, yielded: beforeYield - desired, ahead: held, state };
  return { ...decision, explain: explain(decision, base.schedule, demand, inFlight, pool, ledger, now) };
}

/**
 * The most placeholders the idle budget allows: what is left of the cap in the last 24 hours
 * (each one added above the floor is held for at least the scale-down delay), and no more
 * than the pace allows.
 */
function budgetCeiling(
  pool: Pool,
  cls: RunnerClass,
  floor: number,
  previous: PoolDecisionState | undefined,
  ledger: CostLedger,
  budget: IdleBudget | undefined,
  now: number,
  pacing: BudgetPacing,
): number | undefined {
  const cap = pool.idleCpuHoursPerDayCap;
  if (cap === undefined) return undefined;
  const left = cap * 3600 - spentLastDay(ledger, now);
  const holdSeconds = Math.max(pool.scaleDownDelaySeconds, 60);
  const byCap = Math.max(0, Math.floor(left / (cls.cpu * holdSeconds)));
  const held = { above: previous ? Math.max(0, previous.desired - previous.floor) : 0, cpu: cls.cpu, holdSeconds };
  const byPace = budget ? pacedCeiling(budget, cap, held, pacing) : byCap;
  return floor + Math.min(byCap, byPace);
}

/**
 * Slots for expected fan-out waves: within `max`, and, under a cap, only as many as what is
 * left of the day's cap can pay for as long as they may be held, after what the pool already
 * holds above its floor for one scale-down delay.
 */
function aheadSlots(pool: Pool, cls: RunnerClass, base: number, floor: number, ledger: CostLedger, fanOut: Anticipation | undefined, now: number): number {
  if (!fanOut || fanOut.slots <= 0) return 0;
  const room = Math.max(0, pool.max - base);
  const cap = pool.idleCpuHoursPerDayCap;
  if (cap === undefined) return Math.min(fanOut.slots, room);
  const committed = (base - floor) * cls.cpu * Math.max(pool.scaleDownDelaySeconds, 60);
  const left = cap * 3600 - spentLastDay(ledger, now) - committed;
  const byCap = Math.max(0, Math.floor(left / (cls.cpu * Math.max(60, fanOut.holdMs / 1000))));
  return Math.min(fanOut.slots, room, byCap);
}

function yieldCeiling(floor: number, wanted: number, inFlight: InFlight, previous: PoolDecisionState | undefined): number | undefined {
  const classPending = Math.max(inFlight.pendingRunners, inFlight.classPendingRunners ?? 0);
  if (classPending <= 0) return undefined;
  const noGrowth = previous?.desired ?? Number.POSITIVE_INFINITY;
  return Math.max(floor, Math.min(wanted - inFlight.pendingRunners, noGrowth));
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

function explain(
  d: Omit<PoolDecision, 'explain'>,
  schedule: string | undefined,
  demand: DemandSnapshot,
  inFlight: InFlight,
  pool: Pool,
  ledger: CostLedger,
  now: number,
): string {
  const floorFrom = schedule ? `schedule ${schedule}` : 'min';
  const parts = [
    `${d.reason}: ${d.desired} placeholders (floor ${d.floor} from ${floorFrom}, max ${d.max})`,
    `demand ${d.demand.slots} by ${d.demand.basis} (${demand.ratePerMinShort.toFixed(2)}/${demand.ratePerMinLong.toFixed(2)} jobs/min, ` +
      `recurring burst ${demand.recurringBurst}, recent burst ${demand.recentBurst})`,
    `runners pending ${inFlight.pendingRunners}, running ${inFlight.runningRunners}`,
  ];
  if (d.ahead > 0 && demand.fanOut) parts.push(`${d.ahead} ahead of fan-out waves expected (${demand.fanOut.slots} slots, up to ${Math.round(demand.fanOut.holdMs / 1000)} s)`);
  if (d.reason === 'scale_down_delay')
    parts.push(`holding until ${new Date(d.state.lastAboveAt + pool.scaleDownDelaySeconds * 1000).toISOString()}`);
  if (pool.idleCpuHoursPerDayCap !== undefined) {
    const saved = d.state.budget ? `, ${(d.state.budget.saved / 3600).toFixed(1)} CPU-h saved` : '';
    parts.push(`idle ${(spentLastDay(ledger, now) / 3600).toFixed(1)} of ${pool.idleCpuHoursPerDayCap} CPU-h in 24 h${saved}`);
  }
  return parts.join('; ');
}
