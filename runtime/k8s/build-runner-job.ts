import { createHash } from 'node:crypto';
import type { V1Container, V1Job, V1PodTemplateSpec, V1Secret } from '@kubernetes/client-node';
import type { ConfigDocument } from '../config/document.ts';
import type { ResolvedRunner } from '../labels/types.ts';
import type { QueuedJob } from '../queue/types.ts';
import { ANNOTATION, COMPONENT, JIT_ENV, JIT_SECRET_KEY, LABEL, MANAGED_BY, NODE, RUNNER_CONTAINER } from './labels.ts';
import { buildClassPodTemplate, runnerPodResources } from './pod-template.ts';

/**
 * Names of a job's Kubernetes objects: deterministic from job id and run attempt, so
 * a redelivered or reclaimed job lands on the same names and 409 AlreadyExists means
 * "already done". A re-provisioning after infrastructure loss gets a new suffix.
 */
export function runnerObjectName(job: Pick<QueuedJob, 'jobId' | 'runAttempt' | 'requeue'>): string {
  const base = `runner-${job.jobId}-${job.runAttempt}`;
  return job.requeue ? `${base}-r${job.requeue.count}` : base;
}

export interface RunnerObjects {
  name: string;
  job: V1Job;
  secret: V1Secret;
}

export interface BuildRunnerInput {
  job: QueuedJob;
  runner: ResolvedRunner;
  doc: ConfigDocument;
  namespace: string;
  runnerName: string;
  /** The runner image when it differs from the class template's (a followed runner release). */
  runnerImage?: string;
}

/** The Secret and Job of one GitHub job (see buildRunnerJob and buildJitSecret). */
export function buildRunnerObjects(input: BuildRunnerInput & { encodedJitConfig: string }): RunnerObjects {
  const { name, job } = buildRunnerJob(input);
  return { name, job, secret: buildJitSecret(input) };
}

/**
 * The runner Job of one GitHub job. Pure. It names its Secret but does not need it to
 * exist yet: the pod can be scheduled (and a node provisioned) while the JIT config is
 * fetched; only the runner container reads the Secret.
 */
export function buildRunnerJob(input: BuildRunnerInput): { name: string; job: V1Job } {
  const { job, runner, doc, namespace } = input;
  const name = runnerObjectName(job);
  const { labels, annotations } = objectMeta(input);
  const jobObject: V1Job = {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace, labels, annotations },
    spec: {
      // One attempt: a failed runner is never restarted in place (its JIT config is single-use);
      // the lifecycle watcher decides whether the GitHub job gets a new runner.
      backoffLimit: 0,
      ttlSecondsAfterFinished: doc.runner.ttlSecondsAfterFinished,
      activeDeadlineSeconds: runner.class.maxDurationMinutes * 60,
      template: podTemplate(input, name, labels),
    },
  };
  return { name, job: jobObject };
}

/**
 * The Secret holding the JIT config, the only place it is written. The runner reads it
 * through ACTIONS_RUNNER_INPUT_JITCONFIG and removes it from its own environment, so job
 * steps never see it.
 */
export function buildJitSecret(input: Omit<BuildRunnerInput, 'doc'> & { encodedJitConfig: string }): V1Secret {
  const { labels, annotations } = objectMeta(input);
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name: runnerObjectName(input.job), namespace: input.namespace, labels, annotations },
    type: 'Opaque', immutable: true,
    stringData: { [JIT_SECRET_KEY]: input.encodedJitConfig },
  };
}

function objectMeta({ job, runner, runnerName }: Pick<BuildRunnerInput, 'job' | 'runner' | 'runnerName'>) {
  const labels: Record<string, string> = {
    [LABEL.name]: 'runs-fleet-runner', [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: COMPONENT.runner,
    [LABEL.class]: runner.className, [LABEL.jobId]: String(job.jobId), [LABEL.runAttempt]: String(job.runAttempt),
    ...(runner.pool ? { [LABEL.pool]: runner.pool } : {}),
  };
  const annotations: Record<string, string> = {
    [ANNOTATION.repo]: job.repository, [ANNOTATION.runnerName]: runnerName,
    ...(job.requeue ? { [ANNOTATION.infraRetry]: `${job.requeue.count}: ${job.requeue.reason}` } : {}),
  };
  return { labels, annotations };
}

/** On the pod, where the warm pool reads it: which run and job the runner is for (fan-out.ts learns pipelines from it). */
function jobIdentity(job: BuildRunnerInput['job']): Record<string, string> {
  return {
    [ANNOTATION.repo]: job.repository, [ANNOTATION.runId]: String(job.runId),
    ...(job.workflowName !== undefined ? { [ANNOTATION.workflow]: job.workflowName } : {}),
    ...(job.jobName !== undefined ? { [ANNOTATION.jobName]: job.jobName } : {}),
  };
}

function podTemplate(input: BuildRunnerInput, secretName: string, labels: Record<string, string>): V1PodTemplateSpec {
  const { runner, doc } = input;
  const base = (runner.class.podTemplate as V1PodTemplateSpec | undefined) ?? buildClassPodTemplate(runner.class, doc.runner);
  const t = structuredClone(base);
  const spec = t.spec!;
  t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...labels } };
  t.metadata.annotations = { ...t.metadata.annotations, ...jobIdentity(input.job), [ANNOTATION.templateHash]: templateHash(base) };

  const runnerContainer = spec.containers.find((c) => c.name === RUNNER_CONTAINER);
  if (!runnerContainer) throw new Error(`class ${runner.className}: pod template has no "${RUNNER_CONTAINER}" container`);
  pointJitAt(runnerContainer, secretName);
  if (input.runnerImage) runnerContainer.image = input.runnerImage;

  if (runner.cpu !== runner.class.cpu || runner.memoryGiB !== runner.class.memoryGiB) {
    const res = runnerPodResources(runner.class, { cpu: runner.cpu, memoryGiB: runner.memoryGiB });
    spec.resources = res.pod;
    runnerContainer.resources = res.runner;
    const dind = spec.initContainers?.find((c) => c.restartPolicy === 'Always');
    if (dind) dind.resources = res.dind;
  }
  const work = spec.volumes?.find((v) => v.name === 'work');
  if (work?.emptyDir) work.emptyDir.sizeLimit = `${runner.diskGiB}Gi`;

  if (runner.capacityTypes.length === 1) spec.nodeSelector = { ...spec.nodeSelector, [NODE.capacityType]: runner.capacityTypes[0]! };
  if (runner.nodeRequirements.length) {
    spec.affinity = {
      ...spec.affinity,
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: runner.nodeRequirements.map((r) => ({ key: r.key, operator: r.operator, values: r.values })) }],
        },
      },
    };
  }
  return t;
}

function pointJitAt(container: V1Container, secretName: string): void {
  const env = container.env?.find((e) => e.name === JIT_ENV);
  if (!env) {
    container.env = [...(container.env ?? []), { name: JIT_ENV, valueFrom: { secretKeyRef: { name: secretName, key: JIT_SECRET_KEY } } }];
    return;
  }
  env.value = undefined;
  env.valueFrom = { secretKeyRef: { name: secretName, key: JIT_SECRET_KEY } };
}

/** A short hash of the class template, so runners started from an older template can be told apart. */
function templateHash(template: V1PodTemplateSpec): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 12);
}
