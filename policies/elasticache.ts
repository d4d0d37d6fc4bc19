import type { ResourceValidationPolicy } from '@pulumi/policy';
import { onType } from './lib/define.ts';
import { TYPE, type Json } from './lib/types.ts';

/**
 * ElastiCache for Valkey holds every accepted job in production: it must survive the loss
 * of a node or a zone (a replica in another zone, promoted automatically), and its data
 * (job payloads name repositories and workflows) must be encrypted and need a token.
 */

const FIX_SOURCE = 'infra/elasticache.ts';
export const ELASTICACHE_TAG = 'valkey-elasticache';
const label = (props: Json, name: string) => `ElastiCache replication group ${String(props.replicationGroupId ?? name)} (${name})`;

export const elastiCacheEncryption: ResourceValidationPolicy = {
  name: 'elasticache-encryption',
  description: 'The Valkey replication group requires TLS in transit, encrypts at rest and requires an AUTH token.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  tags: [ELASTICACHE_TAG],
  validateResource: onType(TYPE.replicationGroup, (props, args, report) => {
    const l = label(props, args.name);
    if (props.transitEncryptionEnabled !== true || (props.transitEncryptionMode ?? 'required') !== 'required')
      report(`${l} accepts unencrypted connections. Fix: transitEncryptionEnabled: true and transitEncryptionMode: "required" (${FIX_SOURCE}).`);
    if (props.atRestEncryptionEnabled !== true)
      report(`${l} is not encrypted at rest. Fix: atRestEncryptionEnabled: true (${FIX_SOURCE}).`);
    if (!props.authToken && !(Array.isArray(props.userGroupIds) && props.userGroupIds.length))
      report(`${l} needs no AUTH token, so anything that reaches it can read and write the queue. Fix: set authToken from a Pulumi secret (${FIX_SOURCE}).`);
  }),
};

export const elastiCacheFailover: ResourceValidationPolicy = {
  name: 'elasticache-failover',
  description: 'The Valkey replication group has a replica, Multi-AZ and automatic failover.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  tags: [ELASTICACHE_TAG],
  validateResource: onType(TYPE.replicationGroup, (props, args, report) => {
    const l = label(props, args.name);
    const nodes = Number(props.numCacheClusters ?? 1);
    if (nodes < 2) report(`${l} has ${nodes} node: losing it loses every queued job. Fix: runs-fleet:valkey.elastiCache.replicas ≥ 1.`);
    if (props.automaticFailoverEnabled !== true) report(`${l} does not fail over automatically. Fix: automaticFailoverEnabled: true (${FIX_SOURCE}).`);
    if (props.multiAzEnabled !== true) report(`${l} may keep its replica in the primary's zone. Fix: multiAzEnabled: true (${FIX_SOURCE}).`);
  }),
};

export const elastiCachePolicies = [elastiCacheEncryption, elastiCacheFailover];
