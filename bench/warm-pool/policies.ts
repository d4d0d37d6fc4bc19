import { parseConfigDocument, type ConfigDocument, type ConfigDocumentInput } from '../../runtime/config/document.ts';
import type { SimTimings } from '../../sim/k8s/index.ts';

/**
 * What the benchmark runs: one runner class (the example stack's default
 * `4cpu-linux-arm64`), the cluster timings, and the three warm-pool policies compared.
 */

export const NAMESPACE = 'runs-fleet-runners';
export const CLASS = '4cpu-linux-arm64';
export const CLASS_CPU = 4;

const CLASS_DEF = {
  name: CLASS, arch: 'arm64', cpu: CLASS_CPU, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g', 'm7g'], nodePoolCpuLimit: 192,
} as const;

const RUNNER_IMAGE = 'ghcr.io/actions/actions-runner:2.328.0';
const DIND_IMAGE = 'docker:28.3.3-dind';

/** Pulls on a node that lacks the image; each node pulls each image once (runner and dind in parallel). */
export const IMAGE_PULL_MS: Readonly<Record<string, number>> = { [RUNNER_IMAGE]: 10_000, [DIND_IMAGE]: 5_000 };
const OTHER_IMAGE_PULL_MS = 1_000;

export const TIMINGS: Partial<SimTimings> = {
  provisioningMs: 50_000,
  batchIdleMs: 1_000,
  batchMaxMs: 10_000,
  imagePullMs: (image) => IMAGE_PULL_MS[image] ?? OTHER_IMAGE_PULL_MS,
  containerStartMs: 500,
  // dockerd's startup probe (`docker info`) passing; the runner container starts after it.
  readinessMs: 3_000,
};

/** WhenEmpty consolidateAfter: the Pulumi program's default (`runs-fleet:karpenter.consolidateAfter: 2m`). */
export const CONSOLIDATE_AFTER_MS = 120_000;
/** Instance types hold 1, 2 or 4 runners (nodePoolsFromConfig's default). */
export const MAX_RUNNERS_PER_NODE = 4;
/** The controller's pass interval (the orchestrator's default). */
export const CONTROLLER_INTERVAL_MS = 15_000;

export type PolicyName = 'no-pool' | 'fixed' | 'controller' | 'controller-uncapped';

export interface Policy {
  name: PolicyName;
  title: string;
  /** How it is configured, for the doc. */
  config: string;
  /** The config document the runners (and the controller) see. */
  doc: ConfigDocument;
  /** A placeholder Deployment of this many replicas created once, with no controller. */
  fixedReplicas?: number;
  /** Run the WarmPoolController every CONTROLLER_INTERVAL_MS. */
  controller: boolean;
}

/**
 * The controller's pool, as an operator replacing the fixed 2-replica pool would set it:
 * the same 2 warm during working hours (a schedule floor), nothing warm at night, demand
 * (rate and matrix bursts) may add up to 6 more, and the idle spend above the floor is
 * capped at what the fixed pool costs minus what the floor holds: the fixed pool is
 * 2 × 4 vCPU × 24 h = 192 CPU-h a day, the floor 2 × 4 × 10 h = 80, so 112 — the pool can
 * never hold more idle placeholder capacity in a day than the fixed one (80 + 112 = 192).
 * (The first runs used 96, half the fixed pool's day: a margin with no reason behind it,
 * which gave the controller less to spend than the pool it is compared with.)
 */
type PoolInput = NonNullable<ConfigDocumentInput['pools']>[number];

export const CONTROLLER_POOL: PoolInput = {
  name: 'default',
  class: CLASS,
  min: 0,
  max: 8,
  schedules: [{ name: 'working-hours', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00', timeZone: 'UTC', min: 2 }],
  scaleDownDelaySeconds: 600,
  idleCpuHoursPerDayCap: 112,
};

/** The seeds' warm pool: a placeholder Deployment with 2 replicas ("maintain 2 warm nodes"), all day. */
export const FIXED_POOL: PoolInput = { name: 'default', class: CLASS, min: 2, max: 2 };

function document(pools: PoolInput[]): ConfigDocument {
  return parseConfigDocument({ classes: [CLASS_DEF], pools }, 'bench');
}

/**
 * The controller at other settings, replayed on the working day only: what a p95 below a
 * cold start costs. Two ladders: the benchmark's pool with a larger idle cap, and a floor
 * of 2 all day (the fixed pool's own spend) plus a cap for following demand above it.
 */
export interface CurveSetting {
  title: string;
  pool: Partial<PoolInput>;
}

export const COST_CURVE: readonly CurveSetting[] = [
  { title: 'idle cap 200 CPU-h', pool: { idleCpuHoursPerDayCap: 200 } },
  { title: 'idle cap 300 CPU-h', pool: { idleCpuHoursPerDayCap: 300 } },
  { title: 'min 2 all day, idle cap 25 CPU-h', pool: { min: 2, idleCpuHoursPerDayCap: 25 } },
  { title: 'min 2 all day, idle cap 50 CPU-h', pool: { min: 2, idleCpuHoursPerDayCap: 50 } },
  { title: 'min 2 all day, idle cap 100 CPU-h', pool: { min: 2, idleCpuHoursPerDayCap: 100 } },
];

/** A cost-curve setting as a policy: the controller's pool with the setting's fields. */
export function curvePolicy(setting: CurveSetting): Policy {
  return { name: 'controller', title: `controller, ${setting.title}`, config: setting.title, doc: document([{ ...CONTROLLER_POOL, ...setting.pool }]), controller: true };
}

export const POLICIES: readonly Policy[] = [
  { name: 'no-pool', title: 'no pool', config: 'no placeholders; Karpenter only (empty nodes stay 2 min)', doc: document([]), controller: false },
  {
    name: 'fixed',
    title: 'fixed pool (2)',
    config: 'placeholder Deployment `replicas: 2`, built with `buildPlaceholderDeployment`, no controller',
    doc: document([FIXED_POOL]),
    fixedReplicas: 2,
    controller: false,
  },
  {
    name: 'controller',
    title: 'controller',
    config: 'min 0, max 8, weekdays 08:00–18:00 UTC min 2, scale-down delay 600 s, idle cap 112 CPU-h/day above the floor (the fixed pool\'s 192 minus the 80 the floor holds)',
    doc: document([CONTROLLER_POOL]),
    controller: true,
  },
  {
    // Not one of the three compared policies: shows what the same controller does when idle spend is not capped.
    name: 'controller-uncapped',
    title: 'controller, no idle cap',
    config: 'the controller\'s pool without `idleCpuHoursPerDayCap` (for comparison: what demand-following alone would spend)',
    doc: document([{ ...CONTROLLER_POOL, idleCpuHoursPerDayCap: undefined }]),
    controller: true,
  },
];
