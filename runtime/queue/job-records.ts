import type { Valkey } from 'iovalkey';
import { queueKeys, type QueueKeys } from './keys.ts';

/** Stages a job passes through, each stamped once (epoch ms) on its record. */
export const STAGES = [
  'receivedAt', 'enqueuedAt', 'dequeuedAt', 'jobCreatedAt', 'scheduledAt', 'nodeReadyAt', 'runningAt', 'inProgressAt', 'finishedAt',
] as const;
export type Stage = (typeof STAGES)[number];

/** The per-job record: what happened to one job id + run attempt, kept in a Valkey hash. */
export interface JobRecord {
  status?: string;
  entryId?: string;
  className?: string;
  pool?: string;
  jobName?: string;
  runnerName?: string;
  runnerId?: string;
  /** The runner GitHub reported for the job (may differ from ours when a runner was taken by another job). */
  pickedBy?: string;
  repository?: string;
  /** `org` or `repo`: where the JIT runner was registered. */
  scope?: string;
  installationId?: string;
  /** The job's `runs-on` labels as a JSON array (written at enqueue). */
  labels?: string;
  /** warm (scheduled on an existing node) or cold (waited for a new node). */
  start?: 'warm' | 'cold';
  failure?: string;
  conclusion?: string;
  infraRetries?: string;
  /**
   * Epoch ms GitHub reported the job completed (the workflow_job webhook). Unlike the
   * `finishedAt` stage (also stamped when a runner pod ends), it means the job itself is over.
   */
  completedOnGitHubAt?: string;
  stages: Partial<Record<Stage, number>>;
}

const UPDATE_UNLESS_FINISHED = `
if redis.call('HEXISTS', KEYS[1], 'completedOnGitHubAt') == 1 then return 0 end
if #ARGV > 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return 1`;
const UPDATE_COMMAND = 'jobRecordUpdateUnlessFinished';

/** Reads and updates job records. Updates are field-wise, so concurrent writers never clobber each other. */
export class JobRecords {
  readonly keys: QueueKeys;
  constructor(private readonly client: Valkey, prefix?: string, private readonly ttlSeconds = 7 * 86_400) {
    this.keys = queueKeys(prefix);
    // EVALSHA, as the queue's scripts (job-queue.ts): a job's path runs this twice, and EVAL would
    // send and hash the script's text each time.
    if (!(client as unknown as Record<string, unknown>)[UPDATE_COMMAND]) client.defineCommand(UPDATE_COMMAND, { numberOfKeys: 1, lua: UPDATE_UNLESS_FINISHED });
  }

  async update(jobId: number, runAttempt: number, fields: Partial<Omit<JobRecord, 'stages'>>, stages: Partial<Record<Stage, number>> = {}): Promise<void> {
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) flat[k] = String(v);
    for (const [k, v] of Object.entries(stages)) if (v !== undefined) flat[k] = String(v);
    if (!Object.keys(flat).length) return;
    const key = this.keys.record(jobId, runAttempt);
    await this.client.multi().hset(key, flat).expire(key, this.ttlSeconds).exec();
  }

  /**
   * Like update, unless the job already completed on GitHub (`completedOnGitHubAt` is set): then
   * nothing is written and false is returned. One atomic step, so provisioning can never
   * overwrite what a cancellation recorded, and one of the two always sees the other.
   */
  async updateUnlessFinished(jobId: number, runAttempt: number, fields: Partial<Omit<JobRecord, 'stages'>>, stages: Partial<Record<Stage, number>> = {}): Promise<boolean> {
    const flat: string[] = [];
    for (const [k, v] of [...Object.entries(fields), ...Object.entries(stages)]) if (v !== undefined) flat.push(k, String(v));
    const key = this.keys.record(jobId, runAttempt);
    const update = (this.client as unknown as Record<string, (...a: unknown[]) => Promise<number>>)[UPDATE_COMMAND]!;
    return (await update.call(this.client, key, this.ttlSeconds, ...flat)) === 1;
  }

  /** Stamps a stage only if it is not stamped yet (the first observation wins). */
  async stampOnce(jobId: number, runAttempt: number, stage: Stage, at: number): Promise<boolean> {
    const key = this.keys.record(jobId, runAttempt);
    return (await this.client.hsetnx(key, stage, String(at))) === 1;
  }

  async get(jobId: number, runAttempt: number): Promise<JobRecord | undefined> {
    const raw = await this.client.hgetall(this.keys.record(jobId, runAttempt));
    if (!raw || !Object.keys(raw).length) return undefined;
    const stages: Partial<Record<Stage, number>> = {};
    const rest: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if ((STAGES as readonly string[]).includes(k)) stages[k as Stage] = Number(v);
      else rest[k] = v;
    }
    return { ...(rest as Omit<JobRecord, 'stages'>), stages };
  }
}
