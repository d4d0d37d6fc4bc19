import type { Logger } from '../../log.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import type { HandOff, QueueEntry } from '../../queue/types.ts';
import { HEARTBEAT_EVERY_MS, HEARTBEAT_STALE_MS, LIVENESS_CHECK_EVERY_MS } from '../../queue/liveness.ts';
import { PermanentError } from '../../util/errors.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';
import type { ProvisionerMetrics } from './metrics.ts';

/** The idle time an entry given back is marked with: past every reclaim deadline. */
const GIVE_BACK_IDLE_MS = 24 * 3_600_000;

export interface ConsumerOptions {
  /** Entries provisioned at once by this replica. */
  concurrency: number;
  /** How long XREADGROUP waits for new entries. */
  blockMs?: number;
  /**
   * This replica's own entry pending this long, and not being worked on, failed transiently
   * and is retried; also the deadline for entries of a consumer that never sent a heartbeat
   * (a replica of an older release).
   */
  reclaimIdleMs?: number;
  /** How often own failed entries are retried, and acked entries trimmed. */
  reclaimEveryMs?: number;
  /** Heartbeat period (2 s) and the silence after which a consumer is gone (6 s); see queue/liveness.ts. */
  heartbeatEveryMs?: number;
  heartbeatStaleMs?: number;
  /** How often the consumers that are gone are looked for (1 s). */
  livenessEveryMs?: number;
}

export interface ConsumerDeps {
  queue: JobQueue;
  handle: (entry: QueueEntry, signal: AbortSignal) => Promise<unknown>;
  clock: Clock;
  log: Logger;
  metrics: ProvisionerMetrics;
}

/**
 * Reads the jobs stream with bounded concurrency and hands each entry to `handle`:
 * success → ack; PermanentError → dead-letter with its reason (never retried); any other
 * failure → left pending, so the reclaim loop (here or on another replica) retries it
 * until it succeeds or reaches the dead-letter limit. stop() is idempotent and returns
 * in-flight entries it could not finish to the group for another replica.
 */
export class Consumer {
  /** Aborts in-flight provisioning (after the grace period). */
  private readonly abort = new AbortController();
  /** Cuts the loops' sleeps short when shutdown begins. */
  private readonly wake = new AbortController();
  /** Ends the heartbeat: only once unfinished entries are handed back, so none is taken while still worked on. */
  private readonly silence = new AbortController();
  private heartbeatLoopDone: Promise<void> | undefined;
  private firstBeat: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<string, Promise<void>>();
  private loops: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;
  private draining = false;
  /** Set once the first heartbeat is written: before it, this consumer takes nothing. */
  private beating = false;
  /** Slots promised to enqueues in progress (hand-offs), counted like entries in flight. */
  private reserved = 0;
  /**
   * Entries read for this consumer while no slot was free — a blocking read asked for them
   * before a hand-off took its slot — started in order as slots free; pending here meanwhile.
   */
  private readonly ready: QueueEntry[] = [];
  /** Resolves when a reserved slot is given back or taken; one shared promise, made on demand. */
  private reservationEnded: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(private readonly deps: ConsumerDeps, private readonly options: ConsumerOptions) {}

  start(): void {
    if (this.loops.length) throw new Error('consumer already started');
    // The first beat is written before the first read: a consumer is known alive before it holds anything.
    this.firstBeat = this.beat().then(() => { this.beating = true; });
    this.heartbeatLoopDone = this.heartbeatLoop();
    this.loops = [this.readLoop(), this.reclaimLoop(), this.livenessLoop()];
  }

  stop(graceMs = 20_000): Promise<void> {
    return (this.stopping ??= this.shutdown(graceMs));
  }

  /**
   * A free slot for the ingress of this replica, or undefined (none free, not started, or
   * stopping): the job it stores is read for this consumer in the same Valkey step and
   * provisioned at once, without the round trip through the blocking read.
   */
  reserveSlot(): HandOff | undefined {
    if (!this.beating || this.draining || this.busy() >= this.options.concurrency) return undefined;
    this.reserved++;
    let open = true;
    const end = () => {
      if (!open) return false;
      open = false;
      this.reserved--;
      this.reservationEnded?.resolve();
      this.reservationEnded = undefined;
      return true;
    };
    return {
      // The entry takes the slot its reservation held.
      take: (entry) => {
        end();
        void this.accept(entry);
      },
      done: () => {
        if (end()) this.startReady();
      },
    };
  }

  /** Ids of the entries this consumer holds: in flight, or read and waiting for a slot. */
  private held(): Set<string> {
    return new Set([...this.inFlight.keys(), ...this.ready.map((e) => e.id)]);
  }

  /** Slots taken: entries in flight, reservations, and entries read that wait for a slot. */
  private busy(): number {
    return this.inFlight.size + this.reserved + this.ready.length;
  }

  private reservationEnds(): Promise<void> {
    if (!this.reservationEnded) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.reservationEnded = { promise, resolve };
    }
    return this.reservationEnded.promise;
  }

  private async readLoop(): Promise<void> {
    const { queue, log } = this.deps;
    await this.firstBeat;
    while (!this.draining) {
      await this.waitForSlot();
      if (this.draining) break;
      try {
        const free = this.options.concurrency - this.busy();
        const entries = await queue.read(free, this.options.blockMs ?? 2_000);
        for (const e of entries) await this.accept(e);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        log.warn({ err: { message: (err as Error).message } }, 'reading the jobs stream failed; retrying');
        await this.sleep(1_000);
      }
    }
  }

  private async reclaimLoop(): Promise<void> {
    const { queue, log, metrics } = this.deps;
    const every = this.options.reclaimEveryMs ?? 15_000;
    while (!this.draining) {
      await this.sleep(every);
      if (this.draining) break;
      try {
        this.take(await queue.reclaimOwn(this.options.reclaimIdleMs ?? 60_000, this.held()));
        await queue.trim();
        const depth = await queue.depth();
        metrics.queue.set({ state: 'lag' }, depth.lag);
        metrics.queue.set({ state: 'pending' }, depth.pending);
      } catch (err) {
        if (!this.abort.signal.aborted) log.warn({ err: { message: (err as Error).message } }, 'reclaiming pending entries failed');
      }
    }
  }

  /** Entries of consumers that are gone (no heartbeat for heartbeatStaleMs) are taken over here, within seconds. */
  private async livenessLoop(): Promise<void> {
    const { queue, log } = this.deps;
    const every = this.options.livenessEveryMs ?? LIVENESS_CHECK_EVERY_MS;
    while (!this.draining) {
      await this.sleep(every);
      if (this.draining) break;
      try {
        const taken = await queue.reclaimGone(this.options.heartbeatStaleMs ?? HEARTBEAT_STALE_MS, this.options.reclaimIdleMs ?? 60_000);
        for (const d of taken.decisions) if (d.action !== 'forget') log.warn({ consumer: d.consumer, pending: d.pending, rule: d.action }, 'taking over the entries of a consumer that is gone');
        this.take(taken);
      } catch (err) {
        if (!this.abort.signal.aborted) log.warn({ err: { message: (err as Error).message } }, 'looking for consumers that are gone failed');
      }
    }
  }

  private async heartbeatLoop(): Promise<void> {
    const every = this.options.heartbeatEveryMs ?? HEARTBEAT_EVERY_MS;
    while (!this.silence.signal.aborted) {
      try {
        await this.deps.clock.sleep(every, this.silence.signal);
      } catch {}
      if (this.silence.signal.aborted) break;
      await this.beat();
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.deps.queue.heartbeat();
    } catch (err) {
      // Provisioning goes on; if beats stay missing past the stale deadline another replica may
      // take these entries too, and the deterministic runner name keeps that to one runner.
      this.deps.log.warn({ err: { message: (err as Error).message } }, 'consumer heartbeat failed');
    }
  }

  /**
   * An entry read or handed over: started when a slot is free, else it waits in `ready` for
   * one; read just as shutdown began, it is given straight back instead.
   */
  private async accept(entry: QueueEntry): Promise<void> {
    if (this.draining) return this.giveBack(entry.id);
    if (this.held().has(entry.id)) return;
    this.ready.push(entry);
    this.startReady();
  }

  /** Starts waiting entries, oldest first, while slots are free (never while stopping). */
  private startReady(): void {
    while (this.ready.length && !this.draining && this.inFlight.size + this.reserved < this.options.concurrency) this.dispatch(this.ready.shift()!);
  }

  /** Leaves the entry pending but long idle, so another replica's next pass takes it at once. */
  private giveBack(id: string): Promise<void> {
    return this.deps.queue.release(id, GIVE_BACK_IDLE_MS).catch(() => {});
  }

  private take({ entries, deadLettered }: { entries: QueueEntry[]; deadLettered: QueueEntry[] }): void {
    const { log, metrics } = this.deps;
    for (const e of deadLettered) {
      metrics.deadLettered.inc({ reason: 'max_deliveries' });
      metrics.failed.inc({ reason: 'max_deliveries' });
      log.error({ jobId: e.job.jobId, runAttempt: e.job.runAttempt, deliveries: e.deliveries }, 'job dead-lettered after repeated failures');
    }
    const held = this.held();
    for (const e of entries) {
      if (held.has(e.id)) continue;
      held.add(e.id);
      this.dispatch(e);
    }
  }

  private dispatch(entry: QueueEntry): void {
    const { metrics } = this.deps;
    metrics.inFlight.inc();
    const run = this.process(entry).finally(() => {
      this.inFlight.delete(entry.id);
      metrics.inFlight.dec();
      this.startReady();
    });
    this.inFlight.set(entry.id, run);
  }

  private async process(entry: QueueEntry): Promise<void> {
    const { queue, log, metrics } = this.deps;
    const jobLog = log.child({ jobId: entry.job.jobId, runAttempt: entry.job.runAttempt, deliveryId: entry.job.deliveryId, repository: entry.job.repository });
    try {
      await this.deps.handle(entry, this.abort.signal);
      await queue.ack(entry.id);
    } catch (err) {
      if (err instanceof PermanentError) {
        metrics.failed.inc({ reason: err.reason });
        metrics.deadLettered.inc({ reason: err.reason });
        jobLog.error({ reason: err.reason, problem: err.message }, 'job cannot be provisioned; dead-lettered');
        await queue.deadLetter(entry, `${err.reason}: ${err.message}`, this.deps.clock.now()).catch((e) =>
          jobLog.error({ err: { message: (e as Error).message } }, 'dead-lettering failed; the entry stays pending'),
        );
        return;
      }
      if (isAbortError(err) && this.abort.signal.aborted) return;
      metrics.failed.inc({ reason: 'transient' });
      jobLog.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'provisioning failed; the entry stays pending and will be retried');
    }
  }

  private async waitForSlot(): Promise<void> {
    while (this.busy() >= this.options.concurrency && !this.draining)
      await Promise.race([...this.inFlight.values(), this.reservationEnds()]);
  }

  private async sleep(ms: number): Promise<void> {
    try {
      await this.deps.clock.sleep(ms, this.wake.signal);
    } catch {}
  }

  private async settleInFlight(graceMs: number): Promise<void> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), graceMs);
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), new Promise((r) => deadline.signal.addEventListener('abort', r))]);
    clearTimeout(timer);
  }

  private async shutdown(graceMs: number): Promise<void> {
    // 1. stop reading and reclaiming; 2. let in-flight work finish within the grace period;
    // 3. abort what is left; 4. hand its entries back to the group.
    this.draining = true;
    this.wake.abort();
    this.reservationEnded?.resolve();
    // Read but not started: handed back at once, for another replica to start.
    const waiting = this.ready.splice(0).map((e) => this.giveBack(e.id));
    await Promise.all([Promise.allSettled(this.loops), this.settleInFlight(graceMs)]);
    const unfinished = [...this.inFlight.keys()];
    this.abort.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    // Handed back so another replica reclaims them at once (an entry acked meanwhile is not pending, so untouched).
    for (const id of unfinished) await this.giveBack(id);
    await Promise.all(waiting);
    // Only now stop beating, and say so: what is still pending here is taken over at the next liveness pass.
    this.silence.abort();
    await this.heartbeatLoopDone;
    await this.deps.queue.markStopped().catch(() => {});
  }
}
