import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { Pool, RunnerClass } from '../runtime/config/document.ts';
import type { StackConfig } from './config.ts';
import { irsaTrustPolicy, partitionOf } from './aws-iam.ts';
import {
  distinctDiskSizes, ec2NodeClassSpec, INTERRUPTION_RULES, interruptionEventPattern, KARPENTER_CHART, KARPENTER_NAMESPACE,
  KARPENTER_SERVICE_ACCOUNT, nodeClassName, nodePoolMetadata, nodePoolSpec,
} from './karpenter-objects.ts';
import { controllerPolicy, queuePolicy } from './karpenter-policy.ts';
import { SYSTEM_NODE_LABELS, SYSTEM_TAINT } from './system-nodes.ts';

export interface KarpenterArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly clusterEndpoint: pulumi.Input<string>;
  /** AWS region (`aws:region`). */
  readonly region: string;
  readonly oidcProviderArn: pulumi.Input<string>;
  /** Issuer without `https://`. */
  readonly oidcIssuer: pulumi.Input<string>;
  /** Runner nodes' role (NodeIdentity): the controller may pass only this role. */
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly instanceProfileName: pulumi.Input<string>;
  /** Runner nodes launch in these subnets. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** Runner nodes get this security group (the EKS cluster security group). */
  readonly securityGroupId: pulumi.Input<string>;
  /** One NodePool per class (`runs-fleet:classes`). */
  readonly classes: readonly RunnerClass[];
  /** Warm pools (`runs-fleet:pools`): annotated on each NodePool for the policies. */
  readonly pools: readonly Pool[];
  /** Chart version, AMI alias, consolidation and expiry (`runs-fleet:karpenter`). */
  readonly settings: StackConfig['karpenter'];
  /** `runs-fleet:runner.prePullImages`: when on, runner nodes start with the image-warming startup taint. */
  readonly prePullImages: boolean;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Karpenter 1.14: controller role through IRSA, the interruption queue fed by
 * EventBridge, the Helm chart in kube-system on the system nodes, and the runner
 * capacity itself (an EC2NodeClass per disk size and a NodePool per runner class).
 * Pass the cluster's Kubernetes provider through `providers`.
 */
export class Karpenter extends pulumi.ComponentResource {
  readonly controllerRoleArn: pulumi.Output<string>;
  readonly interruptionQueueName: pulumi.Output<string>;
  /** NodePool name per runner class. */
  readonly nodePools: Record<string, pulumi.Output<string>>;
  readonly nodeClasses: Record<number, pulumi.Output<string>>;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Karpenter', name, {}, opts);
    if (args.classes.length === 0) throw new Error('Karpenter needs at least one runner class (runs-fleet:classes)');
    const partition = partitionOf(args.region);

    const queue = new aws.sqs.Queue(`${name}-interruption`, {
      messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags: args.tags,
    }, { parent: this });
    new aws.sqs.QueuePolicy(`${name}-interruption`, {
      queueUrl: queue.url, policy: queue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))),
    }, { parent: this });
    for (const rule of INTERRUPTION_RULES) {
      const eventRule = new aws.cloudwatch.EventRule(`${name}-${rule.id}`, {
        description: `Karpenter interruption: ${rule.detailType}`, eventPattern: interruptionEventPattern(rule), tags: args.tags,
      }, { parent: this });
      new aws.cloudwatch.EventTarget(`${name}-${rule.id}`, { rule: eventRule.name, arn: queue.arn }, { parent: this });
    }

    const role = new aws.iam.Role(`${name}-controller`, {
      assumeRolePolicy: irsaTrustPolicy(args.oidcProviderArn, args.oidcIssuer, KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT),
      description: 'Karpenter controller (IRSA)',
      tags: args.tags,
    }, { parent: this });
    const policy = new aws.iam.RolePolicy(`${name}-controller`, {
      role: role.name,
      policy: pulumi.all([args.clusterName, args.nodeRoleArn, queue.arn]).apply(([clusterName, nodeRoleArn, queueArn]) =>
        JSON.stringify(controllerPolicy({ partition, region: args.region, clusterName, nodeRoleArn, queueArn }))),
    }, { parent: this });

    const chart = new k8s.helm.v3.Release(`${name}-chart`, {
      name: 'karpenter',
      chart: KARPENTER_CHART,
      version: args.settings.chartVersion,
      namespace: KARPENTER_NAMESPACE,
      atomic: true,
      timeout: 600,
      values: {
        settings: { clusterName: args.clusterName, clusterEndpoint: args.clusterEndpoint, interruptionQueue: queue.name },
        serviceAccount: { name: KARPENTER_SERVICE_ACCOUNT, annotations: { 'eks.amazonaws.com/role-arn': role.arn } },
        replicas: args.settings.replicas,
        // Karpenter only talks to AWS and the API server; it must not wait for CoreDNS.
        dnsPolicy: 'Default',
        nodeSelector: { 'kubernetes.io/os': 'linux', ...SYSTEM_NODE_LABELS },
        tolerations: [{ key: SYSTEM_TAINT.key, operator: 'Exists' }],
        controller: { resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } } },
      },
    }, { parent: this, dependsOn: [policy] });

    this.nodeClasses = {};
    const nodeClassResources: pulumi.Resource[] = [];
    for (const diskGiB of distinctDiskSizes(args.classes)) {
      const spec = pulumi
        .all([args.instanceProfileName, args.privateSubnetIds, args.securityGroupId, args.clusterName])
        .apply(([instanceProfile, subnetIds, securityGroupId, clusterName]) =>
          ec2NodeClassSpec({ diskGiB, amiAlias: args.settings.amiAlias, instanceProfile, subnetIds, securityGroupId, clusterName }));
      const nodeClass = new k8s.apiextensions.CustomResource(`${name}-nodeclass-${diskGiB}gib`, {
        apiVersion: 'karpenter.k8s.aws/v1',
        kind: 'EC2NodeClass',
        metadata: { name: nodeClassName(diskGiB) },
        spec,
      }, { parent: this, dependsOn: [chart] });
      nodeClassResources.push(nodeClass);
      this.nodeClasses[diskGiB] = nodeClass.metadata.name;
    }

    this.nodePools = {};
    for (const cls of args.classes) {
      const nodePool = new k8s.apiextensions.CustomResource(`${name}-nodepool-${cls.name}`, {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: nodePoolMetadata(cls, args.pools),
        spec: nodePoolSpec(cls, { consolidateAfter: args.settings.consolidateAfter, expireAfter: args.settings.expireAfter, prePullImages: args.prePullImages }),
      }, { parent: this, dependsOn: [chart, ...nodeClassResources] });
      this.nodePools[cls.name] = nodePool.metadata.name;
    }

    this.controllerRoleArn = role.arn;
    this.interruptionQueueName = queue.name;
    this.registerOutputs({
      controllerRoleArn: this.controllerRoleArn, interruptionQueueName: this.interruptionQueueName,
      nodePools: this.nodePools, nodeClasses: this.nodeClasses,
    });
  }
}
