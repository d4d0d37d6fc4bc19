import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { NetworkConfig } from './config.ts';
import { subnetLayout } from './cidr.ts';

export const KARPENTER_DISCOVERY_TAG = 'karpenter.sh/discovery';

export interface NetworkArgs {
  /** A new VPC (`mode: create`) or the ids of an existing one (`mode: existing`), from `runs-fleet:network`. */
  readonly network: NetworkConfig;
  /** Value of the `karpenter.sh/discovery` tag on the private subnets. */
  readonly clusterName: string;
  /** Tags for every AWS resource this component creates. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The VPC the cluster runs in: either a new one (private subnets for nodes and pods,
 * public subnets for NAT and the webhook load balancer, tagged for Karpenter discovery
 * and for Kubernetes load balancers) or an existing one whose private subnets get the
 * Karpenter discovery tag.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Every CIDR of the VPC; runner pods are denied egress to them. */
  readonly vpcCidrs: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Network', name, {}, opts);
    const created = args.network.mode === 'create' ? this.createVpc(name, args, args.network) : this.adoptVpc(name, args, args.network);
    this.vpcId = created.vpcId;
    this.privateSubnetIds = created.privateSubnetIds;
    this.publicSubnetIds = created.publicSubnetIds;
    this.vpcCidrs = created.vpcCidrs;
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds, vpcCidrs: this.vpcCidrs });
  }

  private createVpc(name: string, args: NetworkArgs, net: Extract<NetworkConfig, { mode: 'create' }>) {
    const layout = subnetLayout(net.cidr, net.availabilityZoneCount);
    const tags = (extra: Record<string, pulumi.Input<string>>) => pulumi.output(args.tags ?? {}).apply((t) => ({ ...t, ...extra }));
    // The built-in service controller picks load balancer subnets by this tag.
    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' };
    const zones = aws.getAvailabilityZonesOutput({ state: 'available' }, { parent: this }).names;
    const zone = (i: number) =>
      zones.apply((names) => {
        const z = names[i];
        if (!z) throw new Error(`runs-fleet:network.availabilityZoneCount is ${net.availabilityZoneCount} but the region has ${names.length} zones`);
        return z;
      });

    const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
      cidrBlock: net.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags({ Name: args.clusterName }),
    }, { parent: this });
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags({}) }, { parent: this });
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, {
      vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: tags({}),
    }, { parent: this });

    const publicSubnets = layout.public.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, {
        vpcId: vpc.id, cidrBlock, availabilityZone: zone(i),
        tags: tags({ Name: `${args.clusterName}-public-${i}`, 'kubernetes.io/role/elb': '1', ...clusterTag }),
      }, { parent: this });
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, { parent: this });
      return subnet;
    });

    const natCount = net.natGateways === 'perAz' ? net.availabilityZoneCount : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: tags({}) }, { parent: this });
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, {
        allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: tags({}),
      }, { parent: this, dependsOn: [igw] });
    });

    const privateSubnets = layout.private.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
        vpcId: vpc.id, cidrBlock, availabilityZone: zone(i),
        tags: tags({
          Name: `${args.clusterName}-private-${i}`,
          'kubernetes.io/role/internal-elb': '1',
          [KARPENTER_DISCOVERY_TAG]: args.clusterName,
          ...clusterTag,
        }),
      }, { parent: this });
      const routes = new aws.ec2.RouteTable(`${name}-private-${i}`, {
        vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nats[i % natCount]!.id }], tags: tags({}),
      }, { parent: this });
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: routes.id }, { parent: this });
      return subnet;
    });

    return {
      vpcId: vpc.id,
      privateSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)),
      publicSubnetIds: pulumi.all(publicSubnets.map((s) => s.id)),
      vpcCidrs: pulumi.output([net.cidr]),
    };
  }

  private adoptVpc(name: string, args: NetworkArgs, net: Extract<NetworkConfig, { mode: 'existing' }>) {
    if (net.privateSubnetIds.length < 2) throw new Error('runs-fleet:network.privateSubnetIds must list at least two subnets');
    // Named by subnet id, not position, so reordering the list replaces nothing.
    for (const subnetId of net.privateSubnetIds) {
      new aws.ec2.Tag(`${name}-discovery-${subnetId}`, { resourceId: subnetId, key: KARPENTER_DISCOVERY_TAG, value: args.clusterName }, { parent: this });
    }
    return {
      vpcId: pulumi.output(net.vpcId),
      privateSubnetIds: pulumi.output(net.privateSubnetIds),
      publicSubnetIds: pulumi.output(net.publicSubnetIds),
      vpcCidrs: pulumi.output(net.vpcCidrs),
    };
  }
}
