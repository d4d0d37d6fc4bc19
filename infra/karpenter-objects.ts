import { classRequirements } from '../runtime/capacity/class-requirements.ts';
import { nodeCpuFor } from '../runtime/capacity/runner-size.ts';
import type { Pool, RunnerClass } from '../runtime/config/document.ts';
import { INFRA, LABEL, MANAGED_BY, NODE_CLASS_LABEL, RUNNER_TAINT } from '../runtime/k8s/labels.ts';
import { runnerStartupTaints } from '../runtime/k8s/pod-template.ts';

/**
 * Karpenter objects as plain data (NodePool per runner class, EC2NodeClass per disk
 * size, interruption rules). Pure, so tests and policies can check them without Pulumi.
 */

export const KARPENTER_CHART = 'oci://public.ecr.aws/karpenter/karpenter';
export const KARPENTER_NAMESPACE = 'kube-system';
export const KARPENTER_SERVICE_ACCOUNT = 'karpenter';

/** EventBridge rules that feed Karpenter's interruption queue (Karpenter 1.14 getting-started template). */
export const INTERRUPTION_RULES = [
  { id: 'scheduled-change', source: 'aws.health', detailType: 'AWS Health Event' },
  { id: 'spot-interruption', source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  { id: 'rebalance', source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  { id: 'instance-state-change', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  { id: 'capacity-reservation-interruption', source: 'aws.ec2', detailType: 'EC2 Capacity Reservation Instance Interruption Warning' },
] as const;

/** EventBridge matches the literal key "detail-type"; a camel-cased key matches nothing. */
export function interruptionEventPattern(rule: (typeof INTERRUPTION_RULES)[number]): string {
  return JSON.stringify({ source: [rule.source], 'detail-type': [rule.detailType] });
}

export function nodeClassName(diskGiB: number): string {
  return `runs-fleet-${diskGiB}gib`;
}

/** One EC2NodeClass per distinct disk size, smallest first. */
export function distinctDiskSizes(classes: readonly RunnerClass[]): number[] {
  return [...new Set(classes.map((c) => c.diskGiB))].sort((a, b) => a - b);
}

export interface NodeClassInputs {
  diskGiB: number;
  amiAlias: string;
  instanceProfile: string;
  subnetIds: readonly string[];
  securityGroupId: string;
  clusterName: string;
}

/**
 * EC2NodeClass spec: AL2023 by alias (the only AMI term, as the CRD demands), an
 * encrypted gp3 root volume of the class's size, IMDSv2 required with hop limit 1 so
 * pods (not on the host network) cannot reach instance credentials.
 */
export function ec2NodeClassSpec(i: NodeClassInputs) {
  return {
    amiSelectorTerms: [{ alias: i.amiAlias }],
    instanceProfile: i.instanceProfile,
    subnetSelectorTerms: i.subnetIds.map((id) => ({ id })),
    securityGroupSelectorTerms: [{ id: i.securityGroupId }],
    blockDeviceMappings: [
      {
        deviceName: '/dev/xvda',
        rootVolume: true,
        ebs: { volumeSize: `${i.diskGiB}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
      },
    ],
    metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
    tags: { [LABEL.managedBy]: MANAGED_BY, 'runs-fleet.io/cluster': i.clusterName },
  };
}

/** The most node CPU the class's warm pools may hold in placeholders: the whole nodes Σ pool.max placeholders take. */
export function warmPoolMaxCpu(cls: RunnerClass, pools: readonly Pool[]): number {
  return nodeCpuFor(cls, pools.filter((p) => p.class === cls.name).reduce((sum, p) => sum + p.max, 0));
}

export interface NodePoolSettings {
  consolidateAfter: string;
  expireAfter: string;
  /** Placeholders pre-pull the runner image: nodes then start with the image-warming startup taint. Default false. */
  prePullImages?: boolean;
}

export function nodePoolMetadata(cls: RunnerClass, pools: readonly Pool[]) {
  return {
    name: cls.name,
    labels: { [LABEL.managedBy]: MANAGED_BY, [NODE_CLASS_LABEL]: cls.name },
    annotations: { [INFRA.warmPoolMaxCpu]: String(warmPoolMaxCpu(cls, pools)) },
  };
}

/**
 * NodePool spec for one runner class. Nodes carry the runner taint and the class label
 * that runner and placeholder pods select (runtime/k8s/pod-template.ts classPlacement).
 * Running runners are protected three ways: their pods carry karpenter.sh/do-not-disrupt,
 * only empty nodes are consolidated (WhenEmpty), and budgets replace drifted nodes one at
 * a time. An expired node waits up to the class's job timeout for its runner.
 * With pre-pulling on, a new node also starts with the image-warming startup taint, which only
 * placeholders tolerate; the orchestrator removes it once a placeholder there is Ready
 * (runtime/controllers/image-warming), so runners never wait on a node's image pull.
 */
export function nodePoolSpec(cls: RunnerClass, s: NodePoolSettings) {
  const startupTaints = runnerStartupTaints({ prePullImages: s.prePullImages ?? false });
  return {
    template: {
      metadata: { labels: { [NODE_CLASS_LABEL]: cls.name, [LABEL.managedBy]: MANAGED_BY } },
      spec: {
        nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: nodeClassName(cls.diskGiB) },
        taints: [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }],
        ...(startupTaints.length ? { startupTaints } : {}),
        // Exactly the class's size: were the runner pod not to fit, Karpenter would otherwise pick
        // the next size up, at twice the price (runtime/capacity/runner-size.ts sizes the pod to fit).
        requirements: classRequirements(cls, { runnersPerNode: cls.runnersPerNode }).map((r) => ({ ...r, values: [...(r.values ?? [])] })),
        expireAfter: s.expireAfter,
        terminationGracePeriod: `${cls.maxDurationMinutes + 10}m`,
      },
    },
    limits: { cpu: String(cls.nodePoolCpuLimit) },
    disruption: {
      consolidationPolicy: 'WhenEmpty',
      consolidateAfter: s.consolidateAfter,
      budgets: [
        { nodes: '20%', reasons: ['Empty'] },
        { nodes: '1', reasons: ['Drifted'] },
      ],
    },
  };
}
