import type { V1Job } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { ConfigDocument } from '../../config/document.ts';
import type { GitHubClient } from '../../github/client.ts';
import { RunnerNameConflictError } from '../../github/errors.ts';
import { resolveRunner } from '../../labels/resolve.ts';
import type { ResolvedRunner, RunnerRequest } from '../../labels/types.ts';
import type { Logger } from '../../log.ts';
import { buildJitSecret, buildRunnerJob, runnerObjectName } from '../../k8s/build-runner-job.ts';
import { isAlreadyExists, isNotFound, isTransient, type KubeClients } from '../../k8s/client.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { QueueEntry, QueuedJob } from '../../queue/types.ts';
import type { Clock } from '../../util/clock.ts';
import { RetryableError } from '../../util/errors.ts';
import { jobStage } from '../../util/job-stages.ts';
import { retry } from '../../util/retry.ts';
import { RUNNER_NAME_PREFIX } from '../sweeps/orphans.ts';
import type { ProvisionerMetrics } from './metrics.ts';
import { removeRunnerObjects, type RunnerObjects } from './teardown.ts';

/** What provisioning needs from GitHub: a JIT runner config for one job, and removing a runner nobody will use. */
export type JitIssuer = Pick<GitHubClient, 'generateJitConfig' | 'deleteRunner' | 'findRunnerByName'>;

export interface ProvisionDeps {
  kube: Pick<KubeClients, 'core' | 'batch'>;
  github: JitIssuer;
  records: JobRecords;
  doc: () => ConfigDocument;
  namespace: string;
  clock: Clock;
  log: Logger;
  metrics: ProvisionerMetrics;
  signal?: AbortSignal;
  /** The runner image new runners use (a followed release); the class template's when absent. */
  runnerImage?: () => string;
}

/** `finished`: the job ended on GitHub (cancelled) while it was provisioned; what was made is removed again. */
export type ProvisionOutcome = 'created' | 'existed' | 'finished';

const K8S_RETRY = { attempts: 6, baseMs: 100, maxMs: 5_000, retryable: isTransient } as const;
const GITHUB_RETRY = { attempts: 6, baseMs: 250, maxMs: 15_000 } as const;

/**
 * One queued job → its runner: resolve the class, get a JIT config, create the Secret and
 * the Job (in parallel: the Job's pod needs the Secret only once its runner container
 * starts), then make the Job own the Secret so they are garbage-collected together.
 * Idempotent: on a redelivery an existing Job with its Secret means done. Throws
 * PermanentError (e.g. LabelError) for a job that can never succeed, other errors when
 * retries ran out.
 *
 * The Job is not created before the JIT config on purpose: measured, it made the whole
 * step slower (docs/benchmarks.md), and a pod that outruns its Secret by more than the
 * sidecar's start-up waits out the kubelet's 10 s back-off.
 */
export async function provision(entry: QueueEntry, deps: ProvisionDeps): Promise<ProvisionOutcome> {
  const { job } = entry;
  jobStage(job.jobId, job.runAttempt, 'provisioning');
  const doc = deps.doc();
  const runner = resolveRunner(job.request as RunnerRequest, doc);
  const name = runnerObjectName(job);
  const log = deps.log.child({ jobId: job.jobId, runAttempt: job.runAttempt, class: runner.className, name });
  // Bookkeeping runs beside the critical path; it is awaited before the job counts as done.
  // False when the job already finished on GitHub (cancelled while it waited in the queue).
  // An entry handed over in its enqueue step was marked dequeued there, unfinished.
  const dequeued = entry.handedOff === 'dequeued'
    ? Promise.resolve(true)
    : deps.records.updateUnlessFinished(job.jobId, job.runAttempt, { status: 'dequeued', className: runner.className, pool: runner.pool }, { dequeuedAt: deps.clock.now() });
  dequeued.catch(() => {});

  // Only a redelivered entry can find its objects already made; first deliveries skip the reads.
  if (entry.deliveries > 1) {
    const existing = await readJob(name, deps);
    if (existing && (await secretExists(name, deps))) {
      await adoptSecret(name, existing, deps);
      await dequeued;
      log.info('runner Job already existed (redelivery)');
      deps.metrics.provisioned.inc({ class: runner.className, outcome: 'existed' });
      return 'existed';
    }
  }

  // The dequeued check gates the JIT call but runs beside its rate-limit reservation (one
  // Valkey round trip fewer): a job already finished on GitHub gets no runner registered.
  const notFinished = dequeued.then((ok) => { if (!ok) throw new JobFinishedError(); });
  notFinished.catch(() => {});
  let jit: Awaited<ReturnType<typeof issueJit>>;
  try {
    jit = await issueJit(entry, runner, doc, deps, notFinished);
  } catch (err) {
    if (err instanceof JobFinishedError) return finished(job, {}, runner.className, deps, log);
    throw err;
  }
  jobStage(job.jobId, job.runAttempt, 'jit_issued');
  const made = { jobName: name, runnerId: jit.runnerId, scope: jit.scope };
  const input = { job, runner, doc, namespace: deps.namespace, runnerName: jit.runnerName, runnerImage: deps.runnerImage?.() };
  const { job: jobBody } = buildRunnerJob(input);
  const secret = buildJitSecret({ ...input, encodedJitConfig: jit.encodedJitConfig });
  // What is being made is recorded beside the POSTs, not before them (one Valkey round trip
  // fewer on every job's path): a cancellation that lands before this write finds the job
  // finished here and removes what the POSTs made; one that lands after it finds the names.
  const intent = deps.records.updateUnlessFinished(job.jobId, job.runAttempt, {
    runnerName: jit.runnerName, runnerId: String(jit.runnerId), repository: job.repository, jobName: name,
    scope: jit.scope, installationId: String(job.installationId), className: runner.className, pool: runner.pool,
  });
  intent.catch(() => {});
  jobStage(job.jobId, job.runAttempt, 'objects_sent');
  const [created] = await Promise.all([
    createOrGet(() => deps.kube.batch.createNamespacedJob({ namespace: deps.namespace, body: jobBody }), () => readJob(name, deps), deps),
    createOrGet(() => deps.kube.core.createNamespacedSecret({ namespace: deps.namespace, body: secret }), async () => undefined, deps),
  ]);
  if (!(await intent)) return finished(job, made, runner.className, deps, log);
  const now = deps.clock.now();
  deps.metrics.latency.observe({ class: runner.className }, (now - job.receivedAt) / 1000);
  await adoptSecret(name, created!, deps);
  if (!(await deps.records.updateUnlessFinished(job.jobId, job.runAttempt, { status: 'job_created' }, { jobCreatedAt: now })))
    return finished(job, made, runner.className, deps, log);
  deps.metrics.provisioned.inc({ class: runner.className, outcome: 'created' });
  log.info({ runnerName: jit.runnerName, cpu: runner.cpu, memoryGiB: runner.memoryGiB, warnings: runner.warnings }, 'runner Job created');
  return 'created';
}

/** The job finished on GitHub while it was provisioned: remove what was made (the cancellation handler may remove it too). */
async function finished(
  job: QueuedJob, made: Omit<RunnerObjects, 'owner' | 'repo' | 'installationId'>, className: string, deps: ProvisionDeps, log: Logger,
): Promise<'finished'> {
  await removeRunnerObjects({ ...made, owner: job.owner, repo: job.repo, installationId: job.installationId }, deps);
  await deps.records.update(job.jobId, job.runAttempt, { status: 'cancelled_cleaned' });
  deps.metrics.provisioned.inc({ class: className, outcome: 'finished' });
  log.info({ removed: Object.keys(made) }, 'job finished on GitHub while it was provisioned; what was made is removed');
  return 'finished';
}

/** The job finished on GitHub before its JIT call went out. */
class JobFinishedError extends Error {
  override name = 'JobFinishedError';
}

async function issueJit(entry: QueueEntry, runner: ResolvedRunner, doc: ConfigDocument, deps: ProvisionDeps, beforeSend: Promise<void>) {
  const { job } = entry;
  // Org-scoped runners need an organisation; a user-owned repository gets a repo-scoped runner.
  const scope: 'org' | 'repo' = doc.runner.scope === 'org' && job.org ? 'org' : 'repo';
  const target = { scope, owner: job.owner, repo: job.repo, installationId: job.installationId };
  // The same name on every try: a try whose reply was lost left a runner under it, found below.
  let name = runnerName(runner.className, job.jobId, job.runAttempt, job.requeue?.count);
  const jit = await retry(
    async () => {
      try {
        return await deps.github.generateJitConfig(
          { ...target, name, runnerGroupId: doc.runner.runnerGroupId, labels: runner.jitLabels },
          { signal: deps.signal, beforeSend },
        );
      } catch (err) {
        if (!(err instanceof RunnerNameConflictError)) throw err;
        // An earlier try (its reply lost to a timeout or a dropped connection) registered this
        // name. Its JIT config is gone with the reply, so the runner cannot be started: delete it
        // and register again, keeping registrations equal to Jobs. A busy one took a job already
        // (GitHub gives a runner any job its labels fit): leave it and use a fresh name.
        const stale = await deps.github.findRunnerByName({ ...target, name }, { signal: deps.signal });
        if (stale?.busy) name = uniqueRunnerName(runner.className, job.jobId, job.runAttempt);
        else if (stale) await deps.github.deleteRunner({ ...target, runnerId: stale.id }, { signal: deps.signal });
        deps.metrics.lostJitReplies.inc({ outcome: stale?.busy ? 'renamed' : 'deleted' });
        throw new RetryableError(err.message, { cause: err });
      }
    },
    { ...GITHUB_RETRY, clock: deps.clock, signal: deps.signal },
  );
  return { ...jit, scope };
}

/**
 * `rf-<class>-<job>-<attempt>[-r<requeue>]`: one name per job, attempt and requeue, the same on
 * every try, so a runner left by a try whose reply was lost is found by name. At most 64 characters.
 */
export function runnerName(className: string, jobId: number, runAttempt: number, requeue?: number): string {
  const suffix = `-${jobId}-${runAttempt}${requeue ? `-r${requeue}` : ''}`;
  return `${RUNNER_NAME_PREFIX}${className}`.slice(0, 64 - suffix.length) + suffix;
}

/** A name no earlier try used (random suffix), for when the deterministic one is held by a busy runner. */
function uniqueRunnerName(className: string, jobId: number, runAttempt: number): string {
  const suffix = `-${jobId}-${runAttempt}-${randomBytes(3).toString('hex')}`;
  return `${RUNNER_NAME_PREFIX}${className}`.slice(0, 64 - suffix.length) + suffix;
}

async function createOrGet<T>(create: () => Promise<T>, get: () => Promise<T | undefined>, deps: ProvisionDeps): Promise<T | undefined> {
  return retry(
    async () => {
      try {
        return await create();
      } catch (err) {
        if (isAlreadyExists(err)) return get();
        throw err;
      }
    },
    { ...K8S_RETRY, clock: deps.clock, signal: deps.signal },
  );
}

async function readJob(name: string, deps: ProvisionDeps): Promise<V1Job | undefined> {
  return retry(
    async () => {
      try {
        return await deps.kube.batch.readNamespacedJob({ name, namespace: deps.namespace });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    { ...K8S_RETRY, clock: deps.clock, signal: deps.signal },
  );
}

async function secretExists(name: string, deps: ProvisionDeps): Promise<boolean> {
  return retry(
    async () => {
      try {
        await deps.kube.core.readNamespacedSecret({ name, namespace: deps.namespace });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    { ...K8S_RETRY, clock: deps.clock, signal: deps.signal },
  );
}

/** Makes the Job the Secret's owner, so deleting the Job (or its TTL) removes the JIT config too. */
async function adoptSecret(name: string, job: V1Job, deps: ProvisionDeps): Promise<void> {
  const uid = job.metadata?.uid;
  if (!uid) return;
  const ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: false }];
  await retry(
    async () => {
      try {
        await deps.kube.core.patchNamespacedSecret(
          { name, namespace: deps.namespace, body: [{ op: 'add', path: '/metadata/ownerReferences', value: ownerReferences }] },
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    { ...K8S_RETRY, clock: deps.clock, signal: deps.signal },
  );
}
