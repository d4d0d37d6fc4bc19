import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import type { StackConfig } from './config.ts';
import { VALKEY_PORT, VALKEY_SECRET_KEYS } from './valkey.ts';

/** Engine version → parameter group family (ElastiCache: `valkey7` for 7.2, `valkey8` for 8.x). */
const FAMILY: Record<StackConfig['valkey']['elastiCache']['engineVersion'], string> = { '7.2': 'valkey7', '8.0': 'valkey8', '8.1': 'valkey8' };

export interface ElastiCacheValkeyArgs {
  /** Prefixes AWS names (`runs-fleet:clusterName`). */
  readonly clusterName: string;
  readonly settings: StackConfig['valkey']['elastiCache'];
  readonly vpcId: pulumi.Input<string>;
  /** One subnet per zone at least: the primary and its replicas go to different zones. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** Where the Secret holding the AUTH token goes (the system namespace). */
  readonly namespace: pulumi.Input<string>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The job queue on Amazon ElastiCache for Valkey: a replication group of a primary and
 * `replicas` replicas in other zones, Multi-AZ with automatic failover, TLS required in
 * transit, encrypted at rest, an AUTH token generated into Pulumi state (a secret) and
 * copied into a Kubernetes Secret for the orchestrator, and `maxmemory-policy noeviction`
 * (a queue refuses writes rather than drop jobs; ElastiCache's default evicts).
 *
 * Reachability: the cache's security group admits port 6379 only from `clientSecurityGroup`,
 * which the orchestrator's pods alone carry (a SecurityGroupPolicy, infra/orchestrator.ts).
 * Runner nodes share the cluster security group, which is not admitted.
 */
export class ElastiCacheValkey extends pulumi.ComponentResource {
  /** `rediss://<primary endpoint>:6379`: TLS; the token comes from the Secret. */
  readonly url: pulumi.Output<string>;
  readonly secretName: pulumi.Output<string>;
  /** The security group the orchestrator's pods get; the only one the cache admits. */
  readonly clientSecurityGroupId: pulumi.Output<string>;
  /** Replicas an accepted job must reach before the webhook is answered 2xx (WAIT). */
  readonly waitReplicas: number;

  constructor(name: string, args: ElastiCacheValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:ElastiCacheValkey', name, {}, opts);
    const s = args.settings;
    const labels = { [LABEL.name]: 'valkey', [LABEL.managedBy]: MANAGED_BY };

    const clients = new aws.ec2.SecurityGroup(`${name}-clients`, {
      vpcId: args.vpcId,
      description: `${args.clusterName} orchestrator pods (the only ElastiCache clients)`,
      egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] }],
      tags: args.tags,
    }, { parent: this });
    const server = new aws.ec2.SecurityGroup(`${name}-server`, {
      vpcId: args.vpcId,
      description: `${args.clusterName} ElastiCache for Valkey: port ${VALKEY_PORT} from the orchestrator only`,
      ingress: [{ protocol: 'tcp', fromPort: VALKEY_PORT, toPort: VALKEY_PORT, securityGroups: [clients.id], description: 'orchestrator pods' }],
      egress: [],
      tags: args.tags,
    }, { parent: this });
    const subnets = new aws.elasticache.SubnetGroup(`${name}-subnets`, {
      description: `${args.clusterName} job queue`, subnetIds: args.privateSubnetIds, tags: args.tags,
    }, { parent: this });
    const params = new aws.elasticache.ParameterGroup(`${name}-params`, {
      family: FAMILY[s.engineVersion],
      description: `${args.clusterName} job queue: never evict`,
      parameters: [{ name: 'maxmemory-policy', value: 'noeviction' }],
      tags: args.tags,
    }, { parent: this });
    // ElastiCache tokens: 16-128 printable characters without @, " or /; letters and digits only here.
    const token = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, { parent: this });

    const group = new aws.elasticache.ReplicationGroup(`${name}-group`, {
      description: `${args.clusterName} runs-fleet job queue`,
      engine: 'valkey',
      engineVersion: s.engineVersion,
      nodeType: s.nodeType,
      port: VALKEY_PORT,
      numCacheClusters: 1 + s.replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      authToken: token.result,
      subnetGroupName: subnets.name,
      securityGroupIds: [server.id],
      parameterGroupName: params.name,
      snapshotRetentionLimit: s.snapshotRetentionDays,
      autoMinorVersionUpgrade: true,
      applyImmediately: false,
      tags: args.tags,
    }, { parent: this, additionalSecretOutputs: ['authToken'] });

    const secret = new k8s.core.v1.Secret(`${name}-auth`, {
      // Auto-named: a new token makes a new Secret, which rolls the orchestrator.
      metadata: { namespace: args.namespace, labels },
      type: 'Opaque',
      stringData: { [VALKEY_SECRET_KEYS.password]: token.result },
    }, { parent: this });

    this.url = pulumi.interpolate`rediss://${group.primaryEndpointAddress}:${VALKEY_PORT}`;
    this.secretName = secret.metadata.name;
    this.clientSecurityGroupId = clients.id;
    this.waitReplicas = 1;
    this.registerOutputs({ url: this.url, secretName: this.secretName, clientSecurityGroupId: this.clientSecurityGroupId });
  }
}
