import { connectValkey, waitReady, type Valkey } from '../../runtime/queue/connection.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords, type JobRecord } from '../../runtime/queue/job-records.ts';

/**
 * Follows every job the orchestrator stored, by reading what it wrote: the per-job
 * records in Valkey (stage timestamps, runner, warm/cold, failure, retries) and the
 * dead-letter stream. Read-only; `npm start` prints its transitions, the demo its
 * progress and summary.
 */

/** Where a job stands, in the order jobs move. */
export const PHASES = ['queued', 'job created', 'scheduled', 'running', 'in progress', 'completed', 'cancelled', 'dead-lettered', 'infra retry'] as const;
export type Phase = (typeof PHASES)[number];

export interface TrackedJob {
  jobId: number;
  runAttempt: number;
  record: JobRecord;
  phase: Phase;
  /** Why a dead-lettered job got no runner. */
  deadLetterReason?: string;
}

export function phaseOf(r: JobRecord, deadLetterReason?: string): Phase {
  if (deadLetterReason) return 'dead-lettered';
  if (r.status === 'infra_rerun' || r.status === 'requeued') return 'infra retry';
  if (r.status === 'cancelled_cleaned' || r.conclusion === 'cancelled') return 'cancelled';
  if (r.status === 'completed' || r.conclusion) return 'completed';
  const s = r.stages;
  if (s.inProgressAt) return 'in progress';
  if (s.runningAt) return 'running';
  if (s.scheduledAt) return 'scheduled';
  if (s.jobCreatedAt) return 'job created';
  return 'queued';
}

export interface FlowTrackerOptions {
  valkeyUrl: string;
  prefix: string;
  /** Default 250 ms. */
  intervalMs?: number;
  onChange?: (job: TrackedJob, previous: TrackedJob | undefined) => void;
}

export class FlowTracker {
  readonly #jobs = new Map<string, TrackedJob>();
  readonly #client: Valkey;
  readonly #records: JobRecords;
  readonly #queue: JobQueue;
  readonly #pattern: string;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly o: FlowTrackerOptions) {
    this.#client = connectValkey(o.valkeyUrl, 'command');
    this.#client.on('error', () => {});
    this.#records = new JobRecords(this.#client, o.prefix);
    this.#queue = new JobQueue(this.#client, { prefix: o.prefix, consumer: 'flow-observer' });
    this.#pattern = this.#records.keys.record(0, 0).replace(/0:0$/, '*');
  }

  async start(): Promise<void> {
    await waitReady(this.#client);
    const tick = () => {
      if (this.#stopped) return;
      this.#polling = this.poll()
        .catch(() => {})
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.o.intervalMs ?? 250);
        });
    };
    tick();
  }

  /** Reads every record once (also what the interval does). */
  async poll(): Promise<void> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#client.scan(cursor, 'MATCH', this.#pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const dead = new Map<string, string>();
    for (const d of await this.#queue.deadLetters(10_000)) dead.set(`${d.job.jobId}:${d.job.runAttempt}`, d.reason);
    for (const key of keys) {
      const m = /:(\d+):(\d+)$/.exec(key);
      if (!m) continue;
      const jobId = Number(m[1]);
      const runAttempt = Number(m[2]);
      const record = await this.#records.get(jobId, runAttempt);
      if (!record) continue;
      const id = `${jobId}:${runAttempt}`;
      const deadLetterReason = dead.get(id);
      const next: TrackedJob = { jobId, runAttempt, record, phase: phaseOf(record, deadLetterReason), ...(deadLetterReason && { deadLetterReason }) };
      const previous = this.#jobs.get(id);
      this.#jobs.set(id, next);
      if (!previous || previous.phase !== next.phase) this.o.onChange?.(next, previous);
    }
  }

  jobs(): TrackedJob[] {
    return [...this.#jobs.values()].sort((a, b) => a.jobId - b.jobId || a.runAttempt - b.runAttempt);
  }

  get(jobId: number, runAttempt: number): TrackedJob | undefined {
    return this.#jobs.get(`${jobId}:${runAttempt}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#polling;
    this.#client.disconnect();
  }
}
