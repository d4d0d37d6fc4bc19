import type { Logger } from '../../log.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';
import type { SweepMetrics } from '../sweeps/metrics.ts';

export interface PeriodicTask {
  name: string;
  everyMs: number;
  run(signal: AbortSignal): Promise<unknown>;
}

export interface LeaderLoopDeps {
  clock: Clock;
  log: Logger;
  metrics?: SweepMetrics;
  /** The current leadership term's signal; undefined while following. */
  term: () => AbortSignal | undefined;
}

/**
 * Runs periodic tasks (recovery, sweeps) while this replica leads, one at a time. A new
 * term runs every task at once (level-triggered: the previous leader may have stopped
 * mid-pass); losing leadership aborts the task in progress through the term's signal.
 */
export class LeaderLoop {
  private readonly stopped = new AbortController();
  private readonly nextAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private nap: AbortController | undefined;
  private lastTerm: AbortSignal | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly tasks: readonly PeriodicTask[], private readonly d: LeaderLoopDeps) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Leadership changed (or a test wants a pass): look again now. */
  wake(): void {
    this.nap?.abort();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }

  /** Runs one task now if leading (tests, and an operator's "sweep now"). */
  async runNow(name: string): Promise<void> {
    const task = this.tasks.find((t) => t.name === name);
    const term = this.d.term();
    if (!task) throw new Error(`no periodic task "${name}" (known: ${this.tasks.map((t) => t.name).join(', ')})`);
    if (term) await this.runTask(task, term);
  }

  private async run(): Promise<void> {
    const { clock } = this.d;
    while (!this.stopped.signal.aborted) {
      const term = this.d.term();
      if (term && !term.aborted) {
        if (term !== this.lastTerm) {
          this.lastTerm = term;
          this.nextAt.clear();
        }
        for (const task of this.tasks) {
          if (term.aborted || this.stopped.signal.aborted) break;
          if ((this.nextAt.get(task.name) ?? 0) > clock.now()) continue;
          await this.runTask(task, term);
          this.nextAt.set(task.name, clock.now() + task.everyMs);
        }
      }
      const due = term ? Math.min(...this.tasks.map((t) => this.nextAt.get(t.name) ?? 0)) - clock.now() : 60_000;
      await this.sleep(Math.max(50, due));
    }
  }

  /** One pass of a task at a time: a runNow() during the loop's own pass waits for it, then runs. */
  private runTask(task: PeriodicTask, term: AbortSignal): Promise<void> {
    const previous = this.running.get(task.name) ?? Promise.resolve();
    const next = previous.then(() => this.pass(task, term));
    this.running.set(task.name, next);
    return next;
  }

  private async pass(task: PeriodicTask, term: AbortSignal): Promise<void> {
    if (term.aborted) return;
    const signal = AbortSignal.any([term, this.stopped.signal]);
    const end = this.d.metrics?.duration.startTimer({ sweep: task.name });
    try {
      await task.run(signal);
      this.d.metrics?.passes.inc({ sweep: task.name, result: 'ok' });
    } catch (err) {
      if (signal.aborted && isAbortError(err)) return;
      this.d.metrics?.passes.inc({ sweep: task.name, result: 'error' });
      this.d.log.warn({ task: task.name, err: { message: (err as Error).message } }, 'leader task failed; the next pass tries again');
    } finally {
      end?.();
    }
  }

  private async sleep(ms: number): Promise<void> {
    this.nap = new AbortController();
    try {
      await this.d.clock.sleep(ms, AbortSignal.any([this.nap.signal, this.stopped.signal]));
    } catch (err) {
      if (!isAbortError(err)) throw err;
    }
  }
}
