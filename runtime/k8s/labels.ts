/** Every label, annotation, taint and key runs-fleet puts on Kubernetes objects, in one place. */
export const DOMAIN = 'runs-fleet.io';

export const LABEL = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  component: `${DOMAIN}/component`,
  class: `${DOMAIN}/class`,
  pool: `${DOMAIN}/pool`,
  jobId: `${DOMAIN}/job-id`,
  runAttempt: `${DOMAIN}/run-attempt`,
  templateHash: `${DOMAIN}/template-hash`,
} as const;

export const ANNOTATION = {
  doNotDisrupt: 'karpenter.sh/do-not-disrupt',
  repo: `${DOMAIN}/repository`,
  /** Runner pods: the job's workflow run, workflow and job name (what the warm pool learns pipelines from). */
  runId: `${DOMAIN}/run-id`,
  workflow: `${DOMAIN}/workflow`,
  jobName: `${DOMAIN}/job-name`,
  runnerName: `${DOMAIN}/runner-name`,
  infraRetry: `${DOMAIN}/infrastructure-retry`,
  templateHash: `${DOMAIN}/template-hash`,
} as const;

export const MANAGED_BY = 'runs-fleet';
export const COMPONENT = { runner: 'runner', placeholder: 'placeholder', orchestrator: 'orchestrator', imagePrePull: 'image-prepull' } as const;

/** Runner nodes carry this taint (set on every NodePool) so that only runners and placeholders land there. */
export const RUNNER_TAINT = { key: `${DOMAIN}/runner`, value: 'true', effect: 'NoSchedule' } as const;

/**
 * A Karpenter startup taint on every runner node while it pulls the runner image (set when
 * `runner.prePullImages` is on). Placeholders tolerate it, runners do not: a new node takes
 * placeholders first, whose pre-pull init containers pull the runner image, and only once one
 * of them is Ready (image on the node) does the orchestrator remove the taint and let runners
 * land (runtime/controllers/image-warming). Karpenter ignores startup taints when it decides
 * whether a pod fits a NodePool and expects another system to remove them
 * (karpenter.sh/v1.9/concepts/nodepools, "startupTaints").
 */
export const IMAGE_WARMING_TAINT = { key: `${DOMAIN}/image-warming`, value: 'true', effect: 'NoSchedule' } as const;

/** Node label (from the NodePool template) naming the class a node was provisioned for. */
export const NODE_CLASS_LABEL = LABEL.class;

/** Well-known node labels the scheduler and Karpenter understand. */
export const NODE = {
  arch: 'kubernetes.io/arch',
  os: 'kubernetes.io/os',
  capacityType: 'karpenter.sh/capacity-type',
  instanceFamily: 'karpenter.k8s.aws/instance-family',
  instanceGeneration: 'karpenter.k8s.aws/instance-generation',
  nodePool: 'karpenter.sh/nodepool',
} as const;

/** Container and Secret names inside a runner pod. */
export const RUNNER_CONTAINER = 'runner';
export const DIND_CONTAINER = 'dind';
export const JIT_SECRET_KEY = 'jitToken';
export const JIT_ENV = 'ACTIONS_RUNNER_INPUT_JITCONFIG';

/** Keys the Pulumi program puts on infrastructure objects (policies read them too). */
export const INFRA = {
  /** Node label of the system node group (orchestrator, Valkey, Karpenter, CoreDNS run there). */
  nodeRoleLabel: `${DOMAIN}/node-role`,
  /** NodePool annotation: the most CPU the class's warm pools may hold in placeholders (Σ pool.max × class cpu). */
  warmPoolMaxCpu: `${DOMAIN}/warm-pool-max-cpu`,
  /** Pod-template annotation: sha256 of the orchestrator bundle; a new bundle rolls the Deployment. */
  bundleSha256: `${DOMAIN}/bundle-sha256`,
  /** ConfigMap annotation: sha256 of the rendered config document. */
  configSha256: `${DOMAIN}/config-sha256`,
} as const;
