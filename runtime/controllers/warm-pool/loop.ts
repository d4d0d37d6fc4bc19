import type { Logger } from '../../log.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';

export interface Reconciler {
  reconcile(): Promise<unknown>;
  /** Drops in-memory state, so the next pass reloads it from the store (another leader may have moved on). */
  forget(): void;
}

export interface WarmPoolLoopOptions {
  clock: Clock;
  log: Logger;
  /** True while this replica holds the leader Lease; only the leader writes placeholders. */
  isLeader: () => boolean;
  /** Time between passes; `wake()` (e.g. on a config reload) runs one sooner. */
  intervalMs?: number;
}

export interface WarmPoolLoop {
  wake(): void;
  /** Stops after the pass in progress, if any; safe to call more than once. */
  stop(): Promise<void>;
}

/** Runs `reconciler` every interval while leader. A failed pass is logged and the next one tries again. */
export function startWarmPoolLoop(reconciler: Reconciler, options: WarmPoolLoopOptions): WarmPoolLoop {
  const stopped = new AbortController();
  let nap: AbortController | undefined;
  let woken = false;
  const interval = options.intervalMs ?? 15_000;

  async function run(): Promise<void> {
    let leading = false;
    while (!stopped.signal.aborted) {
      const leader = options.isLeader();
      if (leading && !leader) reconciler.forget();
      leading = leader;
      if (leader) {
        try {
          await reconciler.reconcile();
        } catch (err) {
          options.log.warn({ err }, 'warm-pool pass failed; retrying next interval');
        }
      }
      if (woken) {
        woken = false;
        continue;
      }
      nap = new AbortController();
      try {
        await options.clock.sleep(interval, AbortSignal.any([stopped.signal, nap.signal]));
      } catch (err) {
        if (!isAbortError(err)) throw err;
      }
      woken = false;
    }
  }

  const done = run();
  let stopping: Promise<void> | undefined;
  return {
    wake() {
      woken = true;
      nap?.abort();
    },
    stop: () => (stopping ??= (stopped.abort(), done)),
  };
}
