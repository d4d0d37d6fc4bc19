import type { V1PodTemplateSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import { scaledPod, splitPod, type Share, type SizedClass } from '../capacity/runner-size.ts';
import type { RunnerClass, RunnerSettings } from '../config/document.ts';
import {
  ANNOTATION, COMPONENT, DIND_CONTAINER, JIT_ENV, JIT_SECRET_KEY, LABEL, MANAGED_BY, NODE, NODE_CLASS_LABEL,
  IMAGE_WARMING_TAINT, RUNNER_CONTAINER, RUNNER_TAINT,
} from './labels.ts';

/** The actions-runner image's `runner` user and `docker` group. */
const RUNNER_UID = 1001;
const DOCKER_GID = 123;
/** Replaced per job by the name of the job's JIT Secret. */
export const JIT_SECRET_PLACEHOLDER = '$(JIT_SECRET_NAME)';

export interface PodSize {
  cpu: number;
  memoryGiB: number;
}

const cpu = (s: Share) => `${s.cpuMilli}m`;
const mem = (s: Share) => `${s.memoryMiB}Mi`;
const quantities = (s: Share) => ({ cpu: cpu(s), memory: mem(s) });

/**
 * What a runner pod of the class requests as a whole (runtime/capacity/runner-size.ts): its
 * share of the instance's allocatable after the DaemonSets. A placeholder requests the same.
 */
export function podRequests(cls: SizedClass, size: PodSize = cls): { cpu: string; memory: string } {
  return quantities(scaledPod(cls, size));
}

export interface RunnerPodResources {
  /** Pod-level requests and limits (Kubernetes ≥ 1.34, PodLevelResources beta, on by default). */
  pod: V1ResourceRequirements;
  runner: V1ResourceRequirements;
  dind: V1ResourceRequirements;
}

/**
 * Requests and limits of a runner pod. The two containers' requests add up to the pod's
 * budget, and the pod-level limit is that budget: the runner and the Docker sidecar together
 * can never use more than the class, while either alone may use all of it (a `docker build`
 * runs in the sidecar's cgroup, a native build in the runner's). Each container's own limit
 * is the budget too, since a container limit may not exceed the pod's.
 */
export function runnerPodResources(cls: SizedClass, size: PodSize = cls): RunnerPodResources {
  const pod = scaledPod(cls, size);
  const { runner, dind } = splitPod(pod);
  const limits = quantities(pod);
  return {
    pod: { requests: quantities(pod), limits },
    runner: { requests: quantities(runner), limits: { ...limits } },
    dind: { requests: quantities(dind), limits: { ...limits } },
  };
}

/** Node selector and toleration that put a pod on this class's NodePool nodes. */
export function classPlacement(cls: RunnerClass) {
  return {
    nodeSelector: { [NODE_CLASS_LABEL]: cls.name, [NODE.arch]: cls.arch, [NODE.os]: 'linux' },
    tolerations: [tolerationOf(RUNNER_TAINT)],
  };
}

/** The toleration of exactly one of our taints (key, value and effect). */
export function tolerationOf(t: { key: string; value: string; effect: string }) {
  return { key: t.key, operator: 'Equal', value: t.value, effect: t.effect };
}

/**
 * Where a placeholder goes: the class's nodes, still warming ones included. A runner does not
 * tolerate IMAGE_WARMING_TAINT, so it lands only on nodes that already hold the runner image.
 */
export function placeholderPlacement(cls: RunnerClass) {
  const { nodeSelector, tolerations } = classPlacement(cls);
  return { nodeSelector, tolerations: [...tolerations, tolerationOf(IMAGE_WARMING_TAINT)] };
}

/**
 * The NodePool startup taints of a class: the image-warming taint when placeholders pre-pull the
 * runner image (their Ready then means the image is on the node). Without pre-pulling a Ready
 * placeholder proves nothing about the image, so nodes are not held back.
 */
export function runnerStartupTaints(runner: Pick<RunnerSettings, 'prePullImages'>) {
  const t = IMAGE_WARMING_TAINT;
  return runner.prePullImages ? [{ key: t.key, value: t.value, effect: t.effect }] : [];
}

/**
 * The runner pod template of a class: the official runner image reading its JIT config
 * from a Secret through ACTIONS_RUNNER_INPUT_JITCONFIG, Docker-in-Docker as a native
 * sidecar (the only privileged container), no service-account token, on the class's
 * tainted nodes, never disrupted by Karpenter while it runs. Pure: the Pulumi program
 * renders it into the config document and the runtime fills in per-job fields.
 */
export function buildClassPodTemplate(cls: RunnerClass, runner: RunnerSettings): V1PodTemplateSpec {
  const res = runnerPodResources(cls);
  const { nodeSelector, tolerations } = classPlacement(cls);
  return {
    metadata: {
      labels: { [LABEL.name]: 'runs-fleet-runner', [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: COMPONENT.runner, [LABEL.class]: cls.name },
      annotations: { [ANNOTATION.doNotDisrupt]: 'true' },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      serviceAccountName: runner.serviceAccountName,
      priorityClassName: runner.priorityClassName,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      nodeSelector,
      tolerations,
      securityContext: { fsGroup: DOCKER_GID, seccompProfile: { type: 'RuntimeDefault' } },
      resources: res.pod,
      initContainers: [
        {
          name: DIND_CONTAINER,
          image: runner.dindImage,
          // A native sidecar: it starts first, keeps running beside the runner, and does not
          // hold the Job open once the runner container exits.
          restartPolicy: 'Always',
          args: ['dockerd', '--host=unix:///var/run/docker.sock', `--group=${DOCKER_GID}`],
          env: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
          securityContext: { privileged: true },
          resources: res.dind,
          startupProbe: { exec: { command: ['docker', 'info'] }, periodSeconds: 1, failureThreshold: 120 },
          volumeMounts: [
            { name: 'docker-sock', mountPath: '/var/run' },
            { name: 'work', mountPath: '/home/runner/_work' },
            { name: 'docker-data', mountPath: '/var/lib/docker' },
          ],
        },
      ],
      containers: [
        {
          name: RUNNER_CONTAINER,
          image: runner.image,
          command: ['/home/runner/run.sh'],
          env: [
            { name: JIT_ENV, valueFrom: { secretKeyRef: { name: JIT_SECRET_PLACEHOLDER, key: JIT_SECRET_KEY } } },
            { name: 'DOCKER_HOST', value: 'unix:///var/run/docker.sock' },
            { name: 'RUNNER_WAIT_FOR_DOCKER_IN_SECONDS', value: '120' },
          ],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNNER_UID,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          },
          resources: res.runner,
          volumeMounts: [
            { name: 'work', mountPath: '/home/runner/_work' },
            { name: 'docker-sock', mountPath: '/var/run' },
          ],
        },
      ],
      volumes: [
        { name: 'work', emptyDir: { sizeLimit: `${cls.diskGiB}Gi` } },
        { name: 'docker-sock', emptyDir: {} },
        { name: 'docker-data', emptyDir: {} },
      ],
    },
  };
}
