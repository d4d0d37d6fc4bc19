import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { onTypes, settings } from './lib/define.ts';
import { asArray, TYPE } from './lib/types.ts';

const loggingSchema: PolicyConfigSchema = {
  properties: {
    requiredLogTypes: {
      type: 'array', items: { type: 'string', enum: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'] },
      default: ['api', 'audit', 'authenticator'],
      description: 'Control-plane log types that must be sent to CloudWatch Logs.',
    },
  },
};

/**
 * Audit logs are how you find out what an escaped job did with the API. Matches the
 * `@pulumi/eks` component (all a mocked run sees) and the AWS cluster it creates.
 */
export const eksControlPlaneLogging: ResourceValidationPolicy = {
  name: 'eks-control-plane-logging',
  description: 'The EKS cluster sends its control-plane logs (api, audit, authenticator by default) to CloudWatch Logs.',
  enforcementLevel: 'advisory',
  severity: 'medium',
  configSchema: loggingSchema,
  validateResource: onTypes([TYPE.eksComponent, TYPE.eksCluster], (props, args, report) => {
    const { requiredLogTypes } = settings<{ requiredLogTypes: string[] }>(args, loggingSchema);
    const enabled = asArray(props.enabledClusterLogTypes).map(String);
    const missing = requiredLogTypes.filter((t) => !enabled.includes(t));
    if (missing.length)
      report(`EKS cluster ${String(props.name ?? args.name)} (${args.name}) does not log ${missing.join(', ')}. ` +
        `Fix: add ${missing.join(', ')} to runs-fleet:cluster.logTypes.`);
  }),
};

export const eksPolicies = [eksControlPlaneLogging];
