import type { LifecycleStore } from '../lifecycle/store.ts';
import type { SweepMetrics } from './metrics.ts';

/** Every sweep is rate-capped twice, so a bug in a planner can never flood the cluster or the GitHub API. */
export interface SweepCaps {
  /** Actions in one pass. */
  maxActionsPerPass: number;
  /** Actions in one window, across passes and leaders (counted in Valkey). */
  maxActionsPerWindow: number;
  windowMs: number;
}

/** The budget of one pass: take() before every action; false means stop for now. */
export class PassBudget {
  private used = 0;
  private refused = false;

  constructor(
    private readonly sweep: string, private readonly caps: SweepCaps, private readonly store: LifecycleStore,
    private readonly now: number, private readonly metrics: SweepMetrics,
  ) {}

  async take(): Promise<boolean> {
    if (!this.refused && this.used < this.caps.maxActionsPerPass
      && (await this.store.takeBudget(this.sweep, this.caps.maxActionsPerWindow, this.caps.windowMs, this.now))) {
      this.used++;
      return true;
    }
    if (!this.refused) this.metrics.capped.inc({ sweep: this.sweep });
    this.refused = true;
    return false;
  }

  get exhausted(): boolean {
    return this.refused;
  }
}
