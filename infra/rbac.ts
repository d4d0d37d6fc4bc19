/**
 * What the orchestrator may do, namespace by namespace, with no wildcards: in the runner
 * namespace it manages runner Jobs, their JIT Secrets and Pods, records and reads Events,
 * and scales placeholder Deployments; in the system namespace it holds the leader-election
 * Lease. Cluster-scoped it reads Nodes and patches them, which the image-warming reconcile needs.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const RUNNER_NAMESPACE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  // Secrets hold JIT runner configs: created per job, garbage-collected with it, swept when orphaned.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'delete', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update', 'patch'] },
];

export const SYSTEM_NAMESPACE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
];

/**
 * Nodes are cluster-scoped: the watcher and the warm-pool accounting read the node a runner
 * landed on (its creation time says warm or cold start); the image-warming reconcile lists the
 * runner nodes and patches one to remove its image-warming startup taint
 * (runtime/controllers/image-warming). Nothing else: no create, delete or watch.
 */
export const CLUSTER_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] },
];
