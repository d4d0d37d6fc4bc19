import type { Valkey } from 'iovalkey';
import { queueKeys, type QueueKeys } from './keys.ts';
import { DEAD_LETTER, ENQUEUE_ONCE, REPLAY_DEAD_LETTER, TRIM_ACKED } from './scripts.ts';
import { CLAIM_FROM_GONE, decideLiveness, FORGET_GONE, HEARTBEAT, type LivenessDecision } from './liveness.ts';
import type { EnqueueResult, HandOff, QueueEntry, QueuedJob } from './types.ts';

export interface JobQueueOptions {
  /** Key prefix of this deployment; tests use a unique one each. */
  prefix?: string;
  /** This consumer's name in the group (the replica identity). */
  consumer: string;
  /** Deliveries after which an entry goes to the dead-letter stream. */
  maxDeliveries?: number;
  /** How long a job id + attempt is remembered for deduplication. */
  dedupeTtlSeconds?: number;
  /** How long the per-job record (stage timestamps, runner name) is kept. */
  recordTtlSeconds?: number;
  /**
   * Replicas that must acknowledge an enqueue (Valkey WAIT) before it counts as stored;
   * 0 (default) when there is no replica. With replicas, a job the primary took but no
   * replica holds yet would vanish in a failover after GitHub was told 2xx.
   */
  waitReplicas?: number;
  /** WAIT's timeout; must stay below the command connection's 3 s command timeout. */
  waitTimeoutMs?: number;
  /** About how many dead letters are kept (the newest); 10,000 by default. */
  deadLetterMaxLength?: number;
}

/** The primary stored the job but too few replicas confirmed it in time: answer 503 so GitHub redelivers. */
export class NotReplicatedError extends Error {
  override name = 'NotReplicatedError';
  constructor(readonly acknowledged: number, readonly wanted: number, timeoutMs: number) {
    super(`job stored on the Valkey primary but confirmed by ${acknowledged} of ${wanted} replica(s) within ${timeoutMs} ms`);
  }
}

interface Scripts {
  enqueueOnce(
    dedupe: string, jobs: string, record: string, ttl: number, payload: string, at: number, recordTtl: number, receivedAt: number, labels: string,
    group: string, handTo: string,
  ): Promise<[id: string, readId?: string, fields?: string[], marked?: number] | null>;
  deadLetter(jobs: string, dead: string, record: string, group: string, id: string, payload: string, reason: string, deliveries: number, at: number, maxLen: number): Promise<number>;
  replay(jobs: string, dead: string, record: string, deadId: string, payload: string, at: number, recordTtl: number): Promise<string | null>;
  trimAcked(jobs: string, group: string): Promise<number>;
  heartbeat(consumers: string, consumer: string): Promise<number>;
  claimFromGone(jobs: string, consumers: string, group: string, gone: string, self: string, staleMs: number, count: number, minIdleMs: number, mode: 'gone' | 'legacy'): Promise<StreamEntries>;
  forgetGone(jobs: string, consumers: string, group: string, consumer: string, staleMs: number): Promise<number>;
}

type StreamEntries = [id: string, fields: string[]][];

/**
 * The durable job queue: one Valkey stream read by one consumer group that every
 * orchestrator replica joins. At-least-once: an entry stays pending until acked, an
 * entry left by a dead consumer is reclaimed, and one that keeps failing is moved to
 * a dead-letter stream with its reason instead of blocking the queue forever.
 */
export class JobQueue {
  readonly keys: QueueKeys;
  readonly consumer: string;
  readonly maxDeliveries: number;
  private readonly dedupeTtl: number;
  private readonly recordTtl: number;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly deadLetterMaxLength: number;
  private readonly scripts: Scripts;

  /** `client` runs ordinary commands; `blocking` (optional) runs XREADGROUP BLOCK. */
  constructor(private readonly client: Valkey, options: JobQueueOptions, private readonly blocking: Valkey = client) {
    this.keys = queueKeys(options.prefix);
    this.consumer = options.consumer;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.dedupeTtl = options.dedupeTtlSeconds ?? 7 * 86_400;
    this.recordTtl = options.recordTtlSeconds ?? 7 * 86_400;
    this.waitReplicas = options.waitReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 1_000;
    this.deadLetterMaxLength = options.deadLetterMaxLength ?? 10_000;
    this.scripts = defineScripts(client);
  }

  /** Creates the stream and the group if they do not exist yet; safe to call on every start. */
  async ensureGroup(): Promise<void> {
    try {
      await this.client.xgroup('CREATE', this.keys.jobs, this.keys.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
    }
  }

  /**
   * Appends a job unless this job id + run attempt was already stored: one atomic step.
   * With `waitReplicas`, resolves only once that many replicas hold it (a duplicate too:
   * the first copy may not have reached a replica yet); otherwise throws NotReplicatedError.
   *
   * With `handOff` (this replica's consumer has a free slot), the same step reads the group's
   * next entry for this consumer and passes it to `handOff.take` at once — before the replicas'
   * confirmation, as a blocking read would have returned it — and `handOff.done` is called in
   * every case, so the consumer can give the slot back when nothing was handed over.
   */
  async enqueue(job: QueuedJob, handOff?: HandOff): Promise<EnqueueResult> {
    let reply: Awaited<ReturnType<Scripts['enqueueOnce']>>;
    try {
      reply = await this.scripts.enqueueOnce(
        this.keys.dedupe(job.jobId, job.runAttempt), this.keys.jobs, this.keys.record(job.jobId, job.runAttempt),
        this.dedupeTtl, JSON.stringify(job), job.enqueuedAt, this.recordTtl, job.receivedAt, JSON.stringify(job.labels),
        this.keys.group, handOff ? this.consumer : '',
      );
      const [, readId, fields, marked] = reply ?? [];
      if (handOff && readId && fields) handOff.take({ id: readId, job: decode(fields), deliveries: 1, ...(marked === 1 && { handedOff: 'dequeued' as const }) });
    } finally {
      handOff?.done();
    }
    await this.awaitReplicas();
    return reply ? { status: 'enqueued', id: reply[0] } : { status: 'duplicate' };
  }

  /** WAIT covers every write made on this connection so far, including the one just made. */
  private async awaitReplicas(): Promise<void> {
    if (this.waitReplicas === 0) return;
    const acknowledged = await this.client.wait(this.waitReplicas, this.waitTimeoutMs);
    if (acknowledged < this.waitReplicas) throw new NotReplicatedError(acknowledged, this.waitReplicas, this.waitTimeoutMs);
  }

  /** New entries for this consumer, waiting up to `blockMs` for the first one. */
  async read(count: number, blockMs: number): Promise<QueueEntry[]> {
    const reply = (await this.blocking.xreadgroup(
      'GROUP', this.keys.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys.jobs, '>',
    )) as [string, StreamEntries][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => ({ id, job: decode(fields), deliveries: 1 }));
  }

  async ack(id: string): Promise<void> {
    await this.client.xack(this.keys.jobs, this.keys.group, id);
  }

  /**
   * Takes over entries idle longer than `minIdleMs` (their consumer died or hung).
   * Entries already delivered `maxDeliveries` times are dead-lettered instead and
   * returned separately so the caller can log and count them.
   */
  async reclaim(minIdleMs: number, count = 50): Promise<{ entries: QueueEntry[]; deadLettered: QueueEntry[]; missing: string[] }> {
    const [, claimed, deleted] = (await this.client.xautoclaim(
      this.keys.jobs, this.keys.group, this.consumer, minIdleMs, '0-0', 'COUNT', count,
    )) as [string, StreamEntries, string[]];
    // XAUTOCLAIM returns entries trimmed away in its third element; they are acked so
    // they stop being retried (TRIM_ACKED never trims pending entries, so this is a bug signal).
    for (const id of deleted ?? []) await this.ack(id);
    const { entries, deadLettered } = await this.sortClaimed(claimed);
    return { entries, deadLettered, missing: deleted ?? [] };
  }

  /** Moves an entry to the dead-letter stream with its reason, marks its record, and acks it, atomically. */
  async deadLetter(entry: QueueEntry, reason: string, at = Date.now()): Promise<void> {
    await this.scripts.deadLetter(
      this.keys.jobs, this.keys.deadLetter, this.keys.record(entry.job.jobId, entry.job.runAttempt), this.keys.group, entry.id,
      JSON.stringify(entry.job), reason, entry.deliveries, at, this.deadLetterMaxLength,
    );
  }

  /**
   * Queues a dead-lettered job again (after the operator fixed its cause) and removes the
   * dead letter, atomically. Returns the new entry id, or undefined when no such dead letter.
   */
  async replay(deadLetterId: string, job: QueuedJob, at = Date.now()): Promise<string | undefined> {
    const replayed: QueuedJob = { ...job, enqueuedAt: at, requeue: { reason: 'replayed', count: (job.requeue?.count ?? 0) + 1 } };
    const id = await this.scripts.replay(
      this.keys.jobs, this.keys.deadLetter, this.keys.record(job.jobId, job.runAttempt), deadLetterId, JSON.stringify(replayed), at, this.recordTtl,
    );
    return id ?? undefined;
  }

  /**
   * Gives an in-flight entry back at shutdown: it stays pending but is marked long idle,
   * so another replica's next reclaim takes it at once instead of after the idle deadline.
   */
  async release(id: string, idleMs: number): Promise<void> {
    await this.client.xclaim(this.keys.jobs, this.keys.group, this.consumer, 0, id, 'IDLE', idleMs, 'JUSTID');
  }

  /** Records that this consumer is alive (Valkey's clock); returns that time in ms. */
  async heartbeat(): Promise<number> {
    return this.scripts.heartbeat(this.keys.consumers, this.consumer);
  }

  /** At graceful shutdown, after release(): marks this consumer gone at once (beat 0), so its entries are taken without waiting out staleMs. */
  async markStopped(): Promise<void> {
    await this.client.zadd(this.keys.consumers, 0, this.consumer);
  }

  /**
   * Retries this consumer's own pending entries idle ≥ `minIdleMs` that it is not working on
   * (`inFlight`): ones whose provisioning failed transiently. Never touches another consumer's
   * entries, and never an entry this consumer is still provisioning, however slow.
   */
  async reclaimOwn(minIdleMs: number, inFlight: ReadonlySet<string>, count = 50): Promise<{ entries: QueueEntry[]; deadLettered: QueueEntry[] }> {
    const rows = (await this.client.xpending(
      this.keys.jobs, this.keys.group, 'IDLE', minIdleMs, '-', '+', count, this.consumer,
    )) as [string, string, number, number][];
    const ids = rows.map(([id]) => id).filter((id) => !inFlight.has(id));
    if (!ids.length) return { entries: [], deadLettered: [] };
    const claimed = (await this.client.xclaim(this.keys.jobs, this.keys.group, this.consumer, minIdleMs, ...ids)) as StreamEntries;
    return this.sortClaimed(claimed);
  }

  /**
   * Takes over the entries of consumers that are gone: no heartbeat for longer than `staleMs`
   * (or stopped gracefully). A consumer that never beat (an older release) keeps the old rule:
   * entries idle ≥ `legacyIdleMs`. Each claim re-checks the heartbeat atomically in Valkey.
   */
  async reclaimGone(staleMs: number, legacyIdleMs: number, count = 100): Promise<{ entries: QueueEntry[]; deadLettered: QueueEntry[]; decisions: LivenessDecision[] }> {
    const [infos, beats, time] = await Promise.all([
      this.client.xinfo('CONSUMERS', this.keys.jobs, this.keys.group) as Promise<unknown[][]>,
      this.client.zrange(this.keys.consumers, 0, -1, 'WITHSCORES'),
      this.client.time(),
    ]);
    const heartbeats = new Map<string, number>();
    for (let i = 0; i + 1 < beats.length; i += 2) heartbeats.set(String(beats[i]), Number(beats[i + 1]));
    const consumers = infos.map(toRecord).map((c) => ({ name: String(c.name), pending: Number(c.pending ?? 0) }));
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const decisions = decideLiveness({ self: this.consumer, now, consumers, heartbeats, staleMs });
    const all: QueueEntry[] = [];
    const dead: QueueEntry[] = [];
    for (const d of decisions) {
      if (d.action === 'forget') {
        await this.scripts.forgetGone(this.keys.jobs, this.keys.consumers, this.keys.group, d.consumer, staleMs);
        continue;
      }
      const claimed = await this.scripts.claimFromGone(
        this.keys.jobs, this.keys.consumers, this.keys.group, d.consumer, this.consumer, staleMs, count,
        d.action === 'claim' ? 0 : legacyIdleMs, d.action === 'claim' ? 'gone' : 'legacy',
      );
      const { entries, deadLettered } = await this.sortClaimed(claimed);
      all.push(...entries);
      dead.push(...deadLettered);
    }
    return { entries: all, deadLettered: dead, decisions };
  }

  /** Entries just claimed: those past maxDeliveries go to the dead-letter stream, the rest are returned to work on. */
  private async sortClaimed(claimed: StreamEntries): Promise<{ entries: QueueEntry[]; deadLettered: QueueEntry[] }> {
    const entries: QueueEntry[] = [];
    const deadLettered: QueueEntry[] = [];
    for (const [id, fields] of claimed) {
      if (!fields) continue;
      const deliveries = await this.deliveries(id);
      const entry = { id, job: decode(fields), deliveries };
      if (deliveries > this.maxDeliveries) {
        await this.deadLetter(entry, `delivered ${deliveries - 1} times without being acknowledged`);
        deadLettered.push(entry);
      } else entries.push(entry);
    }
    return { entries, deadLettered };
  }

  /** Removes entries every consumer has acked; never touches a pending one. */
  async trim(): Promise<number> {
    return this.scripts.trimAcked(this.keys.jobs, this.keys.group);
  }

  /** Stream length, entries pending in the group, entries not yet delivered. */
  async depth(): Promise<{ length: number; pending: number; lag: number }> {
    const [length, pending, groups] = await Promise.all([
      this.client.xlen(this.keys.jobs),
      this.client.xpending(this.keys.jobs, this.keys.group) as Promise<[number, ...unknown[]]>,
      this.client.xinfo('GROUPS', this.keys.jobs) as Promise<unknown[][]>,
    ]);
    const group = groups.map(toRecord).find((g) => g.name === this.keys.group);
    const lag = typeof group?.lag === 'number' ? group.lag : 0;
    return { length, pending: Number(pending[0] ?? 0), lag };
  }

  async deadLetters(count = 100): Promise<{ id: string; job: QueuedJob; reason: string; deliveries: number }[]> {
    const rows = (await this.client.xrange(this.keys.deadLetter, '-', '+', 'COUNT', count)) as StreamEntries;
    return rows.map(([id, fields]) => {
      const f = toRecord(fields);
      return { id, job: JSON.parse(String(f.job)) as QueuedJob, reason: String(f.reason), deliveries: Number(f.deliveries) };
    });
  }

  private async deliveries(id: string): Promise<number> {
    const rows = (await this.client.xpending(this.keys.jobs, this.keys.group, id, id, 1)) as [string, string, number, number][];
    return rows[0]?.[3] ?? 1;
  }
}

function decode(fields: string[]): QueuedJob {
  const f = toRecord(fields);
  return JSON.parse(String(f.job)) as QueuedJob;
}

function toRecord(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

function defineScripts(client: Valkey): Scripts {
  const c = client as unknown as Record<string, unknown>;
  if (!c.enqueueOnce) {
    client.defineCommand('enqueueOnce', { numberOfKeys: 3, lua: ENQUEUE_ONCE });
    client.defineCommand('deadLetterEntry', { numberOfKeys: 3, lua: DEAD_LETTER });
    client.defineCommand('replayDeadLetter', { numberOfKeys: 3, lua: REPLAY_DEAD_LETTER });
    client.defineCommand('trimAcked', { numberOfKeys: 1, lua: TRIM_ACKED });
    client.defineCommand('consumerHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    client.defineCommand('claimFromGone', { numberOfKeys: 2, lua: CLAIM_FROM_GONE });
    client.defineCommand('forgetGone', { numberOfKeys: 2, lua: FORGET_GONE });
  }
  const call = (name: string, ...args: unknown[]) => (c[name] as (...a: unknown[]) => Promise<unknown>).apply(client, args);
  return {
    enqueueOnce: (...a) => call('enqueueOnce', ...a) as ReturnType<Scripts['enqueueOnce']>,
    deadLetter: (...a) => call('deadLetterEntry', ...a) as Promise<number>,
    replay: (...a) => call('replayDeadLetter', ...a) as Promise<string | null>,
    trimAcked: (...a) => call('trimAcked', ...a) as Promise<number>,
    heartbeat: (...a) => call('consumerHeartbeat', ...a) as Promise<number>,
    claimFromGone: (...a) => call('claimFromGone', ...a) as Promise<StreamEntries>,
    forgetGone: (...a) => call('forgetGone', ...a) as Promise<number>,
  };
}
