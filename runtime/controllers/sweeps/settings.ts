import type { SweepCaps } from './budget.ts';
import type { OrphanPolicy } from './plan-orphans.ts';
import type { RedeliveryPolicy } from './plan-redeliveries.ts';
import type { StaleQueuedPolicy } from './plan-stale-queued.ts';

export interface StaleQueuedSettings extends Omit<StaleQueuedPolicy, 'maxReprovisions'>, SweepCaps {
  everyMs: number;
  /** Repositories whose queued jobs are listed per pass (each costs a few GitHub calls); rotated. */
  maxReposPerPass: number;
  /** Repositories without runs-fleet activity for this long are no longer checked. */
  repoMemoryMs: number;
}

export interface OrphanSettings extends OrphanPolicy, SweepCaps {
  everyMs: number;
  /** Runner scopes (orgs, repositories) whose registered runners are listed per pass; rotated. */
  maxScopesPerPass: number;
}

export interface RedeliverySettings extends RedeliveryPolicy, SweepCaps {
  everyMs: number;
  /** How far back the first pass looks; later passes continue from where the last one stopped. */
  lookbackMs: number;
  /** Re-read this much before the last pass's end (a delivery in flight then is recorded later). */
  overlapMs: number;
}

export interface SweepSettings {
  staleQueued: StaleQueuedSettings;
  orphans: OrphanSettings;
  redeliveries: RedeliverySettings;
}

const HOUR = 3_600_000;
const MIN = 60_000;

export const DEFAULT_SWEEPS: SweepSettings = {
  staleQueued: {
    everyMs: 2 * MIN, queuedTooLongMs: 5 * MIN, stuckInQueueMs: 15 * MIN, maxReposPerPass: 10, repoMemoryMs: 24 * HOUR,
    maxActionsPerPass: 10, maxActionsPerWindow: 100, windowMs: HOUR,
  },
  orphans: {
    everyMs: 5 * MIN, secretGraceMs: 5 * MIN, finishedGraceMs: 20 * MIN, orphanConfirmMs: 10 * MIN, idleRunnerMs: 15 * MIN,
    maxScopesPerPass: 10, maxActionsPerPass: 20, maxActionsPerWindow: 200, windowMs: HOUR,
  },
  redeliveries: {
    everyMs: 5 * MIN, lookbackMs: HOUR, overlapMs: 10 * MIN, maxPerGuid: 2, events: ['workflow_job'],
    maxActionsPerPass: 20, maxActionsPerWindow: 200, windowMs: HOUR,
  },
};

export type SweepOverrides = { [K in keyof SweepSettings]?: Partial<SweepSettings[K]> };

export function sweepSettings(overrides: SweepOverrides = {}): SweepSettings {
  return {
    staleQueued: { ...DEFAULT_SWEEPS.staleQueued, ...overrides.staleQueued },
    orphans: { ...DEFAULT_SWEEPS.orphans, ...overrides.orphans },
    redeliveries: { ...DEFAULT_SWEEPS.redeliveries, ...overrides.redeliveries },
  };
}
