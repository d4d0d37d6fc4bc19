import type { Valkey } from 'iovalkey';
import { queueKeys, type QueueKeys } from './keys.ts';
import type { QueuedJob } from './types.ts';

/**
 * A read-only view of the queue for operators (`npm run jobs`, `npm run status`):
 * it never claims, acks or writes, so running it against a live deployment is safe.
 */

export interface QueueSummary {
  /** Entries in the jobs stream (acked ones stay until trimmed). */
  length: number;
  /** Delivered to a consumer and not yet acked: being provisioned now. */
  inFlight: number;
  /** Appended but not yet delivered to any consumer. */
  waiting: number;
  /** Entries in the dead-letter stream. */
  deadLetters: number;
  /** Consumers (replicas) that joined the group, with their pending counts. */
  consumers: { name: string; pending: number; idleMs: number }[];
}

/** A delivered, unacked entry. */
export interface InFlightEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
  /** Absent when the entry was trimmed from the stream (a bug signal; see JobQueue.reclaim). */
  job: QueuedJob | undefined;
}

/** An appended entry no consumer has read yet. */
export interface WaitingEntry {
  id: string;
  job: QueuedJob;
}

export interface DeadLetterEntry {
  /** Id in the dead-letter stream (what `jobs show` and `jobs replay` take). */
  id: string;
  /** Id the entry had in the jobs stream. */
  entryId: string | undefined;
  job: QueuedJob;
  reason: string;
  deliveries: number;
  /** Epoch ms it was dead-lettered. */
  at: number | undefined;
}

type StreamEntries = [id: string, fields: string[] | null][];

export class QueueInspector {
  readonly keys: QueueKeys;
  constructor(private readonly client: Valkey, prefix?: string) {
    this.keys = queueKeys(prefix);
  }

  async summary(): Promise<QueueSummary> {
    const [length, deadLetters, group, consumers] = await Promise.all([
      this.client.xlen(this.keys.jobs),
      this.client.xlen(this.keys.deadLetter),
      this.group(),
      this.consumers(),
    ]);
    return { length, inFlight: group?.pending ?? 0, waiting: group?.lag ?? length, deadLetters, consumers };
  }

  /** Delivered and unacked entries, oldest first. */
  async inFlight(count = 100): Promise<InFlightEntry[]> {
    if (!(await this.group())) return [];
    const rows = (await this.client.xpending(this.keys.jobs, this.keys.group, '-', '+', count)) as [string, string, number, number][];
    return Promise.all(rows.map(async ([id, consumer, idleMs, deliveries]) => {
      const [entry] = (await this.client.xrange(this.keys.jobs, id, id)) as StreamEntries;
      return { id, consumer, idleMs: Number(idleMs), deliveries: Number(deliveries), job: entry?.[1] ? decodeJob(entry[1]) : undefined };
    }));
  }

  /** Entries after the group's last delivered id, oldest first. */
  async waiting(count = 100): Promise<WaitingEntry[]> {
    const group = await this.group();
    const start = group ? `(${group.lastDeliveredId}` : '-';
    const rows = (await this.client.xrange(this.keys.jobs, start, '+', 'COUNT', count)) as StreamEntries;
    return rows.filter(([, f]) => f).map(([id, f]) => ({ id, job: decodeJob(f!) }));
  }

  /** Dead letters, newest first. */
  async deadLetters(count = 100): Promise<DeadLetterEntry[]> {
    const rows = (await this.client.xrevrange(this.keys.deadLetter, '+', '-', 'COUNT', count)) as StreamEntries;
    return rows.filter(([, f]) => f).map(([id, f]) => decodeDeadLetter(id, f!));
  }

  /** One dead letter by its id in the dead-letter stream, or undefined. */
  async deadLetter(id: string): Promise<DeadLetterEntry | undefined> {
    if (!/^\d+-\d+$/.test(id)) return undefined;
    const [row] = (await this.client.xrange(this.keys.deadLetter, id, id)) as StreamEntries;
    return row?.[1] ? decodeDeadLetter(row[0], row[1]) : undefined;
  }

  private async group(): Promise<{ pending: number; lag: number | undefined; lastDeliveredId: string } | undefined> {
    let groups: unknown[][];
    try {
      groups = (await this.client.xinfo('GROUPS', this.keys.jobs)) as unknown[][];
    } catch (err) {
      if (/no such key/i.test(String((err as Error).message))) return undefined;
      throw err;
    }
    const g = groups.map(toRecord).find((r) => r.name === this.keys.group);
    if (!g) return undefined;
    // `lag` is null when Valkey cannot compute it (after deletions); callers then fall back.
    return { pending: Number(g.pending ?? 0), lag: typeof g.lag === 'number' ? g.lag : undefined, lastDeliveredId: String(g['last-delivered-id']) };
  }

  private async consumers(): Promise<QueueSummary['consumers']> {
    try {
      const rows = (await this.client.xinfo('CONSUMERS', this.keys.jobs, this.keys.group)) as unknown[][];
      return rows.map(toRecord).map((r) => ({ name: String(r.name), pending: Number(r.pending ?? 0), idleMs: Number(r.idle ?? 0) }));
    } catch (err) {
      if (/no such key|NOGROUP/i.test(String((err as Error).message))) return [];
      throw err;
    }
  }
}

function decodeJob(fields: string[]): QueuedJob {
  return JSON.parse(String(toRecord(fields).job)) as QueuedJob;
}

function decodeDeadLetter(id: string, fields: string[]): DeadLetterEntry {
  const f = toRecord(fields);
  return {
    id,
    entryId: f.entryId === undefined ? undefined : String(f.entryId),
    job: JSON.parse(String(f.job)) as QueuedJob,
    reason: String(f.reason ?? ''),
    deliveries: Number(f.deliveries ?? 0),
    at: f.at === undefined ? undefined : Number(f.at),
  };
}

function toRecord(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
