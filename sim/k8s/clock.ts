import { setImmediate as yieldMacrotask, setTimeout as realDelay } from 'node:timers/promises';
import type { Clock } from '../../runtime/util/clock.ts';

/** A scheduled callback on a SimClock; cancel() is idempotent. */
export interface SimTimer {
  cancel(): void;
}

/**
 * The sim's time source. Every controller in the sim reads time and schedules work only
 * through this, so the same code runs in real time (end-to-end tests, `npm run sim`) and on
 * a virtual clock (benchmarks, deterministic tests).
 */
export interface SimClock extends Clock {
  readonly mode: 'real' | 'virtual';
  /** Runs `fn` once `ms` of this clock's time have passed (0: as soon as possible, after the current task). */
  setTimer(ms: number, fn: () => void): SimTimer;
  /**
   * Marks outside work in progress (an HTTP request being served). An auto-advancing virtual
   * clock never jumps while something is held; the returned function releases the hold.
   */
  hold(): () => void;
  /**
   * Called when a timer callback throws. startSimCluster points it at its logger so one
   * controller bug does not take the whole process down; unset, the error is rethrown.
   */
  onTimerError?: (err: unknown) => void;
}

function runGuarded(clock: SimClock, fn: () => void): void {
  if (!clock.onTimerError) return fn();
  try {
    fn();
  } catch (e) {
    clock.onTimerError(e);
  }
}

export class RealClock implements SimClock {
  readonly mode = 'real' as const;
  onTimerError?: (err: unknown) => void;

  now(): number {
    return Date.now();
  }

  setTimer(ms: number, fn: () => void): SimTimer {
    const t = setTimeout(() => runGuarded(this, fn), Math.max(0, ms));
    // The sim's HTTP server keeps a process alive; its pending timers should not.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  hold(): () => void {
    return () => {};
  }
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface AutoAdvanceOptions {
  /** Real milliseconds with no activity (no timer run, no new timer, nothing held) before jumping ahead. */
  idleMs?: number;
}

/**
 * Virtual time. Time moves only through advance()/advanceTo()/runNext() or, once
 * startAutoAdvance() was called, by jumping to the next timer whenever the system is idle.
 * Timers due "now" run on their own (right after the current task), so a request that
 * creates a Job sees its pods created without anyone stepping the clock.
 */
export class VirtualClock implements SimClock {
  readonly mode = 'virtual' as const;
  onTimerError?: (err: unknown) => void;
  private current: number;
  private readonly heap: Entry[] = [];
  private seq = 0;
  private drainScheduled = false;
  private holds = 0;
  private activity = 0;
  private auto: { stop: boolean } | undefined;

  constructor(startAt: number = Date.UTC(2026, 10, 23, 9, 0, 0)) {
    this.current = startAt;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): SimTimer {
    const entry: Entry = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    heapPush(this.heap, entry);
    this.activity++;
    if (entry.at <= this.current) this.scheduleDrain();
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  hold(): () => void {
    this.holds++;
    this.activity++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.activity++;
    };
  }

  /** Number of live timers (cancelled ones excluded). */
  pendingTimers(): number {
    return this.heap.filter((e) => !e.cancelled).length;
  }

  /** When the next live timer is due, or undefined when none is. */
  nextTimerAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /**
   * Moves time forward by `ms`, running every timer due on the way in time order. Between
   * timers it yields to the event loop so that promise continuations (a `sleep` that just
   * resolved) can schedule their next timers before time moves past them.
   */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await yieldMacrotask();
    for (;;) {
      this.dropCancelled();
      const next = this.heap[0];
      if (!next || next.at > target) break;
      this.current = Math.max(this.current, next.at);
      this.runDue();
      await yieldMacrotask();
    }
    this.current = Math.max(this.current, target);
    this.runDue();
    await yieldMacrotask();
  }

  /** Jumps to the next timer and runs everything due then; false when no timer is pending. */
  async runNext(): Promise<boolean> {
    const at = this.nextTimerAt();
    if (at === undefined) return false;
    await this.advanceTo(at);
    return true;
  }

  /**
   * Benchmark mode: whenever nothing happened for `idleMs` real milliseconds and no HTTP
   * request is in flight, jump to the next timer. Returns a function that stops it.
   */
  startAutoAdvance(options: AutoAdvanceOptions = {}): () => void {
    this.auto && (this.auto.stop = true);
    const state = { stop: false };
    this.auto = state;
    const idleMs = options.idleMs ?? 1;
    void (async () => {
      let seen = -1;
      while (!state.stop) {
        await realDelay(idleMs);
        if (state.stop) break;
        const idle = this.holds === 0 && seen === this.activity && !this.drainScheduled;
        seen = this.activity;
        if (!idle) continue;
        const at = this.nextTimerAt();
        if (at === undefined) continue;
        this.current = Math.max(this.current, at);
        this.runDue();
      }
    })();
    return () => {
      state.stop = true;
    };
  }

  stopAutoAdvance(): void {
    if (this.auto) this.auto.stop = true;
    this.auto = undefined;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.runDue();
    });
  }

  /** Runs every timer due at or before now, including ones they schedule for now. */
  private runDue(): void {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.at > this.current) return;
      heapPop(this.heap);
      if (next.cancelled) continue;
      this.activity++;
      runGuarded(this, next.fn);
    }
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) heapPop(this.heap);
  }
}

function sleepOn(clock: SimClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      timer.cancel();
      reject(abortReason(signal!));
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function heapPush(heap: Entry[], e: Entry): void {
  heap.push(e);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heap[i]!, heap[p]!)) break;
    [heap[i], heap[p]] = [heap[p]!, heap[i]!];
    i = p;
  }
}

function heapPop(heap: Entry[]): Entry | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0 && last) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
  return top;
}
