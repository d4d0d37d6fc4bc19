import type { PolicyResource, StackValidationPolicy } from '@pulumi/policy';
import { asArray, isObject, TYPE, type Json } from './lib/types.ts';

/**
 * The VPC CNI enforces runner NetworkPolicies. Two ways it can still leak:
 * - in its default `standard` mode a new pod is allow-all until its policies are
 *   programmed, so a runner's first seconds are unfiltered (strict mode: default-deny);
 * - with AmazonEKS_CNI_Policy on a node role, any pod that reaches the instance's
 *   credentials (a privileged dind sidecar) can create and attach ENIs. AWS recommends
 *   the policy on the aws-node service account (IRSA or Pod Identity) instead.
 */

const FIX_SOURCE = 'infra/cluster.ts';
const CNI_POLICY = /:policy\/AmazonEKS_CNI_Policy$/;

function vpcCniAddons(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.type === TYPE.eksAddon && r.props.addonName === 'vpc-cni');
}

function configuration(addon: PolicyResource): Json {
  const raw = addon.props.configurationValues;
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  try {
    const parsed = JSON.parse(raw);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const hasCluster = (resources: PolicyResource[]) => resources.some((r) => r.type === TYPE.eksComponent || r.type === TYPE.eksCluster);

export const vpcCniStrictNetworkPolicy: StackValidationPolicy = {
  name: 'vpc-cni-strict-network-policy',
  description: 'The vpc-cni add-on enforces NetworkPolicies (enableNetworkPolicy) in strict mode (NETWORK_POLICY_ENFORCING_MODE=strict): pods start default-deny, not allow-all.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateStack: (args, report) => {
    if (!hasCluster(args.resources)) return args.notApplicable('no EKS cluster');
    const addons = vpcCniAddons(args.resources);
    if (addons.length === 0) {
      report(`The EKS cluster has no managed vpc-cni add-on, so nothing sets strict network-policy enforcement. Fix: create the vpc-cni aws.eks.Addon (${FIX_SOURCE}).`);
      return;
    }
    for (const addon of addons) {
      const cfg = configuration(addon);
      const mode = cfg.env?.NETWORK_POLICY_ENFORCING_MODE ?? 'standard';
      if (String(cfg.enableNetworkPolicy) !== 'true')
        report(`vpc-cni add-on (${addon.name}) does not enable the network policy agent, so runner NetworkPolicies are not enforced. Fix: set "enableNetworkPolicy": "true" in its configurationValues (${FIX_SOURCE}).`, addon.urn);
      if (mode !== 'strict')
        report(`vpc-cni add-on (${addon.name}) enforces NetworkPolicies in "${String(mode)}" mode: a new pod is allow-all until its policies apply. Fix: set env.NETWORK_POLICY_ENFORCING_MODE to "strict" (${FIX_SOURCE}).`, addon.urn);
    }
  },
};

/** The Role an attachment names: a resource reference (as mocks record it) or the role's name. */
function attachedRole(attachment: PolicyResource, resources: PolicyResource[]): PolicyResource | undefined {
  const role = attachment.props.role;
  const roles = resources.filter((r) => r.type === TYPE.iamRole);
  if (isObject(role) && typeof role.resourceName === 'string') return roles.find((r) => r.name === role.resourceName);
  if (typeof role === 'string') return roles.find((r) => r.props.name === role || r.props.id === role);
  return undefined;
}

function trustsEc2(role: PolicyResource): boolean {
  try {
    const doc = JSON.parse(String(role.props.assumeRolePolicy));
    return asArray(doc.Statement).some((s) => asArray([s?.Principal?.Service].flat()).some((p) => /^ec2\.amazonaws\.com/.test(String(p))));
  } catch {
    return false;
  }
}

export const vpcCniServiceAccountRole: StackValidationPolicy = {
  name: 'vpc-cni-service-account-role',
  description: 'The VPC CNI gets AmazonEKS_CNI_Policy through its service account (the vpc-cni add-on\'s serviceAccountRoleArn), and no node role carries it.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateStack: (args, report) => {
    if (!hasCluster(args.resources)) return args.notApplicable('no EKS cluster');
    for (const addon of vpcCniAddons(args.resources)) {
      if (!addon.props.serviceAccountRoleArn)
        report(`vpc-cni add-on (${addon.name}) has no serviceAccountRoleArn, so aws-node falls back to the node role's credentials. Fix: give it an IRSA role with AmazonEKS_CNI_Policy (${FIX_SOURCE}).`, addon.urn);
    }
    for (const attachment of args.resources.filter((r) => r.type === TYPE.rolePolicyAttachment && CNI_POLICY.test(String(r.props.policyArn)))) {
      const role = attachedRole(attachment, args.resources);
      if (role && trustsEc2(role))
        report(`${attachment.name} attaches AmazonEKS_CNI_Policy to node role ${role.name}: any pod that reaches the instance credentials (a privileged dind sidecar) can manage ENIs. ` +
          `Fix: attach it to the vpc-cni add-on's service-account role only (infra/cluster.ts, infra/node-identity.ts).`, attachment.urn);
    }
  },
};

export const vpcCniPolicies = [vpcCniStrictNetworkPolicy, vpcCniServiceAccountRole];
