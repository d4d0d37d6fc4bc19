import { z } from 'zod';
import { ConfigError } from '../util/errors.ts';
import { formatIssues } from './issues.ts';
import { DEFAULT_RUNNER_IMAGE } from './runner-release.ts';

/**
 * The config document: runner classes, warm pools and label aliases. The Pulumi
 * program renders it from stack config into a ConfigMap; locally it is the file
 * named by RUNS_FLEET_CONFIG_FILE (JSON or YAML). Both go through parseConfigDocument,
 * so what `pulumi up` ships is exactly what the runtime accepts.
 */

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and "-", starting and ending alphanumeric')
  .max(40, 'must be at most 40 characters (it prefixes Kubernetes object names)');

export const Arch = z.enum(['arm64', 'amd64']);
export type Arch = z.infer<typeof Arch>;
export const CapacityType = z.enum(['spot', 'on-demand']);
export type CapacityType = z.infer<typeof CapacityType>;

const image = z
  .string()
  .min(1)
  .refine((s) => !s.endsWith(':latest') && /:[^/]+$|@sha256:/.test(s), 'must be pinned to a tag or digest other than :latest');

export const RunnerClass = z.object({
  /** Referenced by `runner=<name>` and by pools; names the NodePool. */
  name: dnsLabel,
  arch: Arch,
  /** vCPUs of a runner of this class: its nodes have cpu × runnersPerNode vCPUs (runtime/capacity/runner-size.ts). */
  cpu: z.number().int().min(1).max(192),
  /** GiB of memory of a runner: its nodes have memoryGiB × runnersPerNode GiB. */
  memoryGiB: z.number().min(1).max(1536),
  /**
   * Runners one node of the class holds. The runner pod requests its share of what the node
   * offers after Karpenter's reserves and the DaemonSets, so a class fits its instance size.
   */
  runnersPerNode: z.number().int().min(1).max(32).default(1),
  /** GiB of node root volume for this class (one EC2NodeClass per distinct size). */
  diskGiB: z.number().int().min(20).max(16384),
  capacityTypes: z.array(CapacityType).min(1).default(['spot', 'on-demand']),
  /** EC2 instance families Karpenter may choose from, e.g. `c7g`. */
  instanceFamilies: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be an EC2 instance family such as c7g')).min(1),
  /** NodePool `limits.cpu`: the most vCPUs this class may run at once. */
  nodePoolCpuLimit: z.number().int().min(1),
  /** A runner of this class is stopped after this long (Job `activeDeadlineSeconds`). */
  maxDurationMinutes: z.number().int().min(1).max(4320).default(360),
  /** A runner pod may stay Pending this long (covers node provisioning) before it counts as failed. */
  pendingTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
  /**
   * The runner pod template for this class (a Kubernetes PodTemplateSpec). The Pulumi
   * program renders it with buildClassPodTemplate; when absent the runtime builds the same.
   */
  podTemplate: z.record(z.string(), z.unknown()).optional(),
});
export type RunnerClass = z.infer<typeof RunnerClass>;

const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof weekday>;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const PoolSchedule = z
  .object({
    name: z.string().min(1).optional(),
    /** Days the window starts on; an overnight window (end ≤ start) runs into the next day. */
    days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    start: hhmm,
    end: hhmm,
    timeZone: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
    /** Placeholders kept during this window (replaces the pool's `min`). */
    min: z.number().int().min(0),
  })
  .refine((s) => s.start !== s.end, { message: 'start and end must differ', path: ['end'] });
export type PoolSchedule = z.infer<typeof PoolSchedule>;

export const Pool = z
  .object({
    /** Referenced by `pool=<name>`. */
    name: dnsLabel,
    /** The runner class whose nodes this pool keeps warm. */
    class: z.string().min(1),
    min: z.number().int().min(0),
    max: z.number().int().min(0),
    schedules: z.array(PoolSchedule).default([]),
    /** Wait this long after demand falls before removing placeholders. */
    scaleDownDelaySeconds: z.number().int().min(0).max(86_400).default(600),
    /** Most idle placeholder CPU-hours per day the controller may spend above `min`. */
    idleCpuHoursPerDayCap: z.number().min(0).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.max < p.min) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be ≥ min (${p.max} < ${p.min})` });
    p.schedules.forEach((s, i) => {
      if (s.min > p.max)
        ctx.addIssue({ code: 'custom', path: ['schedules', i, 'min'], message: `must be ≤ the pool's max (${s.min} > ${p.max})` });
    });
  });
export type Pool = z.infer<typeof Pool>;

export const LabelAlias = z.object({
  /** A runs-on label (exact), or a regular expression when `regex` is true. */
  match: z.string().min(1),
  regex: z.boolean().default(false),
  /** The label spec the alias stands for, e.g. `runner=8cpu-linux-arm64/spot=false`. */
  spec: z.string().min(1),
});
export type LabelAlias = z.infer<typeof LabelAlias>;

export const RunnerSettings = z.object({
  /** JIT runners are registered on the organisation (`org`) or on the repository (`repo`). */
  scope: z.enum(['org', 'repo']).default('org'),
  /** Runner group for JIT runners; 1 is GitHub's "Default" group. */
  runnerGroupId: z.number().int().min(1).default(1),
  /** The runner image; with `version: latest`, the image new runners start from until the latest release is resolved. */
  image: image.default(DEFAULT_RUNNER_IMAGE),
  /**
   * `pinned` (default): runners use `image` as written. `latest`: the orchestrator follows
   * GitHub's latest actions/runner release — it pre-pulls a new one through the warm-pool
   * placeholders, then switches new runners to `image` with that tag.
   */
  version: z.enum(['pinned', 'latest']).default('pinned'),
  dindImage: image.default('docker:28.3.3-dind'),
  pauseImage: image.default('registry.k8s.io/pause:3.10'),
  /**
   * Placeholders pull `image` and `dindImage` first (init containers that run `true`), so a
   * runner taking a placeholder's place on a new node starts without pulling. Turn off for
   * images that have no `true` on their PATH.
   */
  prePullImages: z.boolean().default(true),
  serviceAccountName: dnsLabel.default('runs-fleet-runner'),
  priorityClassName: z.string().min(1).default('runs-fleet-runner'),
  placeholderPriorityClassName: z.string().min(1).default('runs-fleet-placeholder'),
  /** Finished runner Jobs (and their Secrets) are deleted this long after they end. */
  ttlSecondsAfterFinished: z.number().int().min(0).default(300),
  /** A job that failed mid-run because its node went away is re-run through GitHub at most this often (per job, across attempts). */
  maxInfraRetries: z.number().int().min(0).max(5).default(1),
  /**
   * Cancel the workflow run of a job runs-fleet rejects (bad label, unknown class, beyond every
   * class), besides the check run that tells its author why. Off by default: a run may have other
   * jobs that would still succeed. Needs the App's Actions: write.
   */
  cancelRejectedRuns: z.boolean().default(false),
  /** A job still queued on GitHub whose runner was lost or taken is provisioned again at most this often. */
  maxReprovisions: z.number().int().min(0).max(10).default(2),
});
export type RunnerSettings = z.infer<typeof RunnerSettings>;

export const ConfigDocument = z
  .object({
    runner: RunnerSettings.default(RunnerSettings.parse({})),
    classes: z.array(RunnerClass).min(1, 'must define at least one runner class'),
    pools: z.array(Pool).default([]),
    aliases: z.array(LabelAlias).default([]),
  })
  .superRefine((doc, ctx) => {
    const classes = new Set<string>();
    doc.classes.forEach((c, i) => {
      if (classes.has(c.name)) ctx.addIssue({ code: 'custom', path: ['classes', i, 'name'], message: `duplicates class "${c.name}"` });
      classes.add(c.name);
    });
    const pools = new Set<string>();
    doc.pools.forEach((p, i) => {
      if (pools.has(p.name)) ctx.addIssue({ code: 'custom', path: ['pools', i, 'name'], message: `duplicates pool "${p.name}"` });
      pools.add(p.name);
      if (!classes.has(p.class))
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, 'class'],
          message: `names unknown class "${p.class}" (known: ${[...classes].join(', ')})`,
        });
    });
  });
export type ConfigDocument = z.infer<typeof ConfigDocument>;
export type ConfigDocumentInput = z.input<typeof ConfigDocument>;

/** Validates a raw document; throws ConfigError listing every problem by path (prefixed with `source`). */
export function parseConfigDocument(raw: unknown, source = ''): ConfigDocument {
  const result = ConfigDocument.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error, source, raw));
  return result.data;
}

export function findClass(doc: ConfigDocument, name: string): RunnerClass | undefined {
  return doc.classes.find((c) => c.name === name);
}

export function findPool(doc: ConfigDocument, name: string): Pool | undefined {
  return doc.pools.find((p) => p.name === name);
}
