import type { PolicyConfigSchema, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { COMPONENT, LABEL } from '../runtime/k8s/labels.ts';
import { describe, onType, settings } from './lib/define.ts';
import { readOnlyRootProblems, resourceProblems } from './lib/pod-spec.ts';
import { TYPE, type Json } from './lib/types.ts';

/**
 * The orchestrator receives every webhook: it must survive a node loss and voluntary
 * evictions (replicas + PDB), stay within its resources, and not write to its image.
 */

const isOrchestrator = (props: Json) => props.metadata?.labels?.[LABEL.component] === COMPONENT.orchestrator;
const FIX_SOURCE = 'infra/orchestrator.ts';

const haSchema: PolicyConfigSchema = {
  properties: {
    minReplicas: { type: 'integer', minimum: 1, default: 2, description: 'The fewest orchestrator replicas allowed.' },
  },
};

/** A PDB in the Deployment's namespace whose selector matches its pods. */
function coveringPdb(deployment: PolicyResource, pdbs: PolicyResource[]): PolicyResource | undefined {
  const podLabels: Record<string, unknown> = deployment.props.spec?.template?.metadata?.labels ?? {};
  return pdbs.find((p) => {
    if (p.props.metadata?.namespace !== deployment.props.metadata?.namespace) return false;
    const match: Record<string, unknown> = p.props.spec?.selector?.matchLabels ?? {};
    const keys = Object.keys(match);
    return keys.length > 0 && keys.every((k) => podLabels[k] === match[k]);
  });
}

/** Why the PDB would not keep a replica up, and the fix; undefined when it would. */
function pdbProblem(pdb: Json, replicas: number): string | undefined {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (minAvailable !== undefined) {
    return minAvailable === 0 || minAvailable === '0%'
      ? `minAvailable ${String(minAvailable)} keeps nothing up. Fix: set maxUnavailable: 1 instead (${FIX_SOURCE}).`
      : undefined;
  }
  if (maxUnavailable === undefined) return `sets neither minAvailable nor maxUnavailable. Fix: set maxUnavailable: 1 (${FIX_SOURCE}).`;
  if (maxUnavailable === '100%') return `maxUnavailable 100% lets every replica go at once. Fix: set maxUnavailable: 1 (${FIX_SOURCE}).`;
  if (typeof maxUnavailable === 'number' && maxUnavailable >= replicas)
    return `maxUnavailable ${maxUnavailable} with ${replicas} replica(s) lets every replica go at once. ` +
      `Fix: run more replicas than maxUnavailable (runs-fleet:orchestrator.replicas ≥ ${maxUnavailable + 1}) or lower maxUnavailable.`;
  return undefined;
}

export const orchestratorHighAvailability: StackValidationPolicy = {
  name: 'orchestrator-high-availability',
  description: 'The orchestrator runs at least 2 replicas with a PodDisruptionBudget that keeps one up (advisory for the dev stack through policies/config.dev.json).',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: haSchema,
  validateStack: (args, report) => {
    const { minReplicas } = settings<{ minReplicas: number }>(args, haSchema);
    const deployments = args.resources.filter((r) => r.type === TYPE.deployment && isOrchestrator(r.props));
    if (deployments.length === 0) return args.notApplicable('no runs-fleet orchestrator Deployment');
    const pdbs = args.resources.filter((r) => r.type === TYPE.pdb);
    for (const d of deployments) {
      const label = describe('Deployment', d.props, d.name);
      const replicas = typeof d.props.spec?.replicas === 'number' ? d.props.spec.replicas : 1;
      if (replicas < minReplicas)
        report(`${label} runs ${replicas} replica(s); a node loss or rollout would stop webhooks. Fix: set runs-fleet:orchestrator.replicas to ≥ ${minReplicas}.`, d.urn);
      const pdb = coveringPdb(d, pdbs);
      if (!pdb) {
        report(`${label} has no PodDisruptionBudget selecting its pods, so a node drain may evict every replica at once. ` +
          `Fix: add a PodDisruptionBudget with maxUnavailable: 1 and the Deployment's pod labels (${FIX_SOURCE}).`, d.urn);
        continue;
      }
      const problem = pdbProblem(pdb.props, replicas);
      if (problem) report(`${describe('PodDisruptionBudget', pdb.props, pdb.name)} for ${label}: ${problem}`, pdb.urn);
    }
  },
};

const limitsSchema: PolicyConfigSchema = {
  properties: {
    requireCpuLimit: { type: 'boolean', default: true, description: 'Also require limits.cpu (memory limits are always required).' },
  },
};

export const orchestratorResourceLimits: ResourceValidationPolicy = {
  name: 'orchestrator-resource-limits',
  description: 'Every orchestrator container sets resource requests and limits.',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  configSchema: limitsSchema,
  validateResource: onType(TYPE.deployment, (props, args, report) => {
    if (!isOrchestrator(props)) return args.notApplicable('not the runs-fleet orchestrator');
    const { requireCpuLimit } = settings<{ requireCpuLimit: boolean }>(args, limitsSchema);
    const problems = resourceProblems(props.spec?.template?.spec ?? {}, { requests: true, cpuLimit: requireCpuLimit });
    if (problems.length)
      report(`${describe('Deployment', props, args.name)}: ${problems.join('; ')}. Fix: set runs-fleet:orchestrator.cpuMilli and .memoryMiB and give every container resources.requests and resources.limits (${FIX_SOURCE}).`);
  }),
};

export const orchestratorReadOnlyRoot: ResourceValidationPolicy = {
  name: 'orchestrator-read-only-root-filesystem',
  description: 'Every orchestrator container runs with a read-only root filesystem.',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  validateResource: onType(TYPE.deployment, (props, args, report) => {
    if (!isOrchestrator(props)) return args.notApplicable('not the runs-fleet orchestrator');
    const problems = readOnlyRootProblems(props.spec?.template?.spec ?? {});
    if (problems.length)
      report(`${describe('Deployment', props, args.name)}: ${problems.join('; ')}. Fix: set securityContext.readOnlyRootFilesystem: true and give writable paths an emptyDir (${FIX_SOURCE}).`);
  }),
};

export const orchestratorPolicies = [orchestratorHighAvailability, orchestratorResourceLimits, orchestratorReadOnlyRoot];
