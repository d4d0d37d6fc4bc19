import type { V1DaemonSet } from '@kubernetes/client-node';
import type { RunnerSettings } from '../../config/document.ts';
import { COMPONENT, IMAGE_WARMING_TAINT, LABEL, MANAGED_BY, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../k8s/labels.ts';
import { tolerationOf } from '../../k8s/pod-template.ts';
import { PAUSE_UID, PLACEHOLDER_CONTAINER, prePullContainers, restricted } from '../warm-pool/build-placeholder.ts';

/**
 * The image pre-pull DaemonSet: on every runner node, a pod whose init containers run the runner
 * and Docker images (so the kubelet pulls them) and then `pause`. A node Karpenter launches for a
 * runner has no placeholder to warm it; without this, the image-warming reconcile had to open it
 * at once, and every runner that arrived during the runner's own ~88 s pull landed in its free
 * slots and waited for that pull — a "warm" start as slow as a cold one — while ready
 * placeholders elsewhere would have given it a 2 s start. With it, such a node stays tainted
 * until its pre-pull pod is Ready (plan.ts), so kube-scheduler sends those runners to a
 * placeholder's place on a node that has the image, and the runner the node was launched for
 * starts when the pull it would have waited for anyway is done.
 *
 * No resource requests at all (init containers included): the runners are sized to the
 * allocatable after the EKS DaemonSets (runtime/capacity/runner-size.ts), and a request here
 * would leave the last runner of a node without room. It sits outside the runner namespace's
 * quotas, which are scoped to the runner and placeholder PriorityClasses. Pure: the Pulumi
 * program creates what this returns, and the warm-pool bench does the same in the sim.
 */

export const PREPULL_DAEMONSET_NAME = 'runs-fleet-image-prepull';
export const PREPULL_LIST_SELECTOR = `${LABEL.component}=${COMPONENT.imagePrePull},${LABEL.managedBy}=${MANAGED_BY}`;

export function buildPrePullDaemonSet(runner: RunnerSettings, namespace: string): V1DaemonSet {
  const labels = { [LABEL.name]: PREPULL_DAEMONSET_NAME, [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: COMPONENT.imagePrePull };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: PREPULL_DAEMONSET_NAME, namespace, labels },
    spec: {
      selector: { matchLabels: { [LABEL.component]: COMPONENT.imagePrePull, [LABEL.managedBy]: MANAGED_BY } },
      // A new runner image is pulled on every node at once: nothing waits on these pods but image warming.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
      template: {
        metadata: { labels },
        spec: {
          // Runner nodes of every class (they carry the class label), warming ones included.
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_CLASS_LABEL, operator: 'Exists' }] }] } } },
          tolerations: [tolerationOf(RUNNER_TAINT), tolerationOf(IMAGE_WARMING_TAINT)],
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: PAUSE_UID, runAsGroup: PAUSE_UID, seccompProfile: { type: 'RuntimeDefault' } },
          initContainers: prePullContainers(runner, { requests: false }),
          containers: [{ name: PLACEHOLDER_CONTAINER, image: runner.pauseImage, securityContext: restricted() }],
        },
      },
    },
  };
}
