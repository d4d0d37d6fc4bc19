import type { Registry } from 'prom-client';
import type { Valkey } from 'iovalkey';
import type { ConfigDocument } from '../../config/document.ts';
import type { GitHubClient } from '../../github/client.ts';
import type { WorkflowJobEvent } from '../../ingress/payload.ts';
import type { KubeClients } from '../../k8s/client.ts';
import { parseRunsOn } from '../../labels/parse.ts';
import type { Logger } from '../../log.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { Clock } from '../../util/clock.ts';
import { LeaderElector } from '../leader/elector.ts';
import type { ElectionTiming } from '../leader/lease-decision.ts';
import { createLeaderMetrics } from '../leader/metrics.ts';
import { createRecoveryMetrics } from '../recovery/metrics.ts';
import { DEFAULT_POLICY, type RecoveryPolicy } from '../recovery/plan.ts';
import { recoverDue } from '../recovery/recover.ts';
import { createSweepMetrics } from '../sweeps/metrics.ts';
import { ORPHANS, OrphanSweep, RUNNER_NAME_PREFIX } from '../sweeps/orphans.ts';
import { REDELIVERIES, RedeliverySweep } from '../sweeps/redeliveries.ts';
import { sweepSettings, type SweepOverrides } from '../sweeps/settings.ts';
import { STALE_QUEUED, StaleQueuedSweep } from '../sweeps/stale-queued.ts';
import { createWatcherMetrics } from '../watcher/metrics.ts';
import { RunnerWatcher } from '../watcher/runner-watcher.ts';
import { LeaderLoop } from './leader-loop.ts';
import { LifecycleStore } from './store.ts';

/** The leader Lease every replica of one deployment contends for. */
export const DEFAULT_LEASE_NAME = 'runs-fleet-leader';

export interface LifecycleDeps {
  kube: KubeClients;
  github: GitHubClient;
  queue: JobQueue;
  records: JobRecords;
  /** The command connection (never the blocking one). */
  valkey: Valkey;
  /** The queue's key prefix. */
  prefix: string;
  runnerNamespace: string;
  /** Where the leader Lease lives: the orchestrator's own namespace. */
  leaseNamespace: string;
  /** This replica (pod name): Lease holder. */
  identity: string;
  doc: () => ConfigDocument;
  clock: Clock;
  log: Logger;
  registry: Registry;
}

export interface LifecycleOptions {
  leaseName?: string;
  timing?: Partial<ElectionTiming>;
  /** How often every runner is reconciled again (30 s). */
  resyncMs?: number;
  /** How often due recoveries are processed (5 s). */
  recoverEveryMs?: number;
  /** Waiting for GitHub to conclude a job whose runner was lost mid-run. Counts come from the config document. */
  recovery?: Partial<Pick<RecoveryPolicy, 'concludeWithinMs' | 'recheckMs' | 'recheckMaxMs'>>;
  sweeps?: SweepOverrides;
}

export const TASK = { recovery: 'recovery', staleQueued: STALE_QUEUED, orphans: ORPHANS, redeliveries: REDELIVERIES } as const;

export interface Lifecycle {
  readonly elector: LeaderElector;
  readonly watcher: RunnerWatcher;
  readonly store: LifecycleStore;
  isLeader(): boolean;
  /** Feed of in_progress / completed webhooks: which runner took which job, and re-run marking. */
  noteJobEvent(event: WorkflowJobEvent): Promise<void>;
  /** Runs one leader task now (recovery, stale_queued, orphans, redeliveries); a no-op while following. */
  runNow(task: (typeof TASK)[keyof typeof TASK]): Promise<void>;
  /** Stops leader work, the informers, and releases the Lease (memoised). */
  stop(): Promise<void>;
}

/**
 * The runner lifecycle: leader election, the runner watcher (every replica watches; the
 * leader acts), recovery of runners lost to infrastructure, and the rate-capped sweeps.
 */
export async function startLifecycle(d: LifecycleDeps, o: LifecycleOptions = {}): Promise<Lifecycle> {
  const { clock, log: baseLog, registry } = d;
  const log = baseLog.child({ component: 'lifecycle' });
  const store = new LifecycleStore(d.valkey, d.prefix, d.queue.keys);
  const classify = (labels: string[]) => parseRunsOn(labels, d.doc().aliases);
  const policy = (): RecoveryPolicy => ({ ...DEFAULT_POLICY, ...o.recovery, maxInfraRetries: d.doc().runner.maxInfraRetries, maxReprovisions: d.doc().runner.maxReprovisions });
  const sweepMetrics = createSweepMetrics(registry);
  const recoveryMetrics = createRecoveryMetrics(registry);
  const settings = sweepSettings(o.sweeps);

  const elector = new LeaderElector({
    coordination: d.kube.coordination, namespace: d.leaseNamespace, name: o.leaseName ?? DEFAULT_LEASE_NAME, identity: d.identity,
    clock, log, metrics: createLeaderMetrics(registry), timing: o.timing,
  });
  const isLeader = () => elector.isLeader();
  const watcher = new RunnerWatcher({
    kube: d.kube, namespace: d.runnerNamespace, records: d.records, store, github: d.github, doc: d.doc, isLeader, clock, log,
    metrics: createWatcherMetrics(registry), resyncMs: o.resyncMs,
  });
  const staleQueued = new StaleQueuedSweep({
    store, records: d.records, queue: d.queue, github: d.github, runnerState: (n) => watcher.runnerState(n), classify,
    maxReprovisions: () => policy().maxReprovisions, clock, log, metrics: sweepMetrics,
  }, settings.staleQueued);
  const orphans = new OrphanSweep({ kube: d.kube, namespace: d.runnerNamespace, store, github: d.github, watcher, clock, log, metrics: sweepMetrics }, settings.orphans);
  const redeliveries = new RedeliverySweep({ store, github: d.github, clock, log, metrics: sweepMetrics }, settings.redeliveries);
  const tasks = [
    {
      name: TASK.recovery, everyMs: o.recoverEveryMs ?? 5_000,
      run: (signal: AbortSignal) => recoverDue({ store, records: d.records, github: d.github, classify, policy, clock, log, metrics: recoveryMetrics }, signal),
    },
    { name: TASK.staleQueued, everyMs: settings.staleQueued.everyMs, run: (signal: AbortSignal) => staleQueued.run(signal) },
    { name: TASK.orphans, everyMs: settings.orphans.everyMs, run: (signal: AbortSignal) => orphans.run(signal) },
    { name: TASK.redeliveries, everyMs: settings.redeliveries.everyMs, run: (signal: AbortSignal) => redeliveries.run(signal) },
  ];
  const loop = new LeaderLoop(tasks, { clock, log, metrics: sweepMetrics, term: () => elector.term() });

  elector.onChange((leading) => {
    if (leading) watcher.resyncAll();
    loop.wake();
  });
  watcher.start();
  elector.start();
  loop.start();

  let stopping: Promise<void> | undefined;
  return {
    elector, watcher, store,
    isLeader,
    noteJobEvent: (event) => noteJobEvent(event, store, d.records, classify, d.doc, clock),
    runNow: (task) => loop.runNow(task),
    stop: () => (stopping ??= (async () => {
      // Leader work first (it aborts with the term), then the watches, then hand the Lease over.
      await loop.stop();
      await watcher.stop();
      await elector.stop();
    })()),
  };
}

async function noteJobEvent(
  e: WorkflowJobEvent, store: LifecycleStore, records: JobRecords, classify: (labels: string[]) => unknown, doc: () => ConfigDocument, clock: Clock,
): Promise<void> {
  let ours: boolean;
  try {
    ours = !!classify(e.labels);
  } catch {
    ours = false;
  }
  if (!ours) return;
  if (e.installationId !== undefined)
    await store.noteRepo({ repository: e.repository, installationId: e.installationId, org: !!e.org && doc().runner.scope === 'org' }, clock.now());
  if (e.action === 'in_progress' && e.runnerName?.startsWith(RUNNER_NAME_PREFIX))
    await store.noteRunnerJob(e.runnerName, { jobId: e.jobId, runAttempt: e.runAttempt, repository: e.repository });
  if (!e.jobName) return;
  const lineage = await store.lineage(e.repository, e.runId, e.jobName);
  // A later attempt of a job we re-ran for infrastructure: mark its record too.
  if (lineage && e.runAttempt > lineage.lostAttempt) await records.update(e.jobId, e.runAttempt, { infraRetries: String(lineage.reruns) });
}
