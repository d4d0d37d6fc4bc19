import { maxRunners, runnerAllotment } from '../runtime/capacity/runner-size.ts';
import type { Pool, RunnerClass, RunnerSettings } from '../runtime/config/document.ts';

export { maxRunners };

/**
 * The runner namespace's guard rails as plain data: priority classes, quotas and
 * network policies. Pure, so tests and the CrossGuard policies can reason about them.
 */

/** Instance metadata (IMDS) and the EKS Pod Identity agent: credentials live there. */
export const METADATA_CIDRS = ['169.254.169.254/32', '169.254.170.23/32'] as const;

export const POD_SECURITY = {
  // Docker-in-Docker is a privileged sidecar (the only privileged container).
  runners: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/audit': 'baseline' },
  system: {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/warn': 'restricted',
  },
} as const;

/**
 * Runners outrank placeholders, which never preempt anything: a runner takes a warm
 * placeholder's place instead of waiting for a node.
 */
export function priorityClasses(runner: RunnerSettings) {
  return {
    runner: {
      metadata: { name: runner.priorityClassName },
      value: 1000,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
      description: 'runs-fleet runner pods: preempt warm-pool placeholders',
    },
    placeholder: {
      metadata: { name: runner.placeholderPriorityClassName },
      value: -10,
      globalDefault: false,
      preemptionPolicy: 'Never',
      description: 'runs-fleet warm-pool placeholders: evicted first, never preempt',
    },
  };
}

interface Totals {
  pods: number;
  cpuMilli: number;
  memMi: number;
}

/**
 * Quotas scoped by priority class. Placeholders get their own quota: a runner must never
 * be refused at admission because placeholders used the runner quota (quota admission
 * happens before preemption could make room).
 */
export function runnerQuotas(runner: RunnerSettings, classes: readonly RunnerClass[], pools: readonly Pool[]) {
  const byName = new Map(classes.map((c) => [c.name, c]));
  // Each runner and each placeholder requests its class's pod budget (runtime/capacity/runner-size.ts).
  const add = (acc: Totals, c: RunnerClass, n: number): Totals => {
    const { pod } = runnerAllotment(c);
    return { pods: acc.pods + n, cpuMilli: acc.cpuMilli + n * pod.cpuMilli, memMi: acc.memMi + n * pod.memoryMiB };
  };
  const none: Totals = { pods: 0, cpuMilli: 0, memMi: 0 };
  const runners = classes.reduce((acc, c) => add(acc, c, maxRunners(c)), none);
  const placeholders = pools.reduce((acc, p) => {
    const c = byName.get(p.class);
    return c ? add(acc, c, p.max) : acc;
  }, none);
  const scoped = (priorityClass: string, t: typeof runners) => ({
    hard: { pods: String(t.pods), 'requests.cpu': `${t.cpuMilli}m`, 'requests.memory': `${t.memMi}Mi` },
    scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [priorityClass] }] },
  });
  // Finished Jobs and their Secrets linger for ttlSecondsAfterFinished: allow twice the runners.
  const objects = 2 * runners.pods + 10;
  return {
    runners: scoped(runner.priorityClassName, runners),
    placeholders: scoped(runner.placeholderPriorityClassName, placeholders),
    objects: {
      hard: {
        'count/jobs.batch': String(objects),
        'count/secrets': String(objects),
        'count/deployments.apps': String(pools.length + 5),
      },
    },
  };
}

export interface EgressInputs {
  vpcCidrs: readonly string[];
  serviceCidr: string;
}

/**
 * Runner pods run untrusted workflow code: no ingress at all; egress to cluster DNS and
 * to the internet, but not to instance metadata, the VPC (nodes, pods, Valkey, the API
 * server's ENIs) or cluster Services.
 */
export function runnerNetworkPolicies(i: EgressInputs) {
  return {
    denyIngress: { podSelector: {}, policyTypes: ['Ingress'] },
    egress: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [...METADATA_CIDRS, ...i.vpcCidrs, i.serviceCidr] } }] },
      ],
    },
  };
}
