/** The simulated Kubernetes cluster: start one with startSimCluster(). */
export { startSimCluster, DEFAULT_TIMINGS, simTimings, type SimCluster, type SimClusterOptions, type SimStoreView, type SimTimings } from './cluster.ts';
export { RealClock, VirtualClock, type SimClock, type SimTimer, type AutoAdvanceOptions } from './clock.ts';
export { nodePoolsFromConfig, seedPriorityClasses, classPoolRequirements, SYSTEM_POOL, type FromConfigOptions } from './from-config.ts';
export type { NodePool, Taint, CapacityType } from './model/nodepool.ts';
export { instanceTypesRequirement } from './model/nodepool.ts';
export { OUTCOME_ANNOTATION, RUN_MS_ANNOTATION, type PodOutcome, type PodMatch } from './model/outcomes.ts';
export { kubeconfigYaml } from './kubeconfig.ts';
export type { Stored, KObject } from './api/types.ts';
export { EKS_TIMINGS, scaleTimings, expectedStartMs, imagePullMs, IMAGE_MB, PULL_MB_PER_S, type TimingProfile } from './timing-profile.ts';
export type { NodeCostReport, NodeCostLine } from './controllers/node-cost.ts';
