import { parseConfigDocument, type ConfigDocument, type ConfigDocumentInput } from '../../runtime/config/document.ts';
import { DEFAULT_TIMINGS, EKS_TIMINGS, type SimTimings } from '../../sim/k8s/index.ts';

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

/**
 * The sim's one timing profile (sim/k8s/timing-profile.ts, each number with its source): node
 * launch → Ready 40 s, the 1.6 GB runner image ≈ 88 s to pull, warm start ≈ 4 s. The bench used
 * its own kinder numbers (50 s launch, 10 s pulls) before issue 13 made one profile for all.
 */
export const TIMINGS: Partial<SimTimings> = DEFAULT_TIMINGS;
/** WhenEmpty consolidateAfter: the Pulumi program's default (`runs-fleet:karpenter.consolidateAfter: 2m`). */
export const CONSOLIDATE_AFTER_MS = 120_000;
/** Instance types hold 1, 2 or 4 runners (nodePoolsFromConfig's default). */
export const MAX_RUNNERS_PER_NODE = 4;
/** The controller's pass interval (the orchestrator's default). */
export const CONTROLLER_INTERVAL_MS = 15_000;
/**
 * Runner nodes start with the image-warming startup taint and the orchestrator's image-warming
 * reconcile (runtime/controllers/image-warming) removes it, every policy alike: it is part of the
 * cluster the Pulumi program builds (runner.prePullImages defaults on). WARM_POOL_IMAGE_WARMING=0
 * replays without it, as before it existed.
 */
export const IMAGE_WARMING = process.env.WARM_POOL_IMAGE_WARMING !== '0';
/** The image-warming pass interval (the orchestrator's default). */
export const IMAGE_WARMING_INTERVAL_MS = 5_000;

/** An anchor (what the peers offer: a fixed pool, a cron pool) or the controller at one budget setting. */
export type PolicyKind = 'fixed' | 'scheduled' | 'controller';

export interface Policy {
  /** e.g. `fixed-2`, `scheduled-4`, `controller-a`: what a worker thread is told to replay. */
  name: string;
  kind: PolicyKind;
  title: string;
  /** How it is configured, for the doc. */
  config: string;
  /** The config document the runners (and the controller) see. */
  doc: ConfigDocument;
  /** A placeholder Deployment of this many replicas created once, with no controller. */
  fixedReplicas?: number;
  /** A cron pool: the Deployment scaled to `replicas` inside the window (UTC, these days of the week), to 0 outside. */
  schedule?: { replicas: number; weekdays: number[]; fromMinute: number; toMinute: number };
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

/** Weekday working hours (UTC), the window of the cron-pool anchors and of the controller's floor. */
export const WORKING_HOURS = { weekdays: [1, 2, 3, 4, 5], fromMinute: 8 * 60, toMinute: 18 * 60, title: 'weekdays 08:00–18:00 UTC' } as const;

/** Fixed pools of N placeholders all day (actions-runner-controller's minRunners). N = 0 is no pool: Karpenter only. */
export function fixedPolicy(n: number): Policy {
  if (n === 0) return { name: 'fixed-0', kind: 'fixed', title: 'no pool (fixed 0)', config: 'no placeholders; Karpenter only (empty nodes stay 2 min)', doc: document([]), controller: false };
  return {
    name: `fixed-${n}`, kind: 'fixed', title: `fixed ${n}`, config: `placeholder Deployment \`replicas: ${n}\` all day (\`buildPlaceholderDeployment\`), no controller`,
    doc: document([{ name: 'default', class: CLASS, min: n, max: n }]), fixedReplicas: n, controller: false,
  };
}

/** Cron pools: N placeholders during weekday working hours, 0 otherwise (the Terraform AWS runner module's idle config, RunsOn's schedules). */
export function scheduledPolicy(n: number): Policy {
  return {
    name: `scheduled-${n}`, kind: 'scheduled', title: `scheduled ${n}`, config: `placeholder Deployment scaled to ${n} ${WORKING_HOURS.title}, to 0 otherwise, no controller`,
    doc: document([{ name: 'default', class: CLASS, min: n, max: n }]), fixedReplicas: n, controller: false,
    schedule: { replicas: n, weekdays: [...WORKING_HOURS.weekdays], fromMinute: WORKING_HOURS.fromMinute, toMinute: WORKING_HOURS.toMinute },
  };
}

/** The controller's budget settings swept: its floor (min, schedules), ceiling (max) and idle cap. */
export interface ControllerSetting {
  /** Short key: `controller-<key>`. */
  key: string;
  title: string;
  pool: Partial<PoolInput>;
}

const floor = (n: number): NonNullable<PoolInput['schedules']> => [{ name: 'working-hours', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00', timeZone: 'UTC', min: n }];

/**
 * Default sweep: three budgets, from about the fixed pool of 2's spend up to about the fixed
 * pool of 8's, and two with room for a whole fan-out wave on top of the floor (a matrix is up
 * to 16 jobs; A–C's max would cut the slots warmed for it), between A's spend and C's.
 */
export const CONTROLLER_SETTINGS: readonly ControllerSetting[] = [
  { key: 'a', title: 'controller A: floor 2 in working hours, max 8, idle cap 112 CPU-h', pool: {} },
  { key: 'b', title: 'controller B: min 1, floor 4 in working hours, max 12, idle cap 250 CPU-h', pool: { min: 1, max: 12, schedules: floor(4), idleCpuHoursPerDayCap: 250 } },
  { key: 'c', title: 'controller C: min 2, floor 8 in working hours, max 16, idle cap 500 CPU-h', pool: { min: 2, max: 16, schedules: floor(8), idleCpuHoursPerDayCap: 500 } },
  { key: 'w2', title: 'controller W2: min 1, floor 2 in working hours, max 24, idle cap 160 CPU-h', pool: { min: 1, max: 24, schedules: floor(2), idleCpuHoursPerDayCap: 160 } },
  { key: 'w4', title: 'controller W4: min 1, floor 4 in working hours, max 24, idle cap 250 CPU-h', pool: { min: 1, max: 24, schedules: floor(4), idleCpuHoursPerDayCap: 250 } },
];

/** More budgets with WARM_POOL_GRID=full. */
export const MORE_CONTROLLER_SETTINGS: readonly ControllerSetting[] = [
  { key: 'lean', title: 'controller lean: floor 1 in working hours, max 4, idle cap 50 CPU-h', pool: { max: 4, schedules: floor(1), idleCpuHoursPerDayCap: 50 } },
  { key: 'd', title: 'controller D: min 4, floor 12 in working hours, max 24, idle cap 900 CPU-h', pool: { min: 4, max: 24, schedules: floor(12), idleCpuHoursPerDayCap: 900 } },
  { key: 'uncapped', title: 'controller, floor 2 in working hours, max 16, no idle cap', pool: { max: 16, idleCpuHoursPerDayCap: undefined } },
];

export function controllerPolicy(setting: ControllerSetting): Policy {
  return {
    name: `controller-${setting.key}`, kind: 'controller', title: setting.title.split(':')[0]!, config: setting.title.replace(/^[^:]*: /, ''),
    doc: document([{ ...CONTROLLER_POOL, ...setting.pool }]), controller: true,
  };
}

const ints = (v: string | undefined, fallback: number[]) => (v ? v.split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x >= 0) : fallback);

/**
 * The grid. Fixed pools step by one up to 8 because the cheapest anchor that reaches p95 ≤ 10 s
 * sits between 5 and 8 on these traces: a grid of 0,2,4,8,16 let fixed 8 stand in for it and
 * made the controller look 0.67× cheaper than an anchor when fixed 7 (or fixed 5, fan-out
 * seed 2) was the real one (0.74–0.91×). The default (fixed 0–8,12,16, scheduled 4,6,8,
 * controller A–C, W2, W4) with one seed takes ~8–10 min on 2 shared cores (a replay takes 8–30 s,
 * a controller's 60–80 s under load); WARM_POOL_GRID=full is the whole grid (fixed 0–16,
 * scheduled 1–8,12,16 and more controller budgets), and WARM_POOL_FIXED / WARM_POOL_SCHEDULED
 * (comma lists) set the anchors.
 */
export function sweepPolicies(env: NodeJS.ProcessEnv = process.env): Policy[] {
  const full = env.WARM_POOL_GRID === 'full';
  const upTo = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);
  const fixed = ints(env.WARM_POOL_FIXED, full ? upTo(16) : [...upTo(8), 12, 16]);
  const scheduled = ints(env.WARM_POOL_SCHEDULED, full ? [...upTo(8), 12, 16] : [4, 6, 8]).filter((n) => n > 0);
  const settings = full ? [...CONTROLLER_SETTINGS, ...MORE_CONTROLLER_SETTINGS] : CONTROLLER_SETTINGS;
  return [...fixed.map(fixedPolicy), ...scheduled.map(scheduledPolicy), ...settings.map(controllerPolicy)];
}

/** A policy by its name (what a worker thread is told to replay). */
export function policyByName(name: string): Policy {
  let m = /^fixed-(\d+)$/.exec(name);
  if (m) return fixedPolicy(Number(m[1]));
  m = /^scheduled-(\d+)$/.exec(name);
  if (m) return scheduledPolicy(Number(m[1]));
  const setting = [...CONTROLLER_SETTINGS, ...MORE_CONTROLLER_SETTINGS].find((s) => `controller-${s.key}` === name);
  if (setting) return controllerPolicy(setting);
  throw new Error(`unknown policy "${name}": fixed-N, scheduled-N or controller-{${[...CONTROLLER_SETTINGS, ...MORE_CONTROLLER_SETTINGS].map((s) => s.key).join(',')}}`);
}

/** The default sweep (for the check scripts). */
export const POLICIES: readonly Policy[] = sweepPolicies({});

/** Pull time of the runner image on a node that lacks it, from the timing profile. */
export const RUNNER_IMAGE_PULL_MS = EKS_TIMINGS.imagePullMs(document([]).runner.image);
