import type { ResourceValidationPolicy } from '@pulumi/policy';
import { describe, onTypes, type PropsValidation } from './lib/define.ts';
import { asArray, isObject, TYPE, type Json } from './lib/types.ts';

/**
 * Valkey holds the job queue: a restart must not lose queued jobs (persistence on a
 * volume), and only clients with the password may read or write it.
 */

const WORKLOADS = [TYPE.statefulSet, TYPE.deployment] as const;
const FIX_SOURCE = 'infra/valkey.ts';
/** Policies about the in-cluster Valkey: they apply to nothing when the queue is on ElastiCache. */
export const IN_CLUSTER_TAG = 'valkey-in-cluster';

interface ValkeyContainer {
  label: string;
  c: Json;
  /** command + args, as strings. */
  argv: string[];
}

/** The Valkey (or Redis) server containers of a workload, by image name. */
function valkeyContainers(props: Json): ValkeyContainer[] {
  const spec = props.spec?.template?.spec ?? {};
  return asArray(spec.containers)
    .filter(isObject)
    .filter((c) => typeof c.image === 'string' && /(^|\/)(valkey|redis)([:@]|$)/.test(c.image))
    .map((c) => ({ label: `container "${String(c.name)}"`, c, argv: [...asArray(c.command), ...asArray(c.args)].map(String) }));
}

function valkeyPolicy(name: string, description: string, validate: (v: ValkeyContainer, props: Json, label: string) => string | undefined): ResourceValidationPolicy {
  const check: PropsValidation = (props, args, report) => {
    const containers = valkeyContainers(props);
    if (containers.length === 0) return args.notApplicable('runs no Valkey container');
    const label = describe(args.type === TYPE.statefulSet ? 'StatefulSet' : 'Deployment', props, args.name);
    for (const v of containers) {
      const problem = validate(v, props, label);
      if (problem) report(problem);
    }
  };
  return { name, description, enforcementLevel: 'mandatory', severity: 'high', tags: [IN_CLUSTER_TAG], validateResource: onTypes(WORKLOADS, check) };
}

/** The value after `--flag` (valkey-server's command-line form). */
function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export const valkeyPersistence = valkeyPolicy(
  'valkey-persistence',
  'Valkey persists the queue: append-only file (--appendonly yes) or RDB snapshots (--save).',
  (v, _props, label) => {
    const aof = flag(v.argv, 'appendonly') === 'yes';
    const save = flag(v.argv, 'save');
    if (aof || (save !== undefined && save.trim() !== '')) return undefined;
    return `${label}: ${v.label} runs without persistence, so a restart loses every queued job. Fix: start valkey-server with --appendonly yes (${FIX_SOURCE}).`;
  },
);

export const valkeyVolume = valkeyPolicy(
  'valkey-volume',
  'Valkey keeps its data directory on a persistent volume (a PersistentVolumeClaim), not the container filesystem or an emptyDir.',
  (v, props, label) => {
    const dir = flag(v.argv, 'dir') ?? '/data';
    const mount = asArray(v.c.volumeMounts).find((m) => m?.mountPath === dir);
    const claims = new Set(asArray(props.spec?.volumeClaimTemplates).map((t) => t?.metadata?.name));
    const volume = asArray(props.spec?.template?.spec?.volumes).find((vol) => vol?.name === mount?.name);
    if (mount && (claims.has(mount.name) || volume?.persistentVolumeClaim !== undefined)) return undefined;
    const has = mount ? `volume "${String(mount.name)}", which is not a PersistentVolumeClaim` : 'no volume';
    return `${label}: ${v.label} keeps its data directory ${dir} on ${has}, so the queue is lost with the pod. ` +
      `Fix: mount a volumeClaimTemplate at ${dir} (${FIX_SOURCE}).`;
  },
);

export const valkeyPassword = valkeyPolicy(
  'valkey-password',
  'Valkey requires a password: --requirepass, or a config file mounted from a Secret (which keeps the password off the command line).',
  (v, props, label) => {
    if (v.argv.includes('--requirepass')) return undefined;
    // valkey-server reads a config file only as its first argument (argv[1], or argv[0] when the image's entrypoint runs the server).
    const candidates = v.argv.slice(0, 2).filter((a) => a.startsWith('/'));
    const secretVolumes = new Set(asArray(props.spec?.template?.spec?.volumes).filter((vol) => vol?.secret !== undefined).map((vol) => vol.name));
    const fromSecret = asArray(v.c.volumeMounts).some((m) =>
      secretVolumes.has(m?.name) && typeof m?.mountPath === 'string' && candidates.some((f) => f.startsWith(`${m.mountPath.replace(/\/$/, '')}/`)));
    if (fromSecret) return undefined;
    return `${label}: ${v.label} starts without a password (no --requirepass, no config file from a Secret), so any pod that reaches it can read and write the queue. ` +
      `Fix: mount a Secret holding "requirepass <password>" and pass that file as valkey-server's first argument (${FIX_SOURCE}).`;
  },
);

export const valkeyPdbAllowsDrain: ResourceValidationPolicy = {
  name: 'valkey-pdb-allows-drain',
  description: 'A PodDisruptionBudget over the (single-replica) Valkey lets a drain evict it: maxUnavailable ≥ 1, not minAvailable ≥ 1, which blocks every drain of its node.',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  tags: [IN_CLUSTER_TAG],
  validateResource: onTypes([TYPE.pdb], (props, args, report) => {
    if (props.spec?.selector?.matchLabels?.['app.kubernetes.io/name'] !== 'valkey') return args.notApplicable('not a Valkey PDB');
    const { minAvailable, maxUnavailable } = props.spec ?? {};
    const blocks = (minAvailable !== undefined && minAvailable !== 0 && minAvailable !== '0%') || maxUnavailable === 0 || maxUnavailable === '0%';
    if (blocks)
      report(`${describe('PodDisruptionBudget', props, args.name)}: ${minAvailable !== undefined ? `minAvailable ${String(minAvailable)}` : `maxUnavailable ${String(maxUnavailable)}`} ` +
        `on a single Valkey pod blocks every drain of its node (node upgrades stall). Fix: set maxUnavailable: 1 (${FIX_SOURCE}).`);
  }),
};

export const valkeyPolicies = [valkeyPersistence, valkeyVolume, valkeyPassword, valkeyPdbAllowsDrain];
