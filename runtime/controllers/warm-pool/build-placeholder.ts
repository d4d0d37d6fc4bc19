import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1DeploymentSpec } from '@kubernetes/client-node';
import type { Pool, RunnerClass, RunnerSettings } from '../../config/document.ts';
import { COMPONENT, LABEL, MANAGED_BY } from '../../k8s/labels.ts';
import { placeholderPlacement, podRequests } from '../../k8s/pod-template.ts';

/**
 * The placeholder Deployment of a pool: `pause` pods that request exactly what a runner
 * of the pool's class requests, on that class's nodes, at a negative priority. A runner
 * preempts one and lands in its place on a node that is already up; the evicted
 * placeholder goes Pending and Karpenter brings up a node for it — the refill.
 * Pure: the reconciler creates or patches what this returns.
 */

/** The pause image's own non-root user. */
export const PAUSE_UID = 65535;
export const PLACEHOLDER_CONTAINER = 'pause';
/**
 * What a pre-pull init container asks for: it only runs `true`. The pod's effective request
 * is the larger of any init container and the sum of the others, so this changes nothing.
 */
const PREPULL_RESOURCES = { cpu: '10m', memory: '16Mi' };

export function restricted() {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
}

export function placeholderName(pool: string): string {
  return `placeholder-${pool}`;
}

/** The Deployment's selector. Class is deliberately not in it: a selector is immutable, and a pool may change class. */
export function placeholderSelector(pool: string): Record<string, string> {
  return { [LABEL.component]: COMPONENT.placeholder, [LABEL.pool]: pool };
}

/** Label selector string for listing every placeholder Deployment and pod we manage. */
export const PLACEHOLDER_LIST_SELECTOR = `${LABEL.component}=${COMPONENT.placeholder},${LABEL.managedBy}=${MANAGED_BY}`;

export function buildPlaceholderDeployment(
  runner: RunnerSettings,
  pool: Pool,
  cls: RunnerClass,
  namespace: string,
  replicas: number,
): V1Deployment {
  const labels = {
    [LABEL.name]: 'runs-fleet-placeholder',
    [LABEL.managedBy]: MANAGED_BY,
    ...placeholderSelector(pool.name),
    [LABEL.class]: cls.name,
  };
  const spec = placeholderSpec(runner, pool, cls, labels);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: placeholderName(pool.name),
      namespace,
      labels,
      annotations: { [LABEL.templateHash]: placeholderSpecHash(spec) },
    },
    spec: { ...spec, replicas },
  };
}

function placeholderSpec(runner: RunnerSettings, pool: Pool, cls: RunnerClass, labels: Record<string, string>): V1DeploymentSpec {
  const requests = podRequests(cls);
  // Placeholders also tolerate the image-warming startup taint: they are what warms a new node.
  const { nodeSelector, tolerations } = placeholderPlacement(cls);
  return {
    selector: { matchLabels: placeholderSelector(pool.name) },
    // No surge: an extra placeholder during a rollout would ask Karpenter for an extra node.
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '25%' } },
    revisionHistoryLimit: 2,
    template: {
      // No karpenter.sh/do-not-disrupt: placeholders must never keep a node from consolidating.
      metadata: { labels },
      spec: {
        priorityClassName: runner.placeholderPriorityClassName,
        // Preemption is the point: the runner should not wait for pause to shut down.
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        nodeSelector,
        tolerations,
        securityContext: { runAsNonRoot: true, runAsUser: PAUSE_UID, runAsGroup: PAUSE_UID, seccompProfile: { type: 'RuntimeDefault' } },
        ...(runner.prePullImages ? { initContainers: prePullContainers(runner) } : {}),
        containers: [
          {
            name: PLACEHOLDER_CONTAINER,
            image: runner.pauseImage,
            // Requests = what a runner pod of the class requests, so a runner fits exactly where it evicts one;
            // limits = requests, so a placeholder can never take more.
            resources: { requests: { ...requests }, limits: { ...requests } },
            securityContext: restricted(),
          },
        ],
      },
    },
  };
}

/**
 * A node that Karpenter brings up for a placeholder has no runner images, and pulling them
 * is most of a warm start (the runner and Docker images are hundreds of MB). Running each
 * image once makes the kubelet pull it while the placeholder waits, not while a job does.
 * `requests: false` leaves them without requests (the image pre-pull DaemonSet: it must not
 * take any of the room the runners are sized to).
 */
export function prePullContainers(runner: RunnerSettings, o: { requests: boolean } = { requests: true }): V1Container[] {
  return [
    { name: 'prepull-runner', image: runner.image },
    { name: 'prepull-dind', image: runner.dindImage },
  ].map((c) => ({
    ...c,
    command: ['true'],
    ...(o.requests ? { resources: { requests: { ...PREPULL_RESOURCES }, limits: { ...PREPULL_RESOURCES } } } : {}),
    securityContext: restricted(),
  }));
}

/** Hash of everything but `replicas`: when it differs from the live annotation, the template has drifted. */
export function placeholderSpecHash(spec: V1DeploymentSpec): string {
  const { replicas: _ignored, ...rest } = spec;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
