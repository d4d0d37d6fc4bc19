import type { GitHubClient, WorkflowJob } from '../../github/client.ts';
import type { Logger } from '../../log.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { Clock } from '../../util/clock.ts';
import { PermanentError } from '../../util/errors.ts';
import type { KnownRepo, LifecycleStore } from '../lifecycle/store.ts';
import { queuedJobFromGitHub } from '../recovery/queued-job.ts';
import type { RunnerState } from '../watcher/runner-watcher.ts';
import { PassBudget } from './budget.ts';
import type { SweepMetrics } from './metrics.ts';
import { planStaleQueued, type StaleDecision } from './plan-stale-queued.ts';
import type { StaleQueuedSettings } from './settings.ts';

export interface StaleQueuedDeps {
  store: LifecycleStore;
  records: JobRecords;
  queue: Pick<JobQueue, 'enqueue'>;
  github: Pick<GitHubClient, 'listQueuedJobs'>;
  runnerState: (objectName: string | undefined) => RunnerState;
  classify: (labels: string[]) => unknown;
  maxReprovisions: () => number;
  clock: Clock;
  log: Logger;
  metrics: SweepMetrics;
}

export const STALE_QUEUED = 'stale_queued';

/**
 * Jobs GitHub has had queued too long with no runner of ours on the way: asks GitHub per
 * known repository (rotating through them, a few per pass), decides per job, and enqueues
 * (lost webhook) or provisions again (runner lost or taken), within the caps.
 */
export class StaleQueuedSweep {
  private cursor = 0;

  constructor(private readonly d: StaleQueuedDeps, private readonly s: StaleQueuedSettings) {}

  async run(signal: AbortSignal): Promise<void> {
    const { store, clock } = this.d;
    const now = clock.now();
    const budget = new PassBudget(STALE_QUEUED, this.s, store, now, this.d.metrics);
    for (const repo of this.pick(await store.repos(now - this.s.repoMemoryMs))) {
      if (signal.aborted || budget.exhausted) return;
      for (const gh of await this.queued(repo, signal)) {
        if (signal.aborted) return;
        const decision = await this.decide(gh, repo, now);
        if (decision.action === 'skip') continue;
        if (!(await budget.take())) {
          this.d.log.warn({ sweep: STALE_QUEUED, cap: this.s.maxActionsPerPass }, 'sweep cap reached; the rest waits for the next pass');
          return;
        }
        await this.act(gh, repo, decision, now);
      }
    }
  }

  /** A rotating window of repositories, so every one is checked within a few passes. */
  private pick(repos: KnownRepo[]): KnownRepo[] {
    if (repos.length <= this.s.maxReposPerPass) return repos;
    const start = this.cursor % repos.length;
    this.cursor = start + this.s.maxReposPerPass;
    return [...repos, ...repos].slice(start, start + this.s.maxReposPerPass);
  }

  private async queued(repo: KnownRepo, signal: AbortSignal): Promise<WorkflowJob[]> {
    const [owner = '', name = ''] = repo.repository.split('/');
    try {
      return await this.d.github.listQueuedJobs(owner, name, { installationId: repo.installationId, signal });
    } catch (err) {
      // A repository that is gone or no longer covered by the installation: nothing to do there.
      if (err instanceof PermanentError && (err.reason === 'github_not_found' || err.reason === 'github_forbidden')) return [];
      throw err;
    }
  }

  private async decide(gh: WorkflowJob, repo: KnownRepo, now: number): Promise<StaleDecision & { request?: unknown }> {
    const { store, records } = this.d;
    const createdAt = Date.parse(gh.createdAt ?? '');
    if (!Number.isFinite(createdAt)) return { action: 'skip', why: 'no_created_at' };
    let request: unknown;
    try {
      request = this.d.classify(gh.labels);
    } catch {
      request = 'invalid';
    }
    const record = await records.get(gh.id, gh.runAttempt);
    const requeuedAt = Number((record as Record<string, unknown> | undefined)?.requeuedAt ?? 0);
    const decision = planStaleQueued(
      {
        createdAt, jobId: gh.id, request, record,
        reprovisions: await store.reprovisions(gh.id, gh.runAttempt),
        runner: this.d.runnerState(record?.jobName),
        runnerTook: record?.runnerName ? await store.runnerJob(record.runnerName) : undefined,
        requeuedAt: requeuedAt || undefined,
      },
      now,
      { ...this.s, maxReprovisions: this.d.maxReprovisions() },
    );
    if (decision.action === 'skip' && decision.why === 'exhausted')
      this.d.log.warn({ jobId: gh.id, runAttempt: gh.runAttempt, repository: repo.repository }, 'job still queued but its re-provisionings are exhausted');
    return { ...decision, request };
  }

  private async act(gh: WorkflowJob, repo: KnownRepo, decision: StaleDecision & { request?: unknown }, now: number): Promise<void> {
    const { store, queue, log, metrics } = this.d;
    const line = { sweep: STALE_QUEUED, jobId: gh.id, runAttempt: gh.runAttempt, repository: repo.repository, why: decision.why };
    if (decision.action === 'enqueue') {
      const result = await queue.enqueue(queuedJobFromGitHub(gh, repo, decision.request, now));
      if (result.status === 'enqueued') {
        metrics.actions.inc({ sweep: STALE_QUEUED, kind: 'enqueue' });
        log.warn(line, 'queued job had no webhook: enqueued by the sweep');
      }
      return;
    }
    if (decision.action !== 'requeue') return;
    const job = queuedJobFromGitHub(gh, repo, decision.request, now, { reason: decision.why, count: decision.count });
    const claim = await store.claimRequeue(job, `stale-${decision.count}`, decision.count - 1, this.d.maxReprovisions());
    if (claim !== 'queued') return;
    metrics.actions.inc({ sweep: STALE_QUEUED, kind: 'requeue' });
    log.warn({ ...line, count: decision.count }, 'starved job provisioned again by the sweep');
  }
}
