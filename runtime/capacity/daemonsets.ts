import type { NodeResources } from './allocatable.ts';
import { podRequest, type PodSpecLike } from './pod-request.ts';

/**
 * The DaemonSets every node of our EKS cluster runs, with the requests their upstream
 * manifests set. The Pulumi program (infra/cluster.ts) gets aws-node from the vpc-cni add-on
 * with enableNetworkPolicy (so the aws-eks-nodeagent container runs), kube-proxy from the
 * default add-on of @pulumi/eks, and ebs-csi-node from the aws-ebs-csi-driver add-on with
 * `node.tolerateAllTaints: true`, so it lands on tainted runner nodes too. It installs no
 * other DaemonSet (no pod identity agent, no node monitoring agent). Each tolerates every
 * taint, so each runs on every node, runner nodes included.
 */

export interface DaemonSetContainer {
  name: string;
  image: string;
  restartPolicy?: 'Always';
  resources: { requests: { cpu?: string; memory?: string }; limits?: { memory?: string } };
}

export interface DaemonSetInfo {
  namespace: 'kube-system';
  name: string;
  /** Where the requests below were read. */
  source: string;
  hostNetwork: boolean;
  initContainers: readonly DaemonSetContainer[];
  containers: readonly DaemonSetContainer[];
}

const CNI = 'aws/amazon-vpc-cni-k8s b52188387f2e2f10bf289ace929d6a63b176a4fa (v1.23.1), config/master/aws-k8s-cni.yaml';
const EBS = 'kubernetes-sigs/aws-ebs-csi-driver 429e202e589798e55c0f8ddcc81b2850b7f000d0, deploy/kubernetes/base/node.yaml (the eksbuild images the add-on ships)';
const ECR = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

export const EKS_DAEMONSETS: readonly DaemonSetInfo[] = [
  {
    namespace: 'kube-system',
    name: 'aws-node',
    source: `${CNI}: aws-vpc-cni-init, aws-node and aws-eks-nodeagent each request cpu 25m and no memory`,
    hostNetwork: true,
    initContainers: [{ name: 'aws-vpc-cni-init', image: `${ECR}/amazon-k8s-cni-init:v1.23.1`, resources: { requests: { cpu: '25m' } } }],
    containers: [
      { name: 'aws-node', image: `${ECR}/amazon-k8s-cni:v1.23.1`, resources: { requests: { cpu: '25m' } } },
      { name: 'aws-eks-nodeagent', image: `${ECR}/amazon/aws-network-policy-agent:v1.4.2`, resources: { requests: { cpu: '25m' } } },
    ],
  },
  {
    namespace: 'kube-system',
    name: 'kube-proxy',
    // No upstream manifest of the add-on is published; these are the values reported from live EKS clusters.
    source: 'EKS kube-proxy add-on: cpu 100m, no memory request (aws/containers-roadmap#1509 "kube-proxy … has no memory request or limit"; 2i2c-org/infrastructure#3902 sums aws-node + ebs-csi-node + kube-proxy on EKS 1.27–1.28 node by node)',
    hostNetwork: true,
    initContainers: [],
    containers: [{ name: 'kube-proxy', image: `${ECR}/eks/kube-proxy:v1.34.0-minimal-eksbuild.1`, resources: { requests: { cpu: '100m' } } }],
  },
  {
    namespace: 'kube-system',
    name: 'ebs-csi-node',
    source: `${EBS}: ebs-plugin 10m/40Mi (limit 256Mi), node-driver-registrar 10m/32Mi, liveness-probe 10m/32Mi`,
    hostNetwork: false,
    initContainers: [],
    containers: [
      { name: 'ebs-plugin', image: 'public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.64.0', resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } } },
      { name: 'node-driver-registrar', image: 'public.ecr.aws/csi-components/csi-node-driver-registrar:v2.17.0-eksbuild.5', resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '32Mi' } } },
      { name: 'liveness-probe', image: 'public.ecr.aws/csi-components/livenessprobe:v2.19.0-eksbuild.5', resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '32Mi' } } },
    ],
  },
];

export function daemonSetPodSpec(ds: DaemonSetInfo): PodSpecLike & { hostNetwork: boolean } {
  return { hostNetwork: ds.hostNetwork, initContainers: ds.initContainers, containers: ds.containers };
}

/**
 * What the DaemonSets take from every node before any other pod: their effective requests
 * (the kubelet's rule, see pod-request.ts) and one pod slot each (max-pods counts host-network pods too).
 */
export function daemonSetOverhead(list: readonly DaemonSetInfo[] = EKS_DAEMONSETS): NodeResources {
  return list.reduce<NodeResources>(
    (sum, ds) => {
      const r = podRequest(daemonSetPodSpec(ds));
      return { cpuMilli: sum.cpuMilli + r.cpuMilli, memoryMiB: sum.memoryMiB + r.memoryMiB, pods: sum.pods + 1 };
    },
    { cpuMilli: 0, memoryMiB: 0, pods: 0 },
  );
}

/** What pods other than the DaemonSets' can request on one node: allocatable minus their overhead. */
export function roomForPods(alloc: NodeResources, list: readonly DaemonSetInfo[] = EKS_DAEMONSETS): NodeResources {
  const ds = daemonSetOverhead(list);
  return { cpuMilli: alloc.cpuMilli - ds.cpuMilli, memoryMiB: alloc.memoryMiB - ds.memoryMiB, pods: alloc.pods - ds.pods };
}
