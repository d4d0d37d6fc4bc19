import type { V1PodTemplateSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import type { RunnerClass, RunnerSettings } from '../config/document.ts';
import {
  ANNOTATION, COMPONENT, DIND_CONTAINER, JIT_ENV, JIT_SECRET_KEY, LABEL, MANAGED_BY, NODE, NODE_CLASS_LABEL,
  RUNNER_CONTAINER, RUNNER_TAINT,
} from './labels.ts';

/** The Docker sidecar's share of a runner pod; the runner container gets the rest. */
const DIND_REQUEST = { cpuMilli: 250, memoryMiB: 512 };
/** The actions-runner image's `runner` user and `docker` group. */
const RUNNER_UID = 1001;
const DOCKER_GID = 123;
/** Replaced per job by the name of the job's JIT Secret. */
export const JIT_SECRET_PLACEHOLDER = '$(JIT_SECRET_NAME)';

export interface PodSize {
  cpu: number;
  memoryGiB: number;
}

/** Total requests of a runner pod of this size: what a placeholder must request to hold its place. */
export function podRequests(size: PodSize): { cpu: string; memory: string } {
  return { cpu: `${Math.round(size.cpu * 1000)}m`, memory: `${Math.round(size.memoryGiB * 1024)}Mi` };
}

/** Requests and limits of the runner and sidecar containers; their requests add up to podRequests(size). */
export function containerResources(size: PodSize): { runner: V1ResourceRequirements; dind: V1ResourceRequirements } {
  const cpuMilli = Math.round(size.cpu * 1000);
  const memMiB = Math.round(size.memoryGiB * 1024);
  const dindCpu = Math.min(DIND_REQUEST.cpuMilli, Math.floor(cpuMilli / 4));
  const dindMem = Math.min(DIND_REQUEST.memoryMiB, Math.floor(memMiB / 4));
  const limits = { cpu: `${cpuMilli}m`, memory: `${memMiB}Mi` };
  return {
    runner: { requests: { cpu: `${cpuMilli - dindCpu}m`, memory: `${memMiB - dindMem}Mi` }, limits },
    dind: { requests: { cpu: `${dindCpu}m`, memory: `${dindMem}Mi` }, limits },
  };
}

/** Node selector and toleration that put a pod on this class's NodePool nodes. */
export function classPlacement(cls: RunnerClass) {
  return {
    nodeSelector: { [NODE_CLASS_LABEL]: cls.name, [NODE.arch]: cls.arch, [NODE.os]: 'linux' },
    tolerations: [{ key: RUNNER_TAINT.key, operator: 'Equal', value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }],
  };
}

/**
 * The runner pod template of a class: the official runner image reading its JIT config
 * from a Secret through ACTIONS_RUNNER_INPUT_JITCONFIG, Docker-in-Docker as a native
 * sidecar (the only privileged container), no service-account token, on the class's
 * tainted nodes, never disrupted by Karpenter while it runs. Pure: the Pulumi program
 * renders it into the config document and the runtime fills in per-job fields.
 */
export function buildClassPodTemplate(cls: RunnerClass, runner: RunnerSettings): V1PodTemplateSpec {
  const res = containerResources(cls);
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
