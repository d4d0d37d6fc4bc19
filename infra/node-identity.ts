import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ec2TrustPolicy, managedPolicyArn } from './aws-iam.ts';

/**
 * What every EKS worker needs; SSM gives operators a shell without SSH keys. Not
 * AmazonEKS_CNI_Policy: the VPC CNI has it on its service account (infra/cluster.ts), so a
 * privileged dind sidecar that reaches the instance credentials cannot manage ENIs.
 */
export const NODE_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEC2ContainerRegistryPullOnly',
  'AmazonSSMManagedInstanceCore',
] as const;

export interface NodeIdentityArgs {
  /** AWS region (`aws:region`), for the partition of managed policy ARNs. */
  readonly region: string;
  /** Tags for the role and the instance profile. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The IAM role and instance profile of Karpenter-launched runner nodes. It exists before
 * the cluster so the cluster can give it an EC2_LINUX access entry (nodes join without
 * aws-auth). The EC2NodeClasses name the instance profile, so Karpenter needs no
 * permission to create instance profiles.
 */
export class NodeIdentity extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;
  readonly instanceProfileName: pulumi.Output<string>;

  constructor(name: string, args: NodeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:NodeIdentity', name, {}, opts);
    if (!args.region) throw new Error('NodeIdentity needs the AWS region (aws:region)');

    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: ec2TrustPolicy(args.region),
      description: 'runs-fleet runner nodes launched by Karpenter',
      tags: args.tags,
    }, { parent: this });
    const attachments = NODE_POLICIES.map((policy) =>
      new aws.iam.RolePolicyAttachment(`${name}-${policy}`, { role, policyArn: managedPolicyArn(args.region, policy) }, { parent: this }),
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: args.tags }, { parent: this });

    // Resolves only once every policy is attached, so nodes never launch half-permitted.
    const ready = pulumi.all(attachments.map((a) => a.id));
    this.roleArn = pulumi.all([role.arn, ready]).apply(([arn]) => arn);
    this.roleName = role.name;
    this.instanceProfileName = pulumi.all([profile.name, ready]).apply(([n]) => n);
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, instanceProfileName: this.instanceProfileName });
  }
}
