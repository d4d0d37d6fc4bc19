/**
 * Type tokens of the resources the policies inspect. Karpenter objects are
 * `k8s.apiextensions.CustomResource`s, which have no class to match with
 * `validateResourceOfType`, so every policy here matches on these strings.
 */
export const TYPE = {
  nodePool: 'kubernetes:karpenter.sh/v1:NodePool',
  ec2NodeClass: 'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass',
  configMap: 'kubernetes:core/v1:ConfigMap',
  namespace: 'kubernetes:core/v1:Namespace',
  networkPolicy: 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  deployment: 'kubernetes:apps/v1:Deployment',
  statefulSet: 'kubernetes:apps/v1:StatefulSet',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
  /** The `@pulumi/eks` component (what the program registers, and all a mocked run sees). */
  eksComponent: 'eks:index:Cluster',
  /** The AWS resource the component creates (what a real preview also analyzes). */
  eksCluster: 'aws:eks/cluster:Cluster',
  eksAddon: 'aws:eks/addon:Addon',
  iamRole: 'aws:iam/role:Role',
  rolePolicyAttachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  service: 'kubernetes:core/v1:Service',
  replicationGroup: 'aws:elasticache/replicationGroup:ReplicationGroup',
} as const;

/** Kubernetes objects arrive as untyped JSON; the policies read them defensively. */
export type Json = Record<string, any>;

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function asArray(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}
