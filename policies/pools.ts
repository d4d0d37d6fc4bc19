import type { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { nodeCpuFor, runnersWithin } from '../runtime/capacity/runner-size.ts';
import { INFRA } from '../runtime/k8s/labels.ts';
import { describe, onType, settings } from './lib/define.ts';
import { isConfigDocumentMap, rawPools, type RawClass, type RawPool } from './lib/config-document.ts';
import { formatCpu, parseCpu } from './lib/quantity.ts';
import { TYPE } from './lib/types.ts';

/**
 * Warm pools hold placeholder pods on the class's NodePool. If their `max` could fill
 * the NodePool's `limits.cpu`, Karpenter stops adding nodes and runners queue behind
 * placeholders; these rules stop such a config at preview.
 */

const configMap = (props: Record<string, any>, name: string) => describe('ConfigMap', props, name);

export const warmPoolMinMax: ResourceValidationPolicy = {
  name: 'warm-pool-min-max',
  description: 'Each warm pool keeps min ≤ max, and each schedule’s min ≤ the pool’s max.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType(TYPE.configMap, (props, args, report) => {
    if (!isConfigDocumentMap(props)) return args.notApplicable('not the runs-fleet config document');
    for (const pool of rawPools(props)?.pools ?? []) {
      const at = `runs-fleet:pools[${pool.index}]`;
      if (pool.min === undefined || pool.max === undefined) {
        report(`${configMap(props, args.name)}: pool "${pool.name}" has no numeric min and max. Fix: set ${at}.min and ${at}.max.`);
        continue;
      }
      if (pool.min > pool.max)
        report(`${configMap(props, args.name)}: pool "${pool.name}" has min ${pool.min} > max ${pool.max}. Fix: raise ${at}.max to ≥ ${pool.min} or lower ${at}.min.`);
      for (const s of pool.scheduleMins.filter((s) => s.min > pool.max!))
        report(`${configMap(props, args.name)}: pool "${pool.name}" schedule "${s.name}" keeps min ${s.min} > the pool's max ${pool.max}. Fix: lower that schedule's min or raise ${at}.max.`);
    }
  }),
};

const capSchema: PolicyConfigSchema = {
  properties: {
    maxPlaceholdersPerPool: { type: 'integer', minimum: 0, default: 50, description: 'The largest `max` any one warm pool may have.' },
  },
};

export const warmPoolMaxCap: ResourceValidationPolicy = {
  name: 'warm-pool-max-cap',
  description: 'No warm pool may keep more placeholders than the organisation’s per-pool cap.',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  configSchema: capSchema,
  validateResource: onType(TYPE.configMap, (props, args, report) => {
    if (!isConfigDocumentMap(props)) return args.notApplicable('not the runs-fleet config document');
    const { maxPlaceholdersPerPool: cap } = settings<{ maxPlaceholdersPerPool: number }>(args, capSchema);
    for (const pool of rawPools(props)?.pools ?? []) {
      if (pool.max !== undefined && pool.max > cap)
        report(`${configMap(props, args.name)}: pool "${pool.name}" has max ${pool.max}, over the per-pool cap of ${cap}. ` +
          `Fix: lower runs-fleet:pools[${pool.index}].max to ≤ ${cap}, or raise maxPlaceholdersPerPool for ${warmPoolMaxCap.name} in the policy pack config.`);
    }
  }),
};

const budgetSchema: PolicyConfigSchema = {
  properties: {
    maxShareOfNodePoolCpu: {
      type: 'number', minimum: 0, maximum: 1, default: 1,
      description: 'The share of a NodePool’s limits.cpu that its class’s warm pools may fill with placeholders at their max (0.5 leaves half for runners beyond the warm ones).',
    },
  },
};

interface NodePoolView {
  urn: string;
  label: string;
  className: string;
  limit: number | undefined;
  annotatedCpu: number | undefined;
}

export const warmPoolCpuWithinNodePool: StackValidationPolicy = {
  name: 'warm-pool-cpu-within-nodepool',
  description: 'The placeholders of a class’s warm pools at their max (the whole nodes Σ max placeholders take) fit within its NodePool’s limits.cpu.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: budgetSchema,
  validateStack: (args, report) => {
    const { maxShareOfNodePoolCpu: share } = settings<{ maxShareOfNodePoolCpu: number }>(args, budgetSchema);
    const nodePools = args.resources.filter((r) => r.type === TYPE.nodePool).map((r): NodePoolView => ({
      urn: r.urn,
      label: describe('NodePool', r.props, r.name),
      className: String(r.props.metadata?.name ?? ''),
      limit: parseCpu(r.props.spec?.limits?.cpu),
      annotatedCpu: parseCpu(r.props.metadata?.annotations?.[INFRA.warmPoolMaxCpu]),
    }));
    const documents = args.resources.filter((r) => r.type === TYPE.configMap && isConfigDocumentMap(r.props));
    if (nodePools.length === 0 && documents.length === 0) return args.notApplicable('no NodePools and no runs-fleet config document');

    const read = documents.length ? rawPools(documents[0]!.props) : undefined;
    if (!read) {
      // No document to read: fall back to the program's own sum, annotated on each NodePool.
      for (const np of nodePools) {
        if (np.annotatedCpu !== undefined && np.limit !== undefined && np.annotatedCpu > np.limit * share)
          report(`${np.label}: its warm pools may hold ${formatCpu(np.annotatedCpu)} CPU of placeholders (${INFRA.warmPoolMaxCpu}), over ${budgetText(np.limit, share)}. ` +
            `Fix: lower the max of the class's pools or raise its nodePoolCpuLimit.`, np.urn);
      }
      return;
    }
    const byClass = new Map(nodePools.map((np) => [np.className, np]));
    const classes = new Map(read.classes.map((c) => [c.name, c]));
    const poolsByClass = groupBy(read.pools.filter((p) => p.max !== undefined), (p) => p.class);
    for (const [className, pools] of poolsByClass) {
      const cls = classes.get(className);
      const np = byClass.get(className);
      const where = pools.map((p) => `runs-fleet:pools[${p.index}]`).join(', ');
      if (!np || !cls || cls.cpu === undefined) {
        report(`pools ${pools.map((p) => `"${p.name}"`).join(', ')} (${where}) keep class "${className}" warm, but the stack has no NodePool for that class. ` +
          `Fix: add the class to runs-fleet:classes or point the pools at an existing class.`, documents[0]!.urn);
        continue;
      }
      checkBudget(np, cls, pools, share, report);
    }
  },
};

function checkBudget(np: NodePoolView, cls: RawClass, pools: RawPool[], share: number, report: (m: string, urn?: string) => void): void {
  const cpu = cls.cpu!;
  const shape = { cpu, runnersPerNode: cls.runnersPerNode };
  // Placeholders take whole nodes of the class's size, as runners do (runtime/capacity/runner-size.ts).
  const total = nodeCpuFor(shape, pools.reduce((sum, p) => sum + p.max!, 0));
  if (np.limit === undefined) {
    report(`${np.label} has no numeric spec.limits.cpu, so its warm pools (${formatCpu(total)} CPU at max) are unbounded. ` +
      `Fix: set runs-fleet:classes[${cls.index}].nodePoolCpuLimit.`, np.urn);
    return;
  }
  const budget = np.limit * share;
  if (total <= budget) return;
  const perNode = cls.runnersPerNode > 1 ? `, ${cls.runnersPerNode} per ${cpu * cls.runnersPerNode}-vCPU node` : '';
  const terms = pools.map((p) => `pool "${p.name}" ${p.max} × ${cpu}`).join(' + ') + perNode;
  const lower = pools.length === 1
    ? `lower runs-fleet:pools[${pools[0]!.index}].max to ≤ ${runnersWithin(shape, budget)}`
    : `lower the max of ${pools.map((p) => `runs-fleet:pools[${p.index}]`).join(', ')} so that Σ max ≤ ${runnersWithin(shape, budget)}`;
  report(`${np.label}: its warm pools may hold ${formatCpu(total)} CPU of placeholders (${terms}), over ${budgetText(np.limit, share)}; ` +
    `runners of class "${cls.name}" would queue behind placeholders. Fix: ${lower}, or raise runs-fleet:classes[${cls.index}].nodePoolCpuLimit to ≥ ${Math.ceil(total / share)}.`, np.urn);
}

function budgetText(limit: number, share: number): string {
  return share === 1 ? `its limits.cpu of ${formatCpu(limit)}` : `${share} × its limits.cpu of ${formatCpu(limit)} = ${formatCpu(limit * share)}`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

export const poolPolicies = [warmPoolMinMax, warmPoolMaxCap, warmPoolCpuWithinNodePool];
