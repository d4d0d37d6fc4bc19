import type { Logger } from '../../../runtime/log.ts';
import type { SimClock, SimTimer } from '../clock.ts';

/**
 * A controller work queue on the sim clock: keys added during one task are reconciled
 * together in the next tick (deduplicated, in insertion order), and addAfter() requeues a key
 * at a clock time, so every controller is deterministic under the virtual clock.
 */
export class WorkQueue {
  private pending = new Set<string>();
  private scheduled = false;
  private readonly delayed = new Map<string, { at: number; timer: SimTimer }>();
  private stopped = false;

  constructor(
    private readonly clock: SimClock,
    private readonly name: string,
    private readonly reconcile: (key: string) => void,
    private readonly log: Logger,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.setTimer(0, () => this.drain());
    }
  }

  /** Reconciles `key` once `ms` have passed; an earlier pending requeue of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    this.pending.clear();
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const keys = this.pending;
    this.pending = new Set();
    for (const key of keys) {
      try {
        this.reconcile(key);
      } catch (e) {
        this.log.warn({ err: e, controller: this.name, key }, 'sim controller: reconcile failed; retrying in 1 s');
        this.addAfter(key, 1000);
      }
    }
  }
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}
