import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { describe, onType, settings } from './lib/define.ts';
import { asArray, isObject, TYPE } from './lib/types.ts';

/**
 * EC2NodeClasses: runner nodes run untrusted jobs, so their disks are encrypted and
 * instance credentials stay out of reach of pods (IMDSv2 with a hop limit of 1: a
 * token request from a pod's network namespace needs a second hop and never returns).
 */

const nodeClass = (props: Record<string, any>, name: string) => describe('EC2NodeClass', props, name);
const FIX_SOURCE = 'infra/karpenter-objects.ts ec2NodeClassSpec';

export const nodeClassEncryptedVolumes: ResourceValidationPolicy = {
  name: 'ec2nodeclass-encrypted-volumes',
  description: 'EC2NodeClasses declare their block devices, every one EBS-encrypted.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType(TYPE.ec2NodeClass, (props, args, report) => {
    const label = nodeClass(props, args.name);
    const mappings = asArray(props.spec?.blockDeviceMappings).filter(isObject);
    if (mappings.length === 0) {
      report(`${label} declares no spec.blockDeviceMappings, so the root volume follows the AMI and may be unencrypted. ` +
        `Fix: add a root volume with ebs.encrypted: true (${FIX_SOURCE}).`);
      return;
    }
    for (const [i, m] of mappings.entries()) {
      if (m.ebs?.encrypted !== true)
        report(`${label}: spec.blockDeviceMappings[${i}] (${String(m.deviceName ?? '?')}) is not encrypted. Fix: set ebs.encrypted: true (${FIX_SOURCE}).`);
    }
  }),
};

export const nodeClassImdsV2: ResourceValidationPolicy = {
  name: 'ec2nodeclass-imdsv2-required',
  description: 'EC2NodeClasses require IMDSv2 session tokens (metadataOptions.httpTokens: required).',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType(TYPE.ec2NodeClass, (props, args, report) => {
    const tokens = props.spec?.metadataOptions?.httpTokens;
    if (tokens !== 'required')
      report(`${nodeClass(props, args.name)} has metadataOptions.httpTokens ${JSON.stringify(tokens ?? null)}: IMDSv1 would answer unauthenticated requests. ` +
        `Fix: set spec.metadataOptions.httpTokens: required (${FIX_SOURCE}).`);
  }),
};

const hopSchema: PolicyConfigSchema = {
  properties: {
    maxHopLimit: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'The largest metadataOptions.httpPutResponseHopLimit allowed.' },
  },
};

export const nodeClassHopLimit: ResourceValidationPolicy = {
  name: 'ec2nodeclass-imds-hop-limit',
  description: 'EC2NodeClasses set the IMDS response hop limit to 1, so pods cannot fetch the node’s credentials.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: hopSchema,
  validateResource: onType(TYPE.ec2NodeClass, (props, args, report) => {
    const { maxHopLimit } = settings<{ maxHopLimit: number }>(args, hopSchema);
    const hops = props.spec?.metadataOptions?.httpPutResponseHopLimit;
    if (typeof hops !== 'number' || hops > maxHopLimit)
      report(`${nodeClass(props, args.name)} has metadataOptions.httpPutResponseHopLimit ${JSON.stringify(hops ?? null)}: pods could reach the node's instance credentials. ` +
        `Fix: set spec.metadataOptions.httpPutResponseHopLimit: ${maxHopLimit} (${FIX_SOURCE}).`);
  }),
};

export const nodeClassPolicies = [nodeClassEncryptedVolumes, nodeClassImdsV2, nodeClassHopLimit];
