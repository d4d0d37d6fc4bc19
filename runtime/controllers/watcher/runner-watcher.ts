import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { findClass, type ConfigDocument } from '../../config/document.ts';
import type { GitHubClient } from '../../github/client.ts';
import { isNotFound, type KubeClients } from '../../k8s/client.ts';
import type { Logger } from '../../log.ts';
import type { JobRecord, JobRecords } from '../../queue/job-records.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';
import { PermanentError } from '../../util/errors.ts';
import type { LifecycleStore } from '../lifecycle/store.ts';
import { classifyFailure, type Failure } from './classify.ts';
import { createInformer, type Informer } from './informer.ts';
import type { WatcherMetrics } from './metrics.ts';
import { NodeFactsCache, type NodeInfo } from './node-facts.ts';
import { jobRef, podJobName, podRef, RUNNER_SELECTOR, runnerNameOf, type RunnerRef } from './runner-ref.ts';
import { intervals, podStages, type IntervalName } from './stages.ts';

export interface WatcherDeps {
  kube: Pick<KubeClients, 'kc' | 'core' | 'batch'>;
  namespace: string;
  records: JobRecords;
  store: LifecycleStore;
  github: Pick<GitHubClient, 'deleteRunner'>;
  doc: () => ConfigDocument;
  /** Side effects (records, metrics, recovery, deletions) happen on the leader only. */
  isLeader: () => boolean;
  clock: Clock;
  log: Logger;
  metrics: WatcherMetrics;
  /** Every runner is looked at again this often (pending limits are time-based). */
  resyncMs?: number;
}

export type RunnerState = { state: 'none' | 'pending' | 'running' | 'ended'; runningSince?: number };

interface PodEntry {
  pod: V1Pod;
  gone: boolean;
  at: number;
}

const PRE_RUN: readonly IntervalName[] = ['queue_wait', 'provision', 'node_provisioning', 'scheduling', 'container_start', 'webhook_to_running'];
const DEFAULT_PENDING_LIMIT_S = 600;
/** Last states of deleted pods are kept this long (a lost pod is classified from its last state). */
const GONE_KEEP_MS = 30 * 60_000;

/**
 * Watches runner Jobs and Pods on every replica (so a new leader starts with warm caches)
 * and, on the leader only, reconciles each runner: stamps its stages on the job record and
 * the latency histograms (once per runner object), classifies failures, removes runners
 * stuck pending past their class limit, and hands runners lost to infrastructure to recovery.
 * Level-triggered: every runner is reconciled again each resync, and all of them when
 * leadership is gained; every step is idempotent.
 */
export class RunnerWatcher {
  private readonly jobs: Informer<V1Job>;
  private readonly pods: Informer<V1Pod>;
  private readonly podIndex = new Map<string, PodEntry>();
  private readonly nodes: NodeFactsCache;
  private readonly queue = new Set<string>();
  private readonly scheduled = new Set<string>();
  private readonly reposNoted = new Map<string, number>();
  private readonly stopped = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastResync = 0;

  constructor(private readonly d: WatcherDeps) {
    const ns = d.namespace;
    const common = { kc: d.kube.kc, labelSelector: RUNNER_SELECTOR, clock: d.clock, log: d.log, metrics: d.metrics };
    this.jobs = createInformer<V1Job>({
      ...common, resource: 'jobs', path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      list: () => d.kube.batch.listNamespacedJob({ namespace: ns, labelSelector: RUNNER_SELECTOR }),
      onEvent: (_e, job) => this.enqueue(job.metadata?.name),
    });
    this.pods = createInformer<V1Pod>({
      ...common, resource: 'pods', path: `/api/v1/namespaces/${ns}/pods`,
      list: () => d.kube.core.listNamespacedPod({ namespace: ns, labelSelector: RUNNER_SELECTOR }),
      onEvent: (e, pod) => this.onPod(e === 'delete', pod),
    });
    this.nodes = new NodeFactsCache(d.kube.core, d.clock);
  }

  start(): void {
    if (this.loop) throw new Error('runner watcher already started');
    this.jobs.start();
    this.pods.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake?.();
    await Promise.all([this.jobs.stop(), this.pods.stop()]);
    await this.loop;
  }

  /** Leadership gained: look at every runner, the previous leader may have missed some. */
  resyncAll(): void {
    for (const job of this.jobs.list()) this.enqueue(job.metadata?.name);
    for (const name of this.podIndex.keys()) this.enqueue(name);
  }

  /** Runs one full pass now and waits for it (tests, and the first pass of a new leader). */
  async reconcileAll(signal: AbortSignal = this.stopped.signal): Promise<void> {
    this.resyncAll();
    await this.drain(signal);
  }

  /** Where the runner object stands, from the caches (for the sweeps). */
  runnerState(objectName: string | undefined): RunnerState {
    if (!objectName) return { state: 'none' };
    const job = this.jobs.get(objectName, this.d.namespace);
    const entry = this.podIndex.get(objectName);
    const finished = job?.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (!job || finished) return { state: job || entry ? 'ended' : 'none' };
    const pod = entry && !entry.gone ? entry.pod : undefined;
    if (!pod) return { state: 'pending' };
    const phase = pod.status?.phase;
    if (phase === 'Running') {
      const started = podStages(pod, undefined, this.d.clock.now()).runningAt;
      return { state: 'running', runningSince: started };
    }
    return { state: phase === 'Pending' ? 'pending' : 'ended' };
  }

  runnerJobs(): readonly V1Job[] {
    return this.jobs.list();
  }

  synced(): boolean {
    return this.jobs.synced() && this.pods.synced();
  }

  private onPod(deleted: boolean, pod: V1Pod): void {
    const name = podJobName(pod);
    if (!name) return;
    this.podIndex.set(name, { pod, gone: deleted, at: this.d.clock.now() });
    this.enqueue(name);
  }

  private enqueue(name: string | undefined): void {
    if (!name || !this.d.isLeader()) return;
    this.queue.add(name);
    this.wake?.();
  }

  private async run(): Promise<void> {
    const resyncMs = this.d.resyncMs ?? 30_000;
    while (!this.stopped.signal.aborted) {
      if (this.d.isLeader() && this.d.clock.now() - this.lastResync >= resyncMs) {
        this.lastResync = this.d.clock.now();
        this.forgetGone();
        this.resyncAll();
      }
      await this.drain(this.stopped.signal);
      await this.idle(resyncMs);
    }
  }

  private async idle(ms: number): Promise<void> {
    if (this.queue.size) return;
    const nap = new AbortController();
    this.wake = () => nap.abort();
    try {
      await this.d.clock.sleep(ms, AbortSignal.any([nap.signal, this.stopped.signal]));
    } catch (err) {
      if (!isAbortError(err)) throw err;
    } finally {
      this.wake = undefined;
    }
  }

  private async drain(signal: AbortSignal): Promise<void> {
    while (this.queue.size && !signal.aborted) {
      if (!this.d.isLeader()) {
        this.queue.clear();
        return;
      }
      const name = this.queue.values().next().value!;
      this.queue.delete(name);
      try {
        await this.reconcile(name);
      } catch (err) {
        this.d.log.warn({ runner: name, err: { message: (err as Error).message } }, 'reconciling a runner failed; the next resync retries');
      }
    }
  }

  private forgetGone(): void {
    const now = this.d.clock.now();
    for (const [name, e] of this.podIndex)
      if (e.gone && now - e.at > GONE_KEEP_MS && !this.jobs.get(name, this.d.namespace)) this.podIndex.delete(name);
  }

  private async reconcile(name: string): Promise<void> {
    const job = this.jobs.get(name, this.d.namespace);
    const entry = this.podIndex.get(name);
    const pod = entry?.pod;
    const ref = (job && jobRef(job)) ?? (pod && podRef(pod));
    if (!ref) return;
    const node = pod?.spec?.nodeName ? await this.nodes.get(pod.spec.nodeName) : undefined;
    const record = await this.d.records.get(ref.jobId, ref.runAttempt);
    // A re-provisioned job's record follows its newest runner; older runner objects only report failures.
    const current = !!record && (!record.jobName || record.jobName === ref.objectName);
    if (record) await this.noteRepo(record);
    if (pod && current) await this.observeStages(ref, pod, node, record!);
    await this.observeFailure(ref, job, entry, node, record, current);
  }

  private async observeStages(ref: RunnerRef, pod: V1Pod, node: NodeInfo | undefined, record: JobRecord): Promise<void> {
    const { records, store, metrics } = this.d;
    const s = podStages(pod, node?.node, this.d.clock.now());
    const start = s.start ?? record.start ?? 'unknown';
    const labels = { class: ref.className, start };
    if (s.scheduledAt !== undefined && !s.runningAt && (await store.first(ref.objectName, 'scheduled')))
      await records.update(ref.jobId, ref.runAttempt, { start: s.start }, { scheduledAt: s.scheduledAt, nodeReadyAt: s.nodeReadyAt });
    if (s.runningAt !== undefined && (await store.first(ref.objectName, 'running'))) {
      const stages = { scheduledAt: s.scheduledAt, nodeReadyAt: s.nodeReadyAt, runningAt: s.runningAt };
      await records.update(ref.jobId, ref.runAttempt, { start: s.start }, stages);
      // A re-provisioned runner's intervals would include the loss: counted as retries, not as latency.
      if (ref.reprovision === 0)
        for (const [stage, secs] of intervals({ ...record.stages, ...defined(stages) }, start === 'cold' ? PRE_RUN : PRE_RUN.filter((n) => n !== 'node_provisioning')))
          metrics.stageSeconds.observe({ ...labels, stage }, secs);
    }
    if (s.finishedAt !== undefined && (await store.first(ref.objectName, 'finished'))) {
      await records.stampOnce(ref.jobId, ref.runAttempt, 'finishedAt', s.finishedAt);
      for (const [stage, secs] of intervals({ runningAt: s.runningAt ?? record.stages.runningAt, finishedAt: s.finishedAt }, ['run']))
        metrics.stageSeconds.observe({ ...labels, stage }, secs);
    }
  }

  private async observeFailure(
    ref: RunnerRef, job: V1Job | undefined, entry: PodEntry | undefined, node: NodeInfo | undefined, record: JobRecord | undefined, current: boolean,
  ): Promise<void> {
    const { store, metrics, log, clock } = this.d;
    const cls = findClass(this.d.doc(), ref.className);
    const failure = classifyFailure({
      pod: entry?.pod, job, node, podGone: entry?.gone, now: clock.now(),
      pendingLimitMs: (cls?.pendingTimeoutSeconds ?? DEFAULT_PENDING_LIMIT_S) * 1000,
    });
    if (!failure) return;
    if (failure.stuck && job && !(await this.removeStuck(ref, job, record, current, failure))) return;
    if (await store.first(ref.objectName, 'failure')) {
      metrics.failures.inc({ kind: failure.kind, class: ref.className });
      const line = { runner: ref.objectName, jobId: ref.jobId, runAttempt: ref.runAttempt, kind: failure.kind, detail: failure.detail };
      if (failure.infrastructure) log.warn(line, 'runner lost to infrastructure');
      else log.info(line, 'runner failed on its own; not retried');
      if (current) await this.d.records.update(ref.jobId, ref.runAttempt, { failure: failure.kind });
    }
    if (!failure.infrastructure || this.scheduled.has(ref.objectName)) return;
    await store.schedule(
      {
        objectName: ref.objectName, jobId: ref.jobId, runAttempt: ref.runAttempt, className: ref.className, kind: failure.kind,
        detail: failure.detail, runnerName: runnerNameOf(job) ?? (current ? record?.runnerName : undefined), lostAt: clock.now(),
      },
      clock.now(),
    );
    this.scheduled.add(ref.objectName);
    if (this.scheduled.size > 10_000) this.scheduled.delete(this.scheduled.values().next().value!);
  }

  /**
   * A runner pending past its limit never started: unregister it from GitHub first (GitHub
   * refuses while it runs a job, and then it is not stuck after all), then delete its Job.
   * Returns false when it turned out to be busy.
   */
  private async removeStuck(ref: RunnerRef, job: V1Job, record: JobRecord | undefined, current: boolean, failure: Failure): Promise<boolean> {
    const { github, kube, namespace, log, metrics } = this.d;
    if (current && record?.runnerId && record.installationId && record.repository) {
      const [owner = '', repo = ''] = record.repository.split('/');
      try {
        await github.deleteRunner({
          scope: record.scope === 'org' ? 'org' : 'repo', owner, repo, installationId: Number(record.installationId), runnerId: Number(record.runnerId),
        });
      } catch (err) {
        if (err instanceof PermanentError && err.reason === 'github_runner_busy') return false;
        throw err;
      }
    }
    if (job.metadata?.deletionTimestamp) return true;
    try {
      await kube.batch.deleteNamespacedJob({ name: ref.objectName, namespace, propagationPolicy: 'Background' });
      metrics.stuckRemoved.inc({ kind: failure.kind });
      log.warn({ runner: ref.objectName, kind: failure.kind, detail: failure.detail }, 'stuck runner removed');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return true;
  }

  private async noteRepo(record: JobRecord): Promise<void> {
    if (!record.repository || !record.installationId) return;
    const now = this.d.clock.now();
    if (now - (this.reposNoted.get(record.repository) ?? -Infinity) < 10 * 60_000) return;
    this.reposNoted.set(record.repository, now);
    await this.d.store.noteRepo({ repository: record.repository, installationId: Number(record.installationId), org: record.scope === 'org' }, now);
  }
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
