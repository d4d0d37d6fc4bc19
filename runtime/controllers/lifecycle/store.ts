import type { Valkey } from 'iovalkey';
import type { QueueKeys } from '../../queue/keys.ts';
import type { QueuedJob } from '../../queue/types.ts';
import type { FailureKind } from '../watcher/classify.ts';
import { lifecycleKeys, type LifecycleKeys } from './keys.ts';
import { CLAIM_REQUEUE, CLAIM_RERUN, SCHEDULE_ONCE, TAKE_BUDGET } from './scripts.ts';

/** A runner lost to infrastructure, waiting for (or done with) recovery. */
export interface LostRunner {
  objectName: string;
  jobId: number;
  runAttempt: number;
  className: string;
  kind: FailureKind;
  detail: string;
  /** Our GitHub runner name, when known (the Job annotation). */
  runnerName?: string;
  lostAt: number;
  /** Re-checks while waiting for GitHub to conclude. */
  checks?: number;
  /** Passes that failed with an error (GitHub or Valkey down). */
  errors?: number;
  state?: 'pending' | 'done';
}

/** A repository runs-fleet has served, so sweeps know where to look for queued jobs and runners. */
export interface KnownRepo {
  repository: string;
  installationId: number;
  /** The owner is an organisation (its runners are registered at org scope). */
  org: boolean;
}

export interface RunnerJob {
  jobId: number;
  runAttempt: number;
  repository: string;
}

export type RequeueClaim = 'queued' | 'changed' | 'exhausted' | 'done';
export type RerunClaim = { state: 'new' | 'claimed'; count: number } | { state: 'done' | 'exhausted'; count: number };

const DAY_S = 86_400;

/**
 * Everything the lifecycle controllers keep in Valkey. State that decides "has this been
 * done already" lives here, not in memory, so a new leader never repeats the old one's work.
 */
export class LifecycleStore {
  readonly keys: LifecycleKeys;

  constructor(private readonly valkey: Valkey, prefix: string, private readonly queueKeys: QueueKeys, private readonly ttlS = 7 * DAY_S) {
    this.keys = lifecycleKeys(prefix);
  }

  /** True the first time `what` is noted for this runner object (observations counted in metrics once). */
  async first(objectName: string, what: string): Promise<boolean> {
    return (await this.valkey.set(this.keys.mark(objectName, what), '1', 'EX', this.ttlS, 'NX')) === 'OK';
  }

  // ---- lost runners ---------------------------------------------------------

  async schedule(item: LostRunner, dueAt: number): Promise<boolean> {
    const added = await this.valkey.eval(
      SCHEDULE_ONCE, 2, this.keys.recoveryDue, this.keys.recoveryItem(item.objectName),
      item.objectName, dueAt, JSON.stringify({ ...item, state: 'pending' }), this.ttlS,
    );
    return added === 1;
  }

  async due(now: number, count: number): Promise<LostRunner[]> {
    const names = await this.valkey.zrangebyscore(this.keys.recoveryDue, '-inf', now, 'LIMIT', 0, count);
    if (!names.length) return [];
    const raw = await this.valkey.mget(...names.map((n) => this.keys.recoveryItem(n)));
    const out: LostRunner[] = [];
    for (const [i, json] of raw.entries()) {
      if (json) out.push(JSON.parse(json) as LostRunner);
      else await this.valkey.zrem(this.keys.recoveryDue, names[i]!); // its item expired: nothing left to do
    }
    return out;
  }

  async item(objectName: string): Promise<LostRunner | undefined> {
    const json = await this.valkey.get(this.keys.recoveryItem(objectName));
    return json ? (JSON.parse(json) as LostRunner) : undefined;
  }

  async reschedule(item: LostRunner, dueAt: number): Promise<void> {
    await this.valkey.multi()
      .set(this.keys.recoveryItem(item.objectName), JSON.stringify(item), 'EX', this.ttlS)
      .zadd(this.keys.recoveryDue, dueAt, item.objectName)
      .exec();
  }

  async finish(item: LostRunner): Promise<void> {
    await this.valkey.multi()
      .set(this.keys.recoveryItem(item.objectName), JSON.stringify({ ...item, state: 'done' }), 'EX', this.ttlS)
      .zrem(this.keys.recoveryDue, item.objectName)
      .exec();
  }

  async pendingRecoveries(): Promise<number> {
    return this.valkey.zcard(this.keys.recoveryDue);
  }

  // ---- bounded retries ------------------------------------------------------

  async reprovisions(jobId: number, runAttempt: number): Promise<number> {
    return Number((await this.valkey.hget(this.queueKeys.record(jobId, runAttempt), 'reprovisions')) ?? 0);
  }

  /** Appends `job` (with job.requeue.count = expected + 1) to the jobs stream, once per cause, within the bound. */
  async claimRequeue(job: QueuedJob, cause: string, expected: number, max: number): Promise<RequeueClaim> {
    const r = await this.valkey.eval(
      CLAIM_REQUEUE, 3, this.queueKeys.record(job.jobId, job.runAttempt), this.queueKeys.jobs, this.keys.acted(cause, job.jobId, job.runAttempt),
      expected, max, JSON.stringify(job), this.ttlS, job.requeue?.reason ?? 'infrastructure', job.enqueuedAt,
    );
    return r === 'done' || r === 'changed' || r === 'exhausted' ? r : 'queued';
  }

  async reruns(lineage: string): Promise<number> {
    return Number((await this.valkey.hget(lineage, 'reruns')) ?? 0);
  }

  async claimRerun(lineage: string, cause: string, jobId: number, runAttempt: number, max: number, reason: string): Promise<RerunClaim> {
    const [state, count] = (await this.valkey.eval(
      CLAIM_RERUN, 2, lineage, this.keys.acted(cause, jobId, runAttempt), max, this.ttlS, runAttempt, reason,
    )) as [RerunClaim['state'], number];
    return { state, count: Number(count) } as RerunClaim;
  }

  async finishRerun(cause: string, jobId: number, runAttempt: number): Promise<void> {
    await this.valkey.set(this.keys.acted(cause, jobId, runAttempt), 'done', 'EX', this.ttlS);
  }

  /** Infrastructure re-runs recorded for a job's lineage, if any (marks the re-run attempt). */
  async lineage(repository: string, runId: number, jobName: string): Promise<{ reruns: number; lostAttempt: number; reason: string } | undefined> {
    const h = await this.valkey.hgetall(this.keys.lineage(repository, runId, jobName));
    if (!h?.reruns) return undefined;
    return { reruns: Number(h.reruns), lostAttempt: Number(h.lostAttempt ?? 0), reason: h.reason ?? '' };
  }

  // ---- what GitHub told us --------------------------------------------------

  async noteRunnerJob(runnerName: string, job: RunnerJob, ttlS = 3 * DAY_S): Promise<void> {
    await this.valkey.set(this.keys.runnerJob(runnerName), JSON.stringify(job), 'EX', ttlS);
  }

  async runnerJob(runnerName: string): Promise<RunnerJob | undefined> {
    const json = await this.valkey.get(this.keys.runnerJob(runnerName));
    return json ? (JSON.parse(json) as RunnerJob) : undefined;
  }

  async runnerJobs(runnerNames: readonly string[]): Promise<Map<string, RunnerJob>> {
    const out = new Map<string, RunnerJob>();
    if (!runnerNames.length) return out;
    const raw = await this.valkey.mget(...runnerNames.map((n) => this.keys.runnerJob(n)));
    raw.forEach((json, i) => json && out.set(runnerNames[i]!, JSON.parse(json) as RunnerJob));
    return out;
  }

  async noteRepo(repo: KnownRepo, now: number): Promise<void> {
    const member = JSON.stringify({ repository: repo.repository.toLowerCase(), installationId: repo.installationId, org: repo.org });
    await this.valkey.zadd(this.keys.repos, now, member);
  }

  /** Repositories seen since `since`, most recent first; older ones are dropped. */
  async repos(since: number, limit = 500): Promise<KnownRepo[]> {
    await this.valkey.zremrangebyscore(this.keys.repos, '-inf', `(${since}`);
    const members = await this.valkey.zrevrange(this.keys.repos, 0, limit - 1);
    const seen = new Set<string>();
    const out: KnownRepo[] = [];
    for (const m of members) {
      const r = JSON.parse(m) as KnownRepo;
      if (seen.has(r.repository)) continue;
      seen.add(r.repository);
      out.push(r);
    }
    return out;
  }

  // ---- sweeps ---------------------------------------------------------------

  async orphansSeen(): Promise<Map<string, number>> {
    const h = await this.valkey.hgetall(this.keys.orphanSeen);
    return new Map(Object.entries(h ?? {}).map(([k, v]) => [k, Number(v)]));
  }

  /** Replaces the set of runners seen orphaned (first-seen times of those still orphaned). */
  async setOrphansSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    const m = this.valkey.multi().del(this.keys.orphanSeen);
    if (seen.size) m.hset(this.keys.orphanSeen, Object.fromEntries([...seen].map(([k, v]) => [k, String(v)])));
    await m.exec();
  }

  async redeliveries(guids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!guids.length) return out;
    const raw = await this.valkey.hmget(this.keys.redelivered, ...guids);
    raw.forEach((v, i) => v && out.set(guids[i]!, Number(v)));
    return out;
  }

  /**
   * Claims the redelivery of one failed attempt: false when that attempt was already
   * claimed (a concurrent pass, or another leader). Counts the guid's redeliveries too.
   */
  async claimRedelivery(guid: string, attemptId: number): Promise<boolean> {
    const claimed = await this.valkey.set(this.keys.redeliveryClaim(attemptId), guid, 'EX', 4 * DAY_S, 'NX');
    if (claimed !== 'OK') return false;
    await this.valkey.multi().hincrby(this.keys.redelivered, guid, 1).expire(this.keys.redelivered, 4 * DAY_S).exec();
    return true;
  }

  async redeliveryCursor(): Promise<number | undefined> {
    const v = await this.valkey.get(this.keys.redeliveryCursor);
    return v ? Number(v) : undefined;
  }

  async setRedeliveryCursor(at: number): Promise<void> {
    await this.valkey.set(this.keys.redeliveryCursor, String(at), 'EX', 4 * DAY_S);
  }

  /** Takes one action from a sweep's budget for the current window; false when it is spent. */
  async takeBudget(sweep: string, cap: number, windowMs: number, now: number): Promise<boolean> {
    const window = Math.floor(now / windowMs);
    const r = await this.valkey.eval(TAKE_BUDGET, 1, this.keys.budget(sweep, window), cap, Math.ceil(windowMs / 1000) + 60);
    return r === 1;
  }
}
