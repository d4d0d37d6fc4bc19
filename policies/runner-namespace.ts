import type { PolicyConfigSchema, PolicyResource, StackValidationArgs, StackValidationPolicy } from '@pulumi/policy';
import { METADATA_CIDRS, POD_SECURITY } from '../infra/runner-guardrails.ts';
import { COMPONENT, LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import { isConfigDocumentMap } from './lib/config-document.ts';
import { describe, settings } from './lib/define.ts';
import { egressReaching, isDefaultDenyIngress, restrictsAllEgress } from './lib/network-policy.ts';
import { asArray, isObject, TYPE } from './lib/types.ts';

/**
 * The runner namespace holds untrusted jobs: nothing may connect in, and nothing may
 * reach the instance metadata service (node credentials) on the way out.
 */

const namespaceSchema: PolicyConfigSchema = {
  properties: {
    runnerNamespaces: {
      type: 'array', items: { type: 'string' }, default: [],
      description: 'Extra namespaces to treat as runner namespaces (the runner namespace of the program is found on its own).',
    },
  },
};

const PRIVILEGED = POD_SECURITY.runners['pod-security.kubernetes.io/enforce'];

/**
 * Runner namespaces: the one the orchestrator creates runners in (its
 * RUNS_FLEET_RUNNER_NAMESPACE), every runs-fleet namespace that admits privileged pods
 * (only the runners' needs to), and any the policy config names.
 */
function runnerNamespaces(args: StackValidationArgs): { names: Set<string>; urnOf: Map<string, string> } {
  const { runnerNamespaces: extra } = settings<{ runnerNamespaces: string[] }>(args, namespaceSchema);
  const names = new Set<string>(extra);
  const urnOf = new Map<string, string>();
  for (const r of args.resources) {
    const labels = r.props.metadata?.labels ?? {};
    if (r.type === TYPE.namespace && labels[LABEL.managedBy] === MANAGED_BY) {
      urnOf.set(String(r.props.metadata?.name), r.urn);
      if (labels['pod-security.kubernetes.io/enforce'] === PRIVILEGED) names.add(String(r.props.metadata?.name));
    }
    if (r.type === TYPE.deployment && labels[LABEL.component] === COMPONENT.orchestrator) {
      for (const c of asArray(r.props.spec?.template?.spec?.containers)) {
        const env = asArray(c?.env).find((e) => e?.name === 'RUNS_FLEET_RUNNER_NAMESPACE');
        if (typeof env?.value === 'string') names.add(env.value);
      }
    }
  }
  return { names, urnOf };
}

function networkPoliciesIn(resources: PolicyResource[], namespace: string): PolicyResource[] {
  return resources.filter((r) => r.type === TYPE.networkPolicy && r.props.metadata?.namespace === namespace);
}

/** The runner namespaces, or notApplicable when the stack has nothing of runs-fleet's. */
function namespacesOrSkip(args: StackValidationArgs, report: (m: string, urn?: string) => void, policy: string) {
  const found = runnerNamespaces(args);
  if (found.names.size === 0) {
    const doc = args.resources.find((r) => r.type === TYPE.configMap && isConfigDocumentMap(r.props));
    if (!doc) return args.notApplicable('no runs-fleet runner namespace in this stack');
    report(`the stack ships a runs-fleet config document but no runner namespace could be found (no orchestrator RUNS_FLEET_RUNNER_NAMESPACE, no privileged runs-fleet Namespace). ` +
      `Fix: name it in runnerNamespaces for ${policy} in the policy pack config.`, doc.urn);
  }
  return found;
}

export const runnerNamespaceDenyIngress: StackValidationPolicy = {
  name: 'runner-namespace-default-deny-ingress',
  description: 'The runner namespace has a NetworkPolicy that selects every pod and admits no ingress.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: namespaceSchema,
  validateStack: (args, report) => {
    const { names, urnOf } = namespacesOrSkip(args, report, 'runner-namespace-default-deny-ingress');
    for (const ns of names) {
      if (networkPoliciesIn(args.resources, ns).some((p) => isDefaultDenyIngress(p.props.spec ?? {}))) continue;
      report(`runner namespace "${ns}" has no default-deny ingress NetworkPolicy, so anything in the cluster may connect to running jobs. ` +
        `Fix: add a NetworkPolicy in "${ns}" with podSelector: {} and policyTypes: [Ingress] and no ingress rules (infra/runner-guardrails.ts runnerNetworkPolicies).`, urnOf.get(ns));
    }
  },
};

const metadataSchema: PolicyConfigSchema = {
  properties: {
    ...namespaceSchema.properties,
    metadataAddresses: {
      type: 'array', items: { type: 'string' }, default: METADATA_CIDRS.map((c) => c.replace(/\/32$/, '')),
      description: 'Addresses runner pods must not reach: instance metadata (IMDS) and the EKS Pod Identity agent.',
    },
  },
};

export const runnerNamespaceMetadataBlocked: StackValidationPolicy = {
  name: 'runner-namespace-metadata-egress-blocked',
  description: 'Egress from the runner namespace is restricted for every pod, and no NetworkPolicy there admits the instance metadata service.',
  enforcementLevel: 'mandatory',
  severity: 'critical',
  configSchema: metadataSchema,
  validateStack: (args, report) => {
    const { metadataAddresses } = settings<{ metadataAddresses: string[] }>(args, metadataSchema);
    const { names, urnOf } = namespacesOrSkip(args, report, 'runner-namespace-metadata-egress-blocked');
    for (const ns of names) {
      const policies = networkPoliciesIn(args.resources, ns);
      if (!policies.some((p) => restrictsAllEgress(p.props.spec ?? {}))) {
        report(`runner namespace "${ns}" has no NetworkPolicy restricting egress of every pod, so jobs can reach ${metadataAddresses.join(', ')} and the node's credentials. ` +
          `Fix: add an egress NetworkPolicy with podSelector: {} whose ipBlock excepts ${metadataAddresses.map((a) => `${a}/32`).join(', ')} (infra/runner-guardrails.ts runnerNetworkPolicies).`, urnOf.get(ns));
        continue;
      }
      for (const p of policies) {
        for (const ip of metadataAddresses) {
          const how = egressReaching(isObject(p.props.spec) ? p.props.spec : {}, ip);
          if (how)
            report(`${describe('NetworkPolicy', p.props, p.name)} lets runner pods reach ${ip}: ${how}. Fix: add ${ip}/32 to that ipBlock's except list (or narrow the rule).`, p.urn);
        }
      }
    }
  },
};

export const runnerNamespacePolicies = [runnerNamespaceDenyIngress, runnerNamespaceMetadataBlocked];
