import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as eks from '@pulumi/eks';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.ts';
import { ec2TrustPolicy, irsaTrustPolicy, managedPolicyArn, partitionOf } from './aws-iam.ts';
import { stableStringify } from './stable-json.ts';
import { SYSTEM_NODE_LABELS, SYSTEM_TAINT } from './system-nodes.ts';

export const STORAGE_CLASS = 'runs-fleet-gp3';
// No AmazonEKS_CNI_Policy: the VPC CNI gets it through its own service account (IRSA),
// so a pod that reaches a node's instance credentials cannot manage ENIs.
const SYSTEM_NODE_POLICIES = ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly'] as const;
const EBS_CSI_SERVICE_ACCOUNT = 'ebs-csi-controller-sa';
/** The VPC CNI's DaemonSet service account (the aws-node pods). */
export const VPC_CNI_SERVICE_ACCOUNT = 'aws-node';

/**
 * The VPC CNI add-on's settings (`aws eks describe-addon-configuration --addon-name vpc-cni`):
 * - enableNetworkPolicy: the network policy agent enforces NetworkPolicies (runner isolation).
 * - NETWORK_POLICY_ENFORCING_MODE=strict (VPC CNI ≥ 1.17.1): a new pod starts default-deny
 *   until its policies are programmed, instead of allow-all (the default `standard`). Every
 *   pod then needs a policy that admits its traffic; kube-system gets an allow-all one below.
 * - With pod security groups (ElastiCache mode): ENABLE_POD_ENI gives pods branch ENIs,
 *   POD_SECURITY_GROUP_ENFORCING_MODE=standard keeps kubelet probes, NodePort traffic and
 *   NetworkPolicies working for those pods, and DISABLE_TCP_EARLY_DEMUX (init container)
 *   lets TCP probes reach a branch-ENI pod (AWS "Security groups for Pods" guide).
 */
export function vpcCniConfiguration(podSecurityGroups: boolean): Record<string, unknown> {
  return {
    enableNetworkPolicy: 'true',
    env: {
      NETWORK_POLICY_ENFORCING_MODE: 'strict',
      ...(podSecurityGroups ? { ENABLE_POD_ENI: 'true', POD_SECURITY_GROUP_ENFORCING_MODE: 'standard' } : {}),
    },
    ...(podSecurityGroups ? { init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } } } : {}),
  };
}

export interface ClusterArgs {
  /** The EKS cluster's name (`runs-fleet:clusterName`). */
  readonly clusterName: string;
  /** Version, endpoint access, logging, admins and system nodes (`runs-fleet:cluster`). */
  readonly cluster: StackConfig['cluster'];
  /** AWS region (`aws:region`). */
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** Nodes and the control plane's ENIs go here. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** For internet-facing load balancers; may be empty for an existing VPC. */
  readonly publicSubnetIds: pulumi.Input<string[]>;
  /** Karpenter's node role: it gets an EC2_LINUX access entry so runner nodes can join. */
  readonly karpenterNodeRoleArn: pulumi.Input<string>;
  /** Security groups for pods (the orchestrator's, which alone may reach ElastiCache). */
  readonly podSecurityGroups: boolean;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * EKS through `@pulumi/eks`: access entries only (authentication mode API), an OIDC
 * provider for IRSA, control-plane logging, the VPC CNI as a managed add-on with strict
 * network-policy enforcement (runner NetworkPolicies are useless without it) and its IAM
 * policy on its own service account, a small tainted managed node group for system
 * pods, CoreDNS and the EBS CSI driver as managed add-ons created after that node group,
 * and a gp3 StorageClass.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** The OIDC issuer without `https://`, as IAM condition keys use it. */
  readonly oidcIssuer: pulumi.Output<string>;
  /** The EKS-created cluster security group; managed and Karpenter nodes share it. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** Secret: a kubeconfig that runs `aws eks get-token`. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly storageClassName: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Cluster', name, {}, opts);
    const sys = args.cluster.systemNodes;
    if (sys.min > sys.desired || sys.desired > sys.max)
      throw new Error(`runs-fleet:cluster.systemNodes needs min ≤ desired ≤ max (got ${sys.min}, ${sys.desired}, ${sys.max})`);

    const cluster = new eks.Cluster(`${name}-eks`, {
      name: args.clusterName,
      version: args.cluster.version,
      vpcId: args.vpcId,
      privateSubnetIds: args.privateSubnetIds,
      publicSubnetIds: args.publicSubnetIds,
      nodeAssociatePublicIpAddress: false,
      endpointPrivateAccess: true,
      endpointPublicAccess: args.cluster.endpointPublicAccess,
      publicAccessCidrs: args.cluster.publicAccessCidrs,
      kubernetesServiceIpAddressRange: args.cluster.serviceCidr,
      authenticationMode: eks.AuthenticationMode.Api,
      accessEntries: accessEntries(args),
      createOidcProvider: true,
      enabledClusterLogTypes: args.cluster.logTypes,
      deletionProtection: args.cluster.deletionProtection,
      skipDefaultNodeGroup: true,
      // Nodes use the EKS-created cluster security group, which Karpenter nodes then share.
      skipDefaultSecurityGroups: true,
      // The component leaves the VPC CNI alone; the managed add-on below configures it,
      // with its IAM role on its service account (the role needs the OIDC provider, which
      // exists only once the cluster does).
      useDefaultVpcCni: true,
      // CoreDNS is created below, after the system nodes exist; created here it would wait
      // for nodes that do not exist yet (the component only adds it with a default node group).
      corednsAddonOptions: { enabled: false },
      tags: args.tags,
    }, { parent: this });

    const nodeRole = new aws.iam.Role(`${name}-system-role`, {
      assumeRolePolicy: ec2TrustPolicy(args.region),
      description: `${args.clusterName} system node group`,
      tags: args.tags,
    }, { parent: this });
    const nodeRoleAttachments = SYSTEM_NODE_POLICIES.map((policy) =>
      new aws.iam.RolePolicyAttachment(`${name}-system-${policy}`, { role: nodeRole, policyArn: managedPolicyArn(args.region, policy) }, { parent: this }),
    );

    const clusterName = cluster.eksCluster.name;
    const cniRole = new aws.iam.Role(`${name}-vpc-cni-role`, {
      assumeRolePolicy: irsaTrustPolicy(cluster.oidcProviderArn, cluster.oidcIssuer, 'kube-system', VPC_CNI_SERVICE_ACCOUNT),
      description: `${args.clusterName} VPC CNI (IRSA)`,
      tags: args.tags,
    }, { parent: this });
    const cniPolicy = new aws.iam.RolePolicyAttachment(`${name}-vpc-cni-policy`, {
      role: cniRole, policyArn: managedPolicyArn(args.region, 'AmazonEKS_CNI_Policy'),
    }, { parent: this });
    const controllerPolicy = args.podSecurityGroups
      ? [new aws.iam.RolePolicyAttachment(`${name}-vpc-resource-controller`, {
        // Lets EKS's VPC resource controller attach branch ENIs for security groups for pods.
        role: cluster.eksCluster.roleArn.apply((arn) => arn.split('/').pop() ?? arn),
        policyArn: managedPolicyArn(args.region, 'AmazonEKSVPCResourceController'),
      }, { parent: this })]
      : [];
    const vpcCni = new aws.eks.Addon(`${name}-vpc-cni`, {
      clusterName,
      addonName: 'vpc-cni',
      serviceAccountRoleArn: cniRole.arn,
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
      configurationValues: stableStringify(vpcCniConfiguration(args.podSecurityGroups), 0),
      tags: args.tags,
    }, { parent: this, dependsOn: [cniPolicy, ...controllerPolicy] });

    const systemNodes = new eks.ManagedNodeGroup(`${name}-system`, {
      cluster,
      nodeRole,
      instanceTypes: sys.instanceTypes,
      amiType: sys.arch === 'arm64' ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
      capacityType: 'ON_DEMAND',
      scalingConfig: { minSize: sys.min, desiredSize: sys.desired, maxSize: sys.max },
      diskSize: sys.diskGiB,
      subnetIds: args.privateSubnetIds,
      labels: { ...SYSTEM_NODE_LABELS },
      taints: [{ key: SYSTEM_TAINT.key, value: SYSTEM_TAINT.value, effect: 'NO_SCHEDULE' }],
      // A PDB that cannot be met (a workload the user added) must not fail a version
      // upgrade after EKS's 15-minute drain timeout; runs-fleet's own PDBs never block.
      forceUpdateVersion: true,
      tags: args.tags,
    }, { parent: this, dependsOn: [...nodeRoleAttachments, vpcCni] });

    new aws.eks.Addon(`${name}-coredns`, {
      clusterName,
      addonName: 'coredns',
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
      // Explicit, because the system nodes are the only nodes CoreDNS may use.
      configurationValues: stableStringify({
        tolerations: [
          { key: SYSTEM_TAINT.key, operator: 'Exists', effect: 'NoSchedule' },
          { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
        ],
      }, 0),
      tags: args.tags,
    }, { parent: this, dependsOn: [systemNodes] });

    const ebsRole = new aws.iam.Role(`${name}-ebs-csi`, {
      assumeRolePolicy: irsaTrustPolicy(cluster.oidcProviderArn, cluster.oidcIssuer, 'kube-system', EBS_CSI_SERVICE_ACCOUNT),
      description: `${args.clusterName} EBS CSI controller (IRSA)`,
      tags: args.tags,
    }, { parent: this });
    const ebsPolicy = new aws.iam.RolePolicyAttachment(`${name}-ebs-csi`, {
      role: ebsRole.name,
      policyArn: `arn:${partitionOf(args.region)}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`,
    }, { parent: this });
    const ebsCsi = new aws.eks.Addon(`${name}-ebs-csi`, {
      clusterName,
      addonName: 'aws-ebs-csi-driver',
      serviceAccountRoleArn: ebsRole.arn,
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
      // The node plugin must run on the tainted system nodes, where Valkey's volume attaches.
      configurationValues: stableStringify({ node: { tolerateAllTaints: true } }, 0),
      tags: args.tags,
    }, { parent: this, dependsOn: [systemNodes, ebsPolicy] });

    this.provider = new k8s.Provider(`${name}-k8s`, {
      kubeconfig: cluster.kubeconfigJson,
      // The config document ConfigMap is updated in place, so the runtime sees a pool
      // resize without a restart (by default a changed ConfigMap is replaced).
      enableConfigMapMutable: true,
      enableServerSideApply: true,
    }, { parent: this });

    // Strict network-policy mode makes every pod default-deny until a policy admits its
    // traffic. kube-system (CoreDNS, Karpenter, the EBS CSI controller) keeps the traffic it
    // had before; host-network pods (aws-node, kube-proxy) are not subject to policies.
    new k8s.networking.v1.NetworkPolicy(`${name}-kube-system-allow`, {
      metadata: { name: 'runs-fleet-allow-kube-system', namespace: 'kube-system' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] },
    }, { parent: this, provider: this.provider });

    const storageClass = new k8s.storage.v1.StorageClass(`${name}-gp3`, {
      metadata: { name: STORAGE_CLASS },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true', fsType: 'ext4' },
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    }, { parent: this, provider: this.provider, dependsOn: [ebsCsi] });

    this.clusterName = clusterName;
    this.endpoint = cluster.eksCluster.endpoint;
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcIssuer = cluster.oidcIssuer;
    this.clusterSecurityGroupId = cluster.clusterSecurityGroupId;
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.storageClassName = storageClass.metadata.name;
    this.registerOutputs({
      clusterName: this.clusterName, endpoint: this.endpoint, oidcProviderArn: this.oidcProviderArn, oidcIssuer: this.oidcIssuer,
      clusterSecurityGroupId: this.clusterSecurityGroupId, kubeconfig: this.kubeconfig, storageClassName: this.storageClassName,
    });
  }
}

function accessEntries(args: ClusterArgs): Record<string, eks.types.input.AccessEntryArgs> {
  const entries: Record<string, eks.types.input.AccessEntryArgs> = {
    karpenterNodes: { principalArn: args.karpenterNodeRoleArn, type: eks.AccessEntryType.EC2Linux },
  };
  const adminPolicy = `arn:${partitionOf(args.region)}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
  for (const arn of args.cluster.adminPrincipalArns) {
    // Keyed by a hash of the ARN so reordering the list changes nothing.
    const key = `admin-${createHash('sha256').update(arn).digest('hex').slice(0, 10)}`;
    entries[key] = {
      principalArn: arn,
      type: eks.AccessEntryType.Standard,
      accessPolicies: { clusterAdmin: { policyArn: adminPolicy, accessScope: { type: 'cluster' } } },
    };
  }
  return entries;
}
