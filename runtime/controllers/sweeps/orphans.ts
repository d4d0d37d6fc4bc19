import type { V1Job } from '@kubernetes/client-node';
import type { GitHubClient, RunnerTarget } from '../../github/client.ts';
import { isNotFound, type KubeClients } from '../../k8s/client.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import { PermanentError } from '../../util/errors.ts';
import type { LifecycleStore } from '../lifecycle/store.ts';
import { timeOf } from '../warm-pool/observe.ts';
import { RUNNER_SELECTOR, runnerNameOf } from '../watcher/runner-ref.ts';
import type { RunnerState } from '../watcher/runner-watcher.ts';
import { PassBudget } from './budget.ts';
import type { SweepMetrics } from './metrics.ts';
import { planOrphans, type ObservedJob, type ObservedRunner, type OrphanAction } from './plan-orphans.ts';
import type { OrphanSettings } from './settings.ts';

/** Runner names runs-fleet registers start with this (provision.ts runnerName); other runners are never touched. */
export const RUNNER_NAME_PREFIX = 'rf-';

export interface OrphanDeps {
  kube: Pick<KubeClients, 'core' | 'batch'>;
  namespace: string;
  store: LifecycleStore;
  github: Pick<GitHubClient, 'listRunners' | 'deleteRunner'>;
  /** The watcher's caches: runner Jobs, and whether they are complete yet. */
  watcher: { runnerJobs(): readonly V1Job[]; runnerState(name: string): RunnerState; synced(): boolean };
  clock: Clock;
  log: Logger;
  metrics: SweepMetrics;
}

export const ORPHANS = 'orphans';

/** Removes runner Secrets without Jobs, finished Jobs that escaped their TTL, and registered runners with no pod (or no job). */
export class OrphanSweep {
  private cursor = 0;

  constructor(private readonly d: OrphanDeps, private readonly s: OrphanSettings) {}

  async run(signal: AbortSignal): Promise<void> {
    const { store, clock, watcher, log } = this.d;
    // An empty cache would make every registered runner and Secret look orphaned.
    if (!watcher.synced()) {
      log.info({ sweep: ORPHANS }, 'runner caches not synced yet; orphan sweep skipped');
      return;
    }
    const now = clock.now();
    const jobs = watcher.runnerJobs().map((j) => observeJob(j, watcher));
    const secrets = await this.secrets();
    const runners = await this.runners(signal, now);
    const tookJob = new Set((await store.runnerJobs(runners.map((r) => r.name))).keys());
    const previous = await store.orphansSeen();
    const plan = planOrphans({ secrets, jobs, runners, tookJob, orphanSeen: previous }, now, this.s);
    // Keep first-seen times of runners in scopes not listed this pass.
    const listed = new Set(runners.map((r) => r.name));
    for (const [name, at] of previous) if (!listed.has(name)) plan.orphanSeen.set(name, at);
    await store.setOrphansSeen(plan.orphanSeen);

    const budget = new PassBudget(ORPHANS, this.s, store, now, this.d.metrics);
    for (const action of plan.actions) {
      if (signal.aborted) return;
      if (!(await budget.take())) {
        log.warn({ sweep: ORPHANS, left: plan.actions.length }, 'sweep cap reached; the rest waits for the next pass');
        return;
      }
      if (await this.act(action, signal)) {
        this.d.metrics.actions.inc({ sweep: ORPHANS, kind: action.kind });
        log.info({ sweep: ORPHANS, kind: action.kind, name: action.name, why: action.why }, 'orphan removed');
      }
    }
  }

  private async secrets() {
    const list = await this.d.kube.core.listNamespacedSecret({ namespace: this.d.namespace, labelSelector: RUNNER_SELECTOR });
    return list.items.map((s) => ({ name: s.metadata?.name ?? '', createdAt: timeOf(s.metadata?.creationTimestamp) ?? 0 })).filter((s) => s.name);
  }

  /** Registered runs-fleet runners in a rotating window of the known scopes. */
  private async runners(signal: AbortSignal, now: number): Promise<ObservedRunner[]> {
    const targets = new Map<string, RunnerTarget>();
    for (const r of await this.d.store.repos(now - 7 * 86_400_000)) {
      const [owner = '', repo = ''] = r.repository.split('/');
      const t: RunnerTarget = r.org ? { scope: 'org', owner, installationId: r.installationId } : { scope: 'repo', owner, repo, installationId: r.installationId };
      targets.set(r.org ? `org:${owner}` : `repo:${r.repository}`, t);
    }
    const all = [...targets.values()];
    const start = all.length > this.s.maxScopesPerPass ? this.cursor % all.length : 0;
    this.cursor = start + this.s.maxScopesPerPass;
    const picked = all.length > this.s.maxScopesPerPass ? [...all, ...all].slice(start, start + this.s.maxScopesPerPass) : all;
    const out: ObservedRunner[] = [];
    for (const target of picked) {
      if (signal.aborted) break;
      const runners = await this.d.github.listRunners(target, { signal });
      for (const r of runners)
        if (r.name.startsWith(RUNNER_NAME_PREFIX)) out.push({ target, id: r.id, name: r.name, busy: r.busy, status: r.status });
    }
    return out;
  }

  private async act(a: OrphanAction, signal: AbortSignal): Promise<boolean> {
    const { kube, namespace, github } = this.d;
    switch (a.kind) {
      case 'delete_secret':
        return ignoreNotFound(() => kube.core.deleteNamespacedSecret({ name: a.name, namespace }));
      case 'delete_job':
        return ignoreNotFound(() => kube.batch.deleteNamespacedJob({ name: a.name, namespace, propagationPolicy: 'Background' }));
      case 'delete_runner':
        return unregister(github, a.target, a.id, signal);
      case 'delete_idle_runner':
        // Busy after all (it just took a job): leave it and its Job alone.
        if (!(await unregister(github, a.target, a.id, signal))) return false;
        return ignoreNotFound(() => kube.batch.deleteNamespacedJob({ name: a.job, namespace, propagationPolicy: 'Background' }));
    }
  }
}

function observeJob(job: V1Job, watcher: OrphanDeps['watcher']): ObservedJob {
  const name = job.metadata?.name ?? '';
  const ended = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const state = watcher.runnerState(name);
  return {
    name,
    createdAt: timeOf(job.metadata?.creationTimestamp) ?? 0,
    finishedAt: ended ? (timeOf(job.status?.completionTime) ?? timeOf(ended.lastTransitionTime) ?? 0) : undefined,
    runnerName: runnerNameOf(job),
    runningSince: state.state === 'running' ? state.runningSince : undefined,
  };
}

async function ignoreNotFound(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function unregister(github: OrphanDeps['github'], target: RunnerTarget, runnerId: number, signal: AbortSignal): Promise<boolean> {
  try {
    return await github.deleteRunner({ ...target, runnerId }, { signal });
  } catch (err) {
    if (err instanceof PermanentError && err.reason === 'github_runner_busy') return false;
    throw err;
  }
}
