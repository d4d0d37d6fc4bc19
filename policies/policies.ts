import type { EnforcementLevel, Policies } from '@pulumi/policy';
import { eksPolicies } from './eks.ts';
import { elastiCachePolicies } from './elasticache.ts';
import { loadBalancerPolicies } from './load-balancer.ts';
import { vpcCniPolicies } from './vpc-cni.ts';
import { nodeClassPolicies } from './node-classes.ts';
import { nodePoolPolicies } from './node-pools.ts';
import { orchestratorPolicies } from './orchestrator.ts';
import { poolPolicies } from './pools.ts';
import { runnerImagePolicies } from './runner-image.ts';
import { runnerNamespacePolicies } from './runner-namespace.ts';
import { runnerPodPolicies } from './runner-pods.ts';
import { runnerSizingPolicies } from './runner-sizing.ts';
import { valkeyPolicies } from './valkey.ts';

/**
 * Every runs-fleet policy. index.ts serves them to the Pulumi CLI; the tests and the
 * offline plan (infra/plan.ts) run them in process (policies/in-process.ts). Each
 * policy sets its own enforcement level; a stack's policy config file
 * (policies/config.<stack>.json) may change it.
 */
export const PACK = {
  name: 'runs-fleet',
  description: 'runs-fleet guard rails: warm pools within NodePool budgets, secure Karpenter nodes, isolated runner pods and namespace, a durable Valkey and a resilient orchestrator.',
  enforcementLevel: 'mandatory' as EnforcementLevel,
} as const;

export const policies: Policies = [
  ...poolPolicies,
  ...nodePoolPolicies,
  ...nodeClassPolicies,
  ...runnerPodPolicies,
  ...runnerSizingPolicies,
  ...runnerImagePolicies,
  ...runnerNamespacePolicies,
  ...valkeyPolicies,
  ...orchestratorPolicies,
  ...eksPolicies,
  ...loadBalancerPolicies,
  ...vpcCniPolicies,
  ...elastiCachePolicies,
];
