import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { RUNNER_TAINT } from '../runtime/k8s/labels.ts';
import { describe, onType, settings } from './lib/define.ts';
import { formatCpu, parseCpu } from './lib/quantity.ts';
import { asArray, isObject, TYPE } from './lib/types.ts';

/** Karpenter NodePools (one per runner class): bounded, tainted, gentle with running jobs. */

const nodePool = (props: Record<string, any>, name: string) => describe('NodePool', props, name);

const cpuSchema: PolicyConfigSchema = {
  properties: {
    maxCpu: { type: 'number', minimum: 1, default: 1024, description: 'The largest limits.cpu one NodePool may have (vCPUs).' },
  },
};

export const nodePoolCpuLimit: ResourceValidationPolicy = {
  name: 'nodepool-cpu-limit',
  description: 'Every NodePool sets spec.limits.cpu, within the organisation’s per-NodePool cap.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: cpuSchema,
  validateResource: onType(TYPE.nodePool, (props, args, report) => {
    const { maxCpu } = settings<{ maxCpu: number }>(args, cpuSchema);
    const raw = props.spec?.limits?.cpu;
    const cpu = parseCpu(raw);
    if (raw === undefined) {
      report(`${nodePool(props, args.name)} has no spec.limits.cpu, so Karpenter may launch nodes without bound. Fix: set the class's nodePoolCpuLimit (runs-fleet:classes[i].nodePoolCpuLimit).`);
    } else if (cpu === undefined) {
      report(`${nodePool(props, args.name)} has spec.limits.cpu ${JSON.stringify(raw)}, which is not a CPU quantity. Fix: use a number of vCPUs such as "64".`);
    } else if (cpu > maxCpu) {
      report(`${nodePool(props, args.name)} has spec.limits.cpu ${formatCpu(cpu)}, over the cap of ${maxCpu}. ` +
        `Fix: lower runs-fleet:classes[i].nodePoolCpuLimit to ≤ ${maxCpu}, or raise maxCpu for ${nodePoolCpuLimit.name} in the policy pack config.`);
    }
  }),
};

export const nodePoolRunnerTaint: ResourceValidationPolicy = {
  name: 'nodepool-runner-taint',
  description: 'Every NodePool taints its nodes with the runner taint, so only runners and placeholders land there.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType(TYPE.nodePool, (props, args, report) => {
    const taints = asArray(props.spec?.template?.spec?.taints).filter(isObject);
    const ok = taints.some((t) => t.key === RUNNER_TAINT.key && t.value === RUNNER_TAINT.value && (t.effect === 'NoSchedule' || t.effect === 'NoExecute'));
    if (!ok)
      report(`${nodePool(props, args.name)} does not taint its nodes ${RUNNER_TAINT.key}=${RUNNER_TAINT.value}:${RUNNER_TAINT.effect}, so any pod could schedule beside untrusted jobs. ` +
        `Fix: add that taint to spec.template.spec.taints (infra/karpenter-objects.ts nodePoolSpec).`);
  }),
};

const disruptionSchema: PolicyConfigSchema = {
  properties: {
    consolidationPolicies: {
      type: 'array', items: { type: 'string', enum: ['WhenEmpty', 'WhenEmptyOrUnderutilized'] }, default: ['WhenEmpty'],
      description: 'Consolidation policies allowed. WhenEmpty never moves a node that still runs a job.',
    },
    maxNodesPercent: { type: 'number', minimum: 0, maximum: 100, default: 20, description: 'The largest percentage a disruption budget may allow at once.' },
    maxNodes: { type: 'integer', minimum: 0, default: 10, description: 'The largest node count a disruption budget may allow at once.' },
  },
};

interface DisruptionSettings {
  consolidationPolicies: string[];
  maxNodesPercent: number;
  maxNodes: number;
}

export const nodePoolDisruption: ResourceValidationPolicy = {
  name: 'nodepool-disruption-protects-runners',
  description: 'NodePools consolidate only empty nodes and bound voluntary disruption with budgets, so running jobs are not interrupted.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: disruptionSchema,
  validateResource: onType(TYPE.nodePool, (props, args, report) => {
    const s = settings<DisruptionSettings>(args, disruptionSchema);
    const label = nodePool(props, args.name);
    const disruption = props.spec?.disruption ?? {};
    const policy = disruption.consolidationPolicy ?? 'WhenEmptyOrUnderutilized';
    if (!s.consolidationPolicies.includes(policy))
      report(`${label} has consolidationPolicy ${policy}, which may replace nodes that run jobs. Fix: set spec.disruption.consolidationPolicy to ${s.consolidationPolicies.join(' or ')}.`);
    const budgets = asArray(disruption.budgets).filter(isObject);
    if (budgets.length === 0)
      report(`${label} has no spec.disruption.budgets, so Karpenter's default (10% of nodes for every reason) applies. Fix: add budgets, e.g. [{nodes: "20%", reasons: [Empty]}, {nodes: "1", reasons: [Drifted]}].`);
    for (const [i, b] of budgets.entries()) {
      const problem = budgetProblem(String(b.nodes ?? ''), s);
      if (problem) report(`${label}: spec.disruption.budgets[${i}] ${problem}. Fix: allow at most ${s.maxNodesPercent}% or ${s.maxNodes} nodes per budget.`);
    }
  }),
};

function budgetProblem(nodes: string, s: DisruptionSettings): string | undefined {
  const pct = /^(\d+)%$/.exec(nodes);
  if (pct) return Number(pct[1]) > s.maxNodesPercent ? `allows ${nodes} of nodes at once` : undefined;
  if (/^\d+$/.test(nodes)) return Number(nodes) > s.maxNodes ? `allows ${nodes} nodes at once` : undefined;
  return `has nodes ${JSON.stringify(nodes)}, which is neither a count nor a percentage`;
}

export const nodePoolPolicies = [nodePoolCpuLimit, nodePoolRunnerTaint, nodePoolDisruption];
