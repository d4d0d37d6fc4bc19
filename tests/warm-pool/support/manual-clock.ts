import type { Clock } from '../../../runtime/util/clock.ts';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/** A Clock that only moves when the test says so; sleeps resolve as `advance` passes their deadline. */
export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];
  constructor(private time = Date.UTC(2025, 0, 6, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      const sleeper: Sleeper = { at: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(new DOMException('aborted', 'AbortError'));
        },
        { once: true },
      );
    });
  }

  /** How many sleeps are waiting (lets a test wait until a loop is parked). */
  get waiting(): number {
    return this.sleepers.length;
  }

  /** Moves time forward, waking due sleepers in deadline order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.time = Math.max(this.time, due.at);
      due.resolve();
      await settle();
    }
    this.time = end;
  }
}

/** Lets pending promise continuations (and fs callbacks) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Waits until `predicate` holds (checking every few ms; gives up after ~10 s, which only a bug reaches). */
export async function until(predicate: () => boolean, what: string, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
