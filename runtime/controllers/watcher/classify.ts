import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { NODE, RUNNER_CONTAINER } from '../../k8s/labels.ts';
import { timeOf } from '../warm-pool/observe.ts';

/**
 * Why a runner did not finish its job. Infrastructure kinds were not the job's fault
 * (the node or capacity went away) and may be recovered; the rest failed on their own
 * (or on their configuration) and are never retried.
 */
export const FAILURE_KINDS = [
  'spot_interruption', 'node_lost', 'evicted', 'preempted', 'pending_timeout',
  'image_pull', 'oom', 'deadline_exceeded', 'runner_failed',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

const INFRASTRUCTURE: ReadonlySet<FailureKind> = new Set(['spot_interruption', 'node_lost', 'evicted', 'preempted', 'pending_timeout']);
export const isInfrastructure = (kind: FailureKind): boolean => INFRASTRUCTURE.has(kind);

export interface Failure {
  kind: FailureKind;
  infrastructure: boolean;
  /** Short, for logs (from Kubernetes reasons and messages, never from the job's output). */
  detail: string;
  /** The runner never started and its Job must be removed by us (it would otherwise sit Pending). */
  stuck: boolean;
}

/** What was known about the runner's node (it may be gone by the time the pod fails). */
export interface NodeFacts {
  capacityType?: string;
  gone?: boolean;
}

export interface ClassifyInput {
  pod: V1Pod | undefined;
  job: V1Job | undefined;
  node?: NodeFacts;
  /** The pod was deleted (`pod` is its last state, from the informer's delete event). */
  podGone?: boolean;
  now: number;
  /** The class's pending limit (it already covers node provisioning). */
  pendingLimitMs: number;
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const NODE_GONE = new Set(['DeletionByTaintManager', 'DeletionByPodGC']);
const POD_REASON: Record<string, FailureKind> = {
  Evicted: 'evicted', NodeLost: 'node_lost', NodeShutdown: 'node_lost', Shutdown: 'node_lost', Terminated: 'node_lost',
  UnexpectedAdmissionError: 'evicted', OutOfcpu: 'evicted', OutOfmemory: 'evicted', NodeAffinity: 'evicted',
};

const fail = (kind: FailureKind, detail: string, stuck = false): Failure => ({ kind, infrastructure: isInfrastructure(kind), detail, stuck });

/**
 * Classifies a runner from its pod and Job. Returns undefined while it is healthy (pending
 * within its limit, running) or when it succeeded. Order matters: a disruption explains a
 * failed pod better than the exit code it caused, and the deadline explains a killed one.
 */
export function classifyFailure(input: ClassifyInput): Failure | undefined {
  const { pod, job } = input;
  const podFailed = pod?.status?.phase === 'Failed';
  const jobFailed = condition(job?.status?.conditions, 'Failed');
  const ended = podFailed || !!jobFailed || !!pod?.metadata?.deletionTimestamp || !!input.podGone;

  const disruption = condition(pod?.status?.conditions, 'DisruptionTarget');
  if (disruption && ended) return disrupted(disruption.reason ?? '', disruption.message ?? '', pod, input.node);
  if (jobFailed?.reason === 'DeadlineExceeded') return fail('deadline_exceeded', jobFailed.message ?? 'activeDeadlineSeconds reached');
  const podReason = pod?.status?.reason;
  if (podFailed && podReason && POD_REASON[podReason]) return fail(POD_REASON[podReason], `pod ${podReason}: ${pod?.status?.message ?? ''}`.trim());

  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  if (ended) {
    const oom = statuses.find((s) => s.state?.terminated?.reason === 'OOMKilled' || s.lastState?.terminated?.reason === 'OOMKilled');
    if (oom) return fail('oom', `container ${oom.name} OOMKilled`);
    const runner = statuses.find((s) => s.name === RUNNER_CONTAINER)?.state?.terminated;
    const terminal = podFailed || pod?.status?.phase === 'Succeeded';
    // A pod removed before it ended, with no disruption recorded: only its node's loss explains it.
    if (input.podGone && !terminal && input.node?.gone) return fail('node_lost', 'pod removed with its node');
    // Deleted before it started (a cancelled job's cleanup, a stuck runner we removed): nothing failed.
    if (input.podGone && pod?.status?.phase === 'Pending' && !jobFailed) return undefined;
    if (input.podGone && !terminal) return fail('runner_failed', 'pod deleted before it finished');
    if (podFailed || jobFailed)
      return fail('runner_failed', runner ? `runner exited ${runner.exitCode}${runner.reason ? ` (${runner.reason})` : ''}` : (jobFailed?.reason ?? 'pod failed'));
    return undefined;
  }
  return pendingTooLong(input, statuses);
}

function disrupted(reason: string, message: string, pod: V1Pod | undefined, node: NodeFacts | undefined): Failure {
  const detail = `${reason}: ${message}`.slice(0, 200);
  if (reason === 'PreemptionByScheduler') return fail('preempted', detail);
  const spot = node?.capacityType === 'spot' || pod?.spec?.nodeSelector?.[NODE.capacityType] === 'spot' || /\bspot\b|interrupt/i.test(message);
  if (spot) return fail('spot_interruption', detail);
  if (NODE_GONE.has(reason) || node?.gone || /shutdown/i.test(message)) return fail('node_lost', detail);
  return fail('evicted', detail);
}

/** Still waiting past the class limit: the node never came, or the image never pulled. */
function pendingTooLong(input: ClassifyInput, statuses: V1ContainerStatus[]): Failure | undefined {
  const { pod, job, now, pendingLimitMs } = input;
  if (pod && pod.status?.phase !== 'Pending') return undefined;
  if (!pod && (!job || job.status?.active || job.status?.succeeded || condition(job.status?.conditions, 'Complete'))) return undefined;
  const since = timeOf(pod?.metadata?.creationTimestamp) ?? timeOf(job?.metadata?.creationTimestamp);
  if (since === undefined || now - since < pendingLimitMs) return undefined;
  const waiting = statuses.find((s) => IMAGE_PULL.has(s.state?.waiting?.reason ?? ''));
  if (waiting) return fail('image_pull', `container ${waiting.name}: ${waiting.state?.waiting?.reason}`, true);
  const scheduled = condition(pod?.status?.conditions, 'PodScheduled');
  const why = !pod ? 'no pod created' : scheduled ? 'scheduled but not started' : `unschedulable: ${pendingReason(pod)}`;
  return fail('pending_timeout', `pending ${Math.round((now - since) / 1000)} s (limit ${pendingLimitMs / 1000} s): ${why}`, true);
}

function pendingReason(pod: V1Pod): string {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return (c?.reason ?? 'waiting for a node').slice(0, 120);
}

function condition<C extends { type: string; status: string }>(conditions: C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type && c.status === 'True');
}
