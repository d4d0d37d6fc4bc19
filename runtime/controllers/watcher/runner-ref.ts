import type { V1Job, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { ANNOTATION, COMPONENT, LABEL, MANAGED_BY } from '../../k8s/labels.ts';

/** Runner Jobs and their pods carry these labels (set by build-runner-job.ts). */
export const RUNNER_SELECTOR = `${LABEL.component}=${COMPONENT.runner},${LABEL.managedBy}=${MANAGED_BY}`;

/** Which GitHub job a runner object serves, read from its labels once. */
export interface RunnerRef {
  /** The runner Job's name (also its Secret's): `runner-<jobId>-<attempt>[-r<k>]`. */
  objectName: string;
  jobId: number;
  runAttempt: number;
  className: string;
  /** k of the k-th re-provisioning after infrastructure loss; 0 for the first runner. */
  reprovision: number;
}

export function runnerRef(meta: V1ObjectMeta | undefined, objectName: string | undefined): RunnerRef | undefined {
  const labels = meta?.labels ?? {};
  if (labels[LABEL.component] !== COMPONENT.runner || !objectName) return undefined;
  const jobId = Number(labels[LABEL.jobId]);
  const runAttempt = Number(labels[LABEL.runAttempt]);
  if (!Number.isSafeInteger(jobId) || !Number.isSafeInteger(runAttempt) || jobId <= 0) return undefined;
  const k = /-r(\d+)$/.exec(objectName);
  return { objectName, jobId, runAttempt, className: labels[LABEL.class] ?? 'unknown', reprovision: k ? Number(k[1]) : 0 };
}

export const jobRef = (job: V1Job): RunnerRef | undefined => runnerRef(job.metadata, job.metadata?.name);

/** A pod's runner Job: its controller owner (what the Job controller sets), else the job-name labels. */
export function podJobName(pod: V1Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job' && o.controller !== false);
  const labels = pod.metadata?.labels ?? {};
  return owner?.name ?? labels['batch.kubernetes.io/job-name'] ?? labels['job-name'];
}

export const podRef = (pod: V1Pod): RunnerRef | undefined => runnerRef(pod.metadata, podJobName(pod));

/** The GitHub runner name the Job was registered with (an annotation: names are not label-safe). */
export const runnerNameOf = (job: V1Job | undefined): string | undefined => job?.metadata?.annotations?.[ANNOTATION.runnerName];
