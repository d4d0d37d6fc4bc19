import type { V1Job } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { ConfigDocument } from '../../config/document.ts';
import type { GitHubClient } from '../../github/client.ts';
import { RunnerNameConflictError } from '../../github/errors.ts';
import { resolveRunner } from '../../labels/resolve.ts';
import type { ResolvedRunner, RunnerRequest } from '../../labels/types.ts';
import type { Logger } from '../../log.ts';
import { buildJitSecret, buildRunnerJob, runnerObjectName } from '../../k8s/build-runner-job.ts';
import { ANNOTATION } from '../../k8s/labels.ts';
import { isAlreadyExists, isNotFound, isTransient, type KubeClients } from '../../k8s/client.ts';
import type { JobRecords } from '../../queue/job-records.ts';
import type { QueueEntry } from '../../queue/types.ts';
import type { Clock } from '../../util/clock.ts';
import { PermanentError, RetryableError } from '../../util/errors.ts';
import { retry } from '../../util/retry.ts';
import type { ProvisionerMetrics } from './metrics.ts';

/** What provisioning needs from GitHub: a JIT runner config for one job. */
export type JitIssuer = Pick<GitHubClient, 'generateJitConfig'>;

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
}

export type ProvisionOutcome = 'created' | 'existed';

const K8S_RETRY = { attempts: 6, baseMs: 100, maxMs: 5_000, retryable: isTransient } as const;
const GITHUB_RETRY = { attempts: 6, baseMs: 250, maxMs: 15_000 } as const;

/**
 * One queued job → its runner: resolve the class, then create the Job while the JIT
 * config is fetched from GitHub (the pod is scheduled — and a node provisioned — during
 * that round trip, or during a rate-limit wait), create the Secret with the JIT config,
 * and make the Job own it so they are garbage-collected together. Idempotent: on a
 * redelivery an existing Job with its Secret means done. Throws PermanentError (e.g.
 * LabelError) for a job that can never succeed, other errors when retries ran out.
 */
export async function provision(entry: QueueEntry, deps: ProvisionDeps): Promise<ProvisionOutcome> {
  const { job } = entry;
  const doc = deps.doc();
  const runner = resolveRunner(job.request as RunnerRequest, doc);
  const name = runnerObjectName(job);
  const log = deps.log.child({ jobId: job.jobId, runAttempt: job.runAttempt, class: runner.className, name });
  // Bookkeeping runs beside the critical path; it is awaited before the job counts as done.
  const dequeued = deps.records.update(job.jobId, job.runAttempt, { status: 'dequeued', className: runner.className, pool: runner.pool }, { dequeuedAt: deps.clock.now() });
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

  const firstName = runnerName(runner.className, job.jobId, job.runAttempt);
  const { job: jobBody } = buildRunnerJob({ job, runner, doc, namespace: deps.namespace, runnerName: firstName });
  const created = createOrGet(() => deps.kube.batch.createNamespacedJob({ namespace: deps.namespace, body: jobBody }), () => readJob(name, deps), deps)
    .then((k8sJob) => ({ k8sJob: k8sJob!, at: deps.clock.now() }));
  created.catch(() => {});

  let jit: Awaited<ReturnType<typeof issueJit>>;
  try {
    jit = await issueJit(entry, runner, doc, deps, firstName);
  } catch (err) {
    // No runner will ever come for a job GitHub refuses: don't leave a pod waiting for its Secret.
    if (err instanceof PermanentError) await removeJob(name, created, deps);
    else await created.catch(() => {});
    throw err;
  }
  const secret = buildJitSecret({ job, runner, namespace: deps.namespace, runnerName: jit.runnerName, encodedJitConfig: jit.encodedJitConfig });
  const [{ k8sJob, at }] = await Promise.all([
    created,
    createOrGet(() => deps.kube.core.createNamespacedSecret({ namespace: deps.namespace, body: secret }), async () => undefined, deps),
  ]);
  deps.metrics.latency.observe({ class: runner.className }, (at - job.receivedAt) / 1000);
  // A GitHub name conflict (or a redelivery) can leave the Job naming another runner.
  if (k8sJob.metadata?.annotations?.[ANNOTATION.runnerName] !== jit.runnerName) await renameRunner(name, jit.runnerName, deps);
  await adoptSecret(name, k8sJob, deps);
  await dequeued;
  await deps.records.update(
    job.jobId, job.runAttempt,
    {
      status: 'job_created', runnerName: jit.runnerName, runnerId: String(jit.runnerId), repository: job.repository, jobName: name,
      scope: jit.scope, installationId: String(job.installationId),
    },
    { jobCreatedAt: at },
  );
  deps.metrics.provisioned.inc({ class: runner.className, outcome: 'created' });
  log.info({ runnerName: jit.runnerName, cpu: runner.cpu, memoryGiB: runner.memoryGiB, warnings: runner.warnings }, 'runner Job created');
  return 'created';
}

async function issueJit(entry: QueueEntry, runner: ResolvedRunner, doc: ConfigDocument, deps: ProvisionDeps, firstName: string) {
  const { job } = entry;
  // Org-scoped runners need an organisation; a user-owned repository gets a repo-scoped runner.
  const scope: 'org' | 'repo' = doc.runner.scope === 'org' && job.org ? 'org' : 'repo';
  const jit = await retry(
    async (attempt) => {
      // The first try uses the name already on the Job; a retry picks a fresh one, since a
      // lost response may have left the first name registered.
      const name = attempt === 1 ? firstName : runnerName(runner.className, job.jobId, job.runAttempt);
      try {
        return await deps.github.generateJitConfig(
          { scope, owner: job.owner, repo: job.repo, installationId: job.installationId, name, runnerGroupId: doc.runner.runnerGroupId, labels: runner.jitLabels },
          { signal: deps.signal },
        );
      } catch (err) {
        // A lost response to an earlier attempt leaves the name taken: try again with a fresh suffix.
        if (err instanceof RunnerNameConflictError) throw new RetryableError(err.message, { cause: err });
        throw err;
      }
    },
    { ...GITHUB_RETRY, clock: deps.clock, signal: deps.signal },
  );
  return { ...jit, scope };
}

/** `rf-<class>-<job>-<attempt>-<nonce>`: unique per job and attempt, at most 64 characters. */
export function runnerName(className: string, jobId: number, runAttempt: number): string {
  const suffix = `-${jobId}-${runAttempt}-${randomBytes(3).toString('hex')}`;
  return `rf-${className}`.slice(0, 64 - suffix.length) + suffix;
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

async function removeJob(name: string, created: Promise<unknown>, deps: ProvisionDeps): Promise<void> {
  await created.catch(() => {});
  await retry(
    async () => {
      try {
        await deps.kube.batch.deleteNamespacedJob({ name, namespace: deps.namespace, propagationPolicy: 'Background' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    { ...K8S_RETRY, clock: deps.clock, signal: deps.signal },
  );
}

async function renameRunner(name: string, runnerName: string, deps: ProvisionDeps): Promise<void> {
  const path = `/metadata/annotations/${ANNOTATION.runnerName.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  await retry(
    () => deps.kube.batch.patchNamespacedJob({ name, namespace: deps.namespace, body: [{ op: 'add', path, value: runnerName }] }),
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
