import assert from 'node:assert/strict';
import type { PolicyPackConfig } from '@pulumi/policy';
import type { ResourceUnderTest, Violation } from '../../policies/in-process.ts';
import { policies } from '../../policies/policies.ts';
import { evaluate, policyNamed, shippedPolicyConfig, stackResources, withDocument, withEdit, without } from './support.ts';

/**
 * The failing side of every policy: the dev stack's resources with one crafted defect
 * each. Every case runs the whole pack, so it also shows that the defect trips only the
 * policy meant for it; each message must name the resource and say how to fix it.
 */

interface Case {
  policy: string;
  what: string;
  craft(dev: readonly ResourceUnderTest[]): ResourceUnderTest[];
  /** Each expected violation's message, in any order. */
  expect: RegExp[];
  config?: PolicyPackConfig;
  level?: Violation['level'];
  /** Other policies the same defect rightly trips. */
  alsoTrips?: string[];
  /** The shipped stack the defect is crafted on (dev unless the policy is about prod-only resources). */
  stack?: 'dev' | 'prod-existing-vpc';
}

const CONFIG_MAP = /ConfigMap "runs-fleet-system\/runs-fleet-config" \(platform-config\)/;
const NP_4CPU = 'karpenter-nodepool-4cpu-linux-arm64';
const NC_50 = 'karpenter-nodeclass-50gib';
const runnerContainer = (doc: any, cls = 0) => doc.classes[cls].podTemplate.spec.containers[0];
const valkeyContainer = (props: any) => props.spec.template.spec.containers[0];
const orchestratorPod = (props: any) => props.spec.template.spec;
/** The webhook Service (a Secret shares its Pulumi name). */
const withWebhookService = (dev: readonly ResourceUnderTest[], edit: (svc: any) => void): ResourceUnderTest[] => {
  const copy = structuredClone(dev) as ResourceUnderTest[];
  edit(copy.find((r) => r.type === 'kubernetes:core/v1:Service' && r.name === 'orchestrator-webhook')!.props);
  return copy;
};

const CASES: Case[] = [
  // Warm pools
  {
    policy: 'warm-pool-min-max', what: 'a pool with min > max',
    craft: (dev) => withDocument(dev, (doc) => { doc.pools[1].min = 8; }),
    expect: [/ConfigMap .*pool "small" has min 8 > max 6\. Fix: raise runs-fleet:pools\[1\]\.max to ≥ 8/],
  },
  {
    policy: 'warm-pool-min-max', what: 'a schedule keeping more than the pool’s max',
    craft: (dev) => withDocument(dev, (doc) => { doc.pools[0].schedules[0].min = 12; }),
    expect: [/pool "default" schedule "office-hours" keeps min 12 > the pool's max 10\. Fix: lower that schedule's min or raise runs-fleet:pools\[0\]\.max/],
  },
  {
    policy: 'warm-pool-max-cap', what: 'a pool over the configured per-pool cap',
    config: { 'warm-pool-max-cap': { maxPlaceholdersPerPool: 8 } },
    craft: (dev) => structuredClone(dev) as ResourceUnderTest[],
    expect: [/pool "default" has max 10, over the per-pool cap of 8\. Fix: lower runs-fleet:pools\[0\]\.max to ≤ 8/],
  },
  {
    policy: 'warm-pool-cpu-within-nodepool', what: 'a pool whose max × cpu exceeds the NodePool’s limits.cpu',
    craft: (dev) => withDocument(dev, (doc) => { doc.pools[0].max = 49; }),
    expect: [/NodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\): its warm pools may hold 196 CPU .*over its limits\.cpu of 192.*Fix: lower runs-fleet:pools\[0\]\.max to ≤ 48, or raise runs-fleet:classes\[1\]\.nodePoolCpuLimit to ≥ 196/],
  },
  {
    policy: 'warm-pool-cpu-within-nodepool', what: 'pools over the configured share of the NodePool',
    config: { 'warm-pool-cpu-within-nodepool': { maxShareOfNodePoolCpu: 0.1 } },
    craft: (dev) => structuredClone(dev) as ResourceUnderTest[],
    // 4cpu-linux-arm64: 40 > 19.2; 2cpu-linux-arm64: 12 > 6.4; 4cpu-linux-amd64: 16 > 9.6.
    expect: [
      /NodePool "4cpu-linux-arm64" .*40 CPU .*over 0\.1 × its limits\.cpu of 192 = 19\.2.*lower runs-fleet:pools\[0\]\.max to ≤ 4/,
      /NodePool "2cpu-linux-arm64" .*12 CPU .*over 0\.1 × its limits\.cpu of 64 = 6\.4.*≤ 3/,
      /NodePool "4cpu-linux-amd64" .*16 CPU .*over 0\.1 × its limits\.cpu of 96 = 9\.6.*≤ 2/,
    ],
  },
  {
    policy: 'warm-pool-cpu-within-nodepool', what: 'pools of a class that has no NodePool',
    craft: (dev) => without(dev, NP_4CPU),
    expect: [/pools "default" \(runs-fleet:pools\[0\]\) keep class "4cpu-linux-arm64" warm, but the stack has no NodePool for that class\. Fix: /],
  },
  {
    policy: 'warm-pool-cpu-within-nodepool', what: 'no config document: the NodePool annotation over the limit',
    craft: (dev) => withEdit(without(dev, 'platform-config'), NP_4CPU, (np) => { np.metadata.annotations['runs-fleet.io/warm-pool-max-cpu'] = '200'; }),
    expect: [/NodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\): its warm pools may hold 200 CPU .*over its limits\.cpu of 192\. Fix: /],
  },
  // NodePools
  {
    policy: 'nodepool-cpu-limit', what: 'no limits.cpu',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => { delete np.spec.limits; }),
    // The class's warm pools lose their budget too: the pool policy must say so.
    alsoTrips: ['warm-pool-cpu-within-nodepool'],
    expect: [/NodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\) has no spec\.limits\.cpu.*Fix: set the class's nodePoolCpuLimit/],
  },
  {
    policy: 'nodepool-cpu-limit', what: 'limits.cpu that is not a quantity',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => { np.spec.limits.cpu = 'lots'; }),
    alsoTrips: ['warm-pool-cpu-within-nodepool'],
    expect: [/NodePool "4cpu-linux-arm64" .*has spec\.limits\.cpu "lots", which is not a CPU quantity\. Fix: /],
  },
  {
    policy: 'nodepool-cpu-limit', what: 'limits.cpu over the configured cap',
    config: { 'nodepool-cpu-limit': { maxCpu: 200 } },
    craft: (dev) => structuredClone(dev) as ResourceUnderTest[],
    expect: [/NodePool "8cpu-linux-arm64" .*spec\.limits\.cpu 256, over the cap of 200\. Fix: lower runs-fleet:classes\[i\]\.nodePoolCpuLimit to ≤ 200/],
  },
  {
    policy: 'nodepool-runner-taint', what: 'a NodePool without the runner taint',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => { np.spec.template.spec.taints = [{ key: 'other', value: 'x', effect: 'NoSchedule' }]; }),
    expect: [/NodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\) does not taint its nodes runs-fleet\.io\/runner=true:NoSchedule.*Fix: add that taint/],
  },
  {
    policy: 'nodepool-disruption-protects-runners', what: 'underutilised consolidation, no budgets',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => { np.spec.disruption = { consolidationPolicy: 'WhenEmptyOrUnderutilized' }; }),
    expect: [
      /NodePool "4cpu-linux-arm64" .*consolidationPolicy WhenEmptyOrUnderutilized.*Fix: set spec\.disruption\.consolidationPolicy to WhenEmpty/,
      /NodePool "4cpu-linux-arm64" .*has no spec\.disruption\.budgets.*Fix: add budgets/,
    ],
  },
  {
    policy: 'nodepool-disruption-protects-runners', what: 'a budget that allows half the nodes at once',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => { np.spec.disruption.budgets[0].nodes = '50%'; }),
    expect: [/NodePool "4cpu-linux-arm64" .*spec\.disruption\.budgets\[0\] allows 50% of nodes at once\. Fix: allow at most 20% or 10 nodes/],
  },
  // EC2NodeClasses
  {
    policy: 'ec2nodeclass-encrypted-volumes', what: 'an unencrypted root volume',
    craft: (dev) => withEdit(dev, NC_50, (nc) => { nc.spec.blockDeviceMappings[0].ebs.encrypted = false; }),
    expect: [/EC2NodeClass "runs-fleet-50gib" \(karpenter-nodeclass-50gib\): spec\.blockDeviceMappings\[0\] \(\/dev\/xvda\) is not encrypted\. Fix: set ebs\.encrypted: true/],
  },
  {
    policy: 'ec2nodeclass-encrypted-volumes', what: 'no block device mappings',
    craft: (dev) => withEdit(dev, NC_50, (nc) => { delete nc.spec.blockDeviceMappings; }),
    expect: [/EC2NodeClass "runs-fleet-50gib" .*declares no spec\.blockDeviceMappings.*Fix: add a root volume with ebs\.encrypted: true/],
  },
  {
    policy: 'ec2nodeclass-imdsv2-required', what: 'IMDSv1 allowed',
    craft: (dev) => withEdit(dev, NC_50, (nc) => { nc.spec.metadataOptions.httpTokens = 'optional'; }),
    expect: [/EC2NodeClass "runs-fleet-50gib" .*httpTokens "optional".*Fix: set spec\.metadataOptions\.httpTokens: required/],
  },
  {
    policy: 'ec2nodeclass-imds-hop-limit', what: 'a hop limit of 2',
    craft: (dev) => withEdit(dev, NC_50, (nc) => { nc.spec.metadataOptions.httpPutResponseHopLimit = 2; }),
    expect: [/EC2NodeClass "runs-fleet-50gib" .*httpPutResponseHopLimit 2: pods could reach.*Fix: set spec\.metadataOptions\.httpPutResponseHopLimit: 1/],
  },
  // Runner and placeholder pods
  {
    policy: 'runner-pods-no-host-access', what: 'host network and a hostPath volume in a runner template',
    craft: (dev) => withDocument(dev, (doc) => {
      const spec = doc.classes[0].podTemplate.spec;
      spec.hostNetwork = true;
      spec.volumes.push({ name: 'sock', hostPath: { path: '/var/run/docker.sock' } });
    }),
    expect: [new RegExp(`${CONFIG_MAP.source}: class "2cpu-linux-arm64" runner pod template: hostNetwork is true; volume "sock" is a hostPath \\(/var/run/docker.sock\\)\\. Fix: remove them`)],
  },
  {
    policy: 'runner-pods-no-service-account-token', what: 'a runner template that mounts a token',
    craft: (dev) => withDocument(dev, (doc) => { doc.classes[2].podTemplate.spec.automountServiceAccountToken = true; }),
    expect: [/ConfigMap .*class "8cpu-linux-arm64" runner pod template: automountServiceAccountToken is not false.*Fix: set automountServiceAccountToken: false/],
  },
  {
    policy: 'runner-pods-privileged-only-dind', what: 'a privileged runner container',
    craft: (dev) => withDocument(dev, (doc) => { runnerContainer(doc).securityContext.privileged = true; }),
    expect: [/ConfigMap .*class "2cpu-linux-arm64" runner pod template: container "runner" is privileged\. Fix: drop securityContext\.privileged .*only "dind" may be privileged/],
  },
  {
    policy: 'runner-pods-resources', what: 'a runner container without limits',
    craft: (dev) => withDocument(dev, (doc) => { delete runnerContainer(doc, 1).resources.limits; }),
    expect: [/ConfigMap .*class "4cpu-linux-arm64" runner pod template: container "runner" has no limits\.cpu, limits\.memory\. Fix: set resources\.requests and resources\.limits/],
  },
  {
    policy: 'runner-pods-pinned-images', what: 'a :latest runner image',
    craft: (dev) => withDocument(dev, (doc) => { runnerContainer(doc).image = 'ghcr.io/actions/actions-runner:latest'; }),
    expect: [/ConfigMap .*class "2cpu-linux-arm64" runner pod template: container "runner" uses image "ghcr\.io\/actions\/actions-runner:latest", which is not pinned.*Fix: pin runs-fleet:runner\.image/],
  },
  {
    policy: 'runner-pods-pinned-images', what: 'an unpinned pause image reaches every placeholder',
    craft: (dev) => withDocument(dev, (doc) => { doc.runner.pauseImage = 'registry.k8s.io/pause'; }),
    expect: ['default', 'small', 'amd64'].map((pool) => new RegExp(
      `ConfigMap .*pool "${pool}" placeholder pod: container "pause" uses image "registry\\.k8s\\.io/pause", which is not pinned.*Fix: pin runs-fleet:runner\\.image, \\.dindImage and \\.pauseImage`)),
  },
  {
    policy: 'runner-image-floor', what: 'a runner image older than 2.329.0 (GitHub refuses to register it)',
    craft: (dev) => withDocument(dev, (doc) => { doc.runner.image = 'ghcr.io/actions/actions-runner:2.328.0'; for (const c of doc.classes) delete c.podTemplate; }),
    expect: [
      ...['2cpu-linux-arm64', '4cpu-linux-arm64', '8cpu-linux-arm64', '4cpu-linux-amd64', '4cpu-linux-arm64-disk300'].map((cls) => new RegExp(
        `ConfigMap .*class "${cls}" runner pod template: container "runner" uses image "ghcr\\.io/actions/actions-runner:2\\.328\\.0" \\(runner 2\\.328\\.0, older than 2\\.329\\.0\\).*Fix: set runs-fleet:runner\\.image to a current release`)),
      ...['default', 'small', 'amd64'].map((pool) => new RegExp(`pool "${pool}" placeholder pod: container "prepull-runner" uses image ".*:2\\.328\\.0"`)),
    ],
  },
  {
    policy: 'runner-image-floor', what: 'an image below a raised floor (policy config)',
    config: { 'runner-image-floor': { minRunnerVersion: '2.400.0' } },
    craft: (dev) => structuredClone(dev) as ResourceUnderTest[],
    expect: [/class "2cpu-linux-arm64" runner pod template: container "runner" uses image ".*:2\.336\.0" \(runner 2\.336\.0, older than 2\.400\.0\)/, /class "4cpu-linux-arm64"/, /class "8cpu-linux-arm64"/, /class "4cpu-linux-amd64"/, /class "4cpu-linux-arm64-disk300"/, /pool "default"/, /pool "small"/, /pool "amd64"/],
  },
  {
    policy: 'runner-pods-resources', what: 'a config document that is not JSON',
    craft: (dev) => withEdit(dev, 'platform-config', (cm) => { cm.data['config.json'] = '{"classes": ['; }),
    alsoTrips: ['runner-pods-no-host-access', 'runner-pods-no-service-account-token', 'runner-pods-privileged-only-dind', 'runner-pods-pinned-images'],
    expect: [/ConfigMap .*cannot check runner and placeholder pods: config\.json is not JSON.*Fix: /],
  },
  // Runner sizing (the class-edit cases run the program: tests/policies/runner-sizing.test.ts)
  {
    policy: 'runner-class-fits-instance', what: 'a stale pod template sized to the nominal class, each container limited to all of it',
    craft: (dev) => withDocument(dev, (doc) => {
      const spec = doc.classes[1].podTemplate.spec;
      delete spec.resources;
      const whole = { cpu: '4000m', memory: '16384Mi' };
      spec.containers[0].resources = { requests: { cpu: '3750m', memory: '15872Mi' }, limits: whole };
      spec.initContainers[0].resources = { requests: { cpu: '250m', memory: '512Mi' }, limits: whole };
    }),
    expect: [
      /ConfigMap .*class "4cpu-linux-arm64" \(runs-fleet:classes\[1\]\): its runner pod template requests 4000m CPU \/ 16384 MiB, more than the 3740m CPU \/ 13999 MiB an instance of its size has for it after the DaemonSets.*Fix: let the program render runs-fleet:classes\[1\]\.podTemplate again/,
      /class "4cpu-linux-arm64" \(runs-fleet:classes\[1\]\): its runner and Docker containers may together use 32768 MiB memory, more than the pod's 13999 MiB\. Fix: /,
    ],
  },
  {
    policy: 'nodepool-matches-class-size', what: 'a NodePool that lets Karpenter pick any size',
    craft: (dev) => withEdit(dev, NP_4CPU, (np) => {
      np.spec.template.spec.requirements = np.spec.template.spec.requirements.filter((r: any) => !/instance-(cpu|memory)$/.test(r.key));
    }),
    expect: [/NodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\) admits instance-cpu of any size and instance-memory of any size, but class "4cpu-linux-arm64" \(runs-fleet:classes\[1\]\) is cut to fit 4 vCPU \/ 16384 MiB nodes.*Fix: require karpenter\.k8s\.aws\/instance-cpu In \[4\] and karpenter\.k8s\.aws\/instance-memory In \[16384\]/],
  },
  // Runner namespace
  {
    policy: 'runner-namespace-default-deny-ingress', what: 'no default-deny ingress policy',
    craft: (dev) => without(dev, 'platform-deny-ingress'),
    expect: [/runner namespace "runs-fleet-runners" has no default-deny ingress NetworkPolicy.*Fix: add a NetworkPolicy in "runs-fleet-runners" with podSelector: \{\} and policyTypes: \[Ingress\]/],
  },
  {
    policy: 'runner-namespace-default-deny-ingress', what: 'the deny policy selects only some pods',
    craft: (dev) => withEdit(dev, 'platform-deny-ingress', (p) => { p.spec.podSelector = { matchLabels: { app: 'x' } }; }),
    expect: [/runner namespace "runs-fleet-runners" has no default-deny ingress NetworkPolicy/],
  },
  {
    policy: 'runner-namespace-metadata-egress-blocked', what: 'IMDS not excepted from the internet egress rule',
    craft: (dev) => withEdit(dev, 'platform-runner-egress', (p) => { p.spec.egress[1].to[0].ipBlock.except.shift(); }),
    expect: [/NetworkPolicy "runs-fleet-runners\/runs-fleet-runner-egress" \(platform-runner-egress\) lets runner pods reach 169\.254\.169\.254: egress\[1\] admits ipBlock 0\.0\.0\.0\/0 without excepting 169\.254\.169\.254\/32\. Fix: add 169\.254\.169\.254\/32 to that ipBlock's except list/],
  },
  {
    policy: 'runner-namespace-metadata-egress-blocked', what: 'an egress rule with no destinations',
    craft: (dev) => withEdit(dev, 'platform-runner-egress', (p) => { p.spec.egress.push({ ports: [{ port: 80, protocol: 'TCP' }] }); }),
    expect: [
      /\(platform-runner-egress\) lets runner pods reach 169\.254\.169\.254: egress\[2\] has no "to", which admits every destination/,
      /\(platform-runner-egress\) lets runner pods reach 169\.254\.170\.23: egress\[2\] has no "to"/,
    ],
  },
  {
    policy: 'runner-namespace-metadata-egress-blocked', what: 'no egress policy at all',
    craft: (dev) => without(dev, 'platform-runner-egress'),
    expect: [/runner namespace "runs-fleet-runners" has no NetworkPolicy restricting egress of every pod.*Fix: add an egress NetworkPolicy with podSelector: \{\} whose ipBlock excepts 169\.254\.169\.254\/32, 169\.254\.170\.23\/32/],
  },
  // Valkey
  {
    policy: 'valkey-persistence', what: 'Valkey without an append-only file',
    craft: (dev) => withEdit(dev, 'valkey-statefulset', (s) => { valkeyContainer(s).args = valkeyContainer(s).args.filter((a: string) => !['--appendonly', 'yes'].includes(a)); }),
    expect: [/StatefulSet "runs-fleet-system\/valkey" \(valkey-statefulset\): container "valkey" runs without persistence.*Fix: start valkey-server with --appendonly yes/],
  },
  {
    policy: 'valkey-volume', what: 'the data directory on an emptyDir',
    craft: (dev) => withEdit(dev, 'valkey-statefulset', (s) => {
      delete s.spec.volumeClaimTemplates;
      s.spec.template.spec.volumes.push({ name: 'data', emptyDir: {} });
    }),
    expect: [/StatefulSet "runs-fleet-system\/valkey" \(valkey-statefulset\): container "valkey" keeps its data directory \/data on volume "data", which is not a PersistentVolumeClaim.*Fix: mount a volumeClaimTemplate at \/data/],
  },
  {
    policy: 'valkey-password', what: 'Valkey started without its config file',
    craft: (dev) => withEdit(dev, 'valkey-statefulset', (s) => { valkeyContainer(s).args.shift(); }),
    expect: [/StatefulSet "runs-fleet-system\/valkey" \(valkey-statefulset\): container "valkey" starts without a password.*Fix: mount a Secret holding "requirepass <password>"/],
  },
  // Orchestrator
  {
    policy: 'orchestrator-high-availability', what: 'one replica and no PDB',
    craft: (dev) => withEdit(without(dev, 'orchestrator-pdb'), 'orchestrator-deployment', (d) => { d.spec.replicas = 1; }),
    expect: [
      /Deployment "runs-fleet-system\/runs-fleet-orchestrator" \(orchestrator-deployment\) runs 1 replica\(s\).*Fix: set runs-fleet:orchestrator\.replicas to ≥ 2/,
      /Deployment "runs-fleet-system\/runs-fleet-orchestrator" \(orchestrator-deployment\) has no PodDisruptionBudget selecting its pods.*Fix: add a PodDisruptionBudget/,
    ],
  },
  {
    policy: 'orchestrator-high-availability', what: 'one replica on the dev stack: advisory through policies/config.dev.json',
    config: shippedPolicyConfig('dev'),
    level: 'advisory',
    craft: (dev) => withEdit(dev, 'orchestrator-deployment', (d) => { d.spec.replicas = 1; }),
    expect: [
      /\(orchestrator-deployment\) runs 1 replica\(s\)/,
      /PodDisruptionBudget .*\(orchestrator-pdb\) .*maxUnavailable 1 with 1 replica\(s\) lets every replica go at once\. Fix: run more replicas than maxUnavailable/,
    ],
  },
  {
    policy: 'orchestrator-high-availability', what: 'a PDB that lets every replica go',
    craft: (dev) => withEdit(dev, 'orchestrator-pdb', (p) => { p.spec.maxUnavailable = '100%'; }),
    expect: [/PodDisruptionBudget "runs-fleet-system\/runs-fleet-orchestrator" \(orchestrator-pdb\) for Deployment .*: maxUnavailable 100% lets every replica go at once\. Fix: set maxUnavailable: 1/],
  },
  {
    policy: 'orchestrator-resource-limits', what: 'a container without a CPU limit',
    craft: (dev) => withEdit(dev, 'orchestrator-deployment', (d) => { delete orchestratorPod(d).containers[0].resources.limits.cpu; }),
    expect: [/Deployment "runs-fleet-system\/runs-fleet-orchestrator" \(orchestrator-deployment\): container "orchestrator" has no limits\.cpu\. Fix: /],
  },
  {
    policy: 'orchestrator-read-only-root-filesystem', what: 'a writable root filesystem in the init container',
    craft: (dev) => withEdit(dev, 'orchestrator-deployment', (d) => { orchestratorPod(d).initContainers[0].securityContext.readOnlyRootFilesystem = false; }),
    expect: [/Deployment "runs-fleet-system\/runs-fleet-orchestrator" \(orchestrator-deployment\): init container "unpack" has no securityContext\.readOnlyRootFilesystem: true\. Fix: /],
  },
  {
    policy: 'valkey-pdb-allows-drain', what: 'minAvailable 1 on the single Valkey pod',
    craft: (dev) => withEdit(dev, 'valkey-pdb', (p) => { delete p.spec.maxUnavailable; p.spec.minAvailable = 1; }),
    expect: [/PodDisruptionBudget "runs-fleet-system\/valkey" \(valkey-pdb\): minAvailable 1 on a single Valkey pod blocks every drain of its node.*Fix: set maxUnavailable: 1/],
  },
  // ElastiCache (the prod stack's queue)
  {
    policy: 'elasticache-encryption', what: 'no TLS, no encryption at rest, no AUTH token', stack: 'prod-existing-vpc',
    craft: (prod) => withEdit(prod, 'valkey-group', (g) => { g.transitEncryptionEnabled = false; g.atRestEncryptionEnabled = false; delete g.authToken; }),
    expect: [
      /ElastiCache replication group .*\(valkey-group\) accepts unencrypted connections\. Fix: transitEncryptionEnabled: true/,
      /\(valkey-group\) is not encrypted at rest\. Fix: atRestEncryptionEnabled: true/,
      /\(valkey-group\) needs no AUTH token.*Fix: set authToken from a Pulumi secret/,
    ],
  },
  {
    policy: 'elasticache-failover', what: 'one node, no automatic failover, single-AZ', stack: 'prod-existing-vpc',
    craft: (prod) => withEdit(prod, 'valkey-group', (g) => { g.numCacheClusters = 1; g.automaticFailoverEnabled = false; g.multiAzEnabled = false; }),
    expect: [
      /\(valkey-group\) has 1 node: losing it loses every queued job\. Fix: runs-fleet:valkey\.elastiCache\.replicas ≥ 1/,
      /\(valkey-group\) does not fail over automatically\. Fix: automaticFailoverEnabled: true/,
      /\(valkey-group\) may keep its replica in the primary's zone\. Fix: multiAzEnabled: true/,
    ],
  },
  // Load balancer
  {
    policy: 'load-balancer-webhook-only', what: 'the metrics port behind the NLB',
    craft: (dev) => withWebhookService(dev, (svc) => { svc.spec.ports.push({ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }); }),
    expect: [/Service "runs-fleet-system\/runs-fleet-orchestrator-webhook" \(orchestrator-webhook\): the load balancer forwards port 9090 to "metrics", which is not the webhook port.*Fix: forward only targetPort "http"/],
  },
  {
    policy: 'load-balancer-system-targets', what: 'every node a target',
    craft: (dev) => withWebhookService(dev, (svc) => { delete svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-target-node-labels']; }),
    expect: [/\(orchestrator-webhook\): the load balancer registers every node, runner nodes included, as a target\. Fix: annotate it with service\.beta\.kubernetes\.io\/aws-load-balancer-target-node-labels/],
  },
  // VPC CNI
  {
    policy: 'vpc-cni-strict-network-policy', what: 'the default standard mode',
    craft: (dev) => withEdit(dev, 'cluster-vpc-cni', (a) => {
      const cfg = JSON.parse(a.configurationValues);
      cfg.env.NETWORK_POLICY_ENFORCING_MODE = 'standard';
      a.configurationValues = JSON.stringify(cfg);
    }),
    expect: [/vpc-cni add-on \(cluster-vpc-cni\) enforces NetworkPolicies in "standard" mode: a new pod is allow-all until its policies apply\. Fix: set env\.NETWORK_POLICY_ENFORCING_MODE to "strict"/],
  },
  {
    policy: 'vpc-cni-strict-network-policy', what: 'network policies off',
    craft: (dev) => withEdit(dev, 'cluster-vpc-cni', (a) => { a.configurationValues = JSON.stringify({ env: { NETWORK_POLICY_ENFORCING_MODE: 'strict' } }); }),
    expect: [/vpc-cni add-on \(cluster-vpc-cni\) does not enable the network policy agent.*Fix: set "enableNetworkPolicy": "true"/],
  },
  {
    policy: 'vpc-cni-service-account-role', what: 'the CNI policy on the runner node role, and an add-on without its own role',
    craft: (dev) => withEdit(
      withEdit(dev, 'runner-nodes-AmazonEKSWorkerNodePolicy', (att) => { att.policyArn = 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'; }),
      'cluster-vpc-cni', (a) => { delete a.serviceAccountRoleArn; },
    ),
    expect: [
      /runner-nodes-AmazonEKSWorkerNodePolicy attaches AmazonEKS_CNI_Policy to node role runner-nodes-role: any pod that reaches the instance credentials.*Fix: attach it to the vpc-cni add-on's service-account role only/,
      /vpc-cni add-on \(cluster-vpc-cni\) has no serviceAccountRoleArn.*Fix: give it an IRSA role with AmazonEKS_CNI_Policy/,
    ],
  },
  // EKS
  {
    policy: 'eks-control-plane-logging', what: 'only api logs',
    level: 'advisory',
    craft: (dev) => withEdit(dev, 'cluster-eks', (c) => { c.enabledClusterLogTypes = ['api']; }),
    expect: [/EKS cluster runs-fleet-dev \(cluster-eks\) does not log audit, authenticator\. Fix: add audit, authenticator to runs-fleet:cluster\.logTypes/],
  },
];

describe('each policy fails on its crafted violation, naming the resource and the fix', function () {
  this.timeout(60_000);
  const stacks = new Map<string, ResourceUnderTest[]>();
  before(async () => {
    stacks.set('dev', await stackResources('dev'));
    stacks.set('prod-existing-vpc', await stackResources('prod-existing-vpc'));
  });

  it('has at least one failing case for every policy', () => {
    const covered = new Set(CASES.map((c) => c.policy));
    assert.deepEqual(policies.map((p) => p.name).filter((n) => !covered.has(n)), []);
  });

  for (const c of CASES) {
    it(`${c.policy}: ${c.what}`, async () => {
      const { violations } = await evaluate(c.craft(stacks.get(c.stack ?? 'dev')!), undefined, c.config);
      const mine = violations.filter((v) => v.policy === c.policy);
      const others = violations.filter((v) => v.policy !== c.policy);
      assert.deepEqual([...new Set(others.map((v) => v.policy))], c.alsoTrips ?? [], `unexpected: ${others.map((v) => v.message).join('\n')}`);
      assert.equal(mine.length, c.expect.length, mine.map((v) => v.message).join('\n'));
      for (const pattern of c.expect) assert.ok(mine.some((v) => pattern.test(v.message)), `no message matches ${pattern}:\n${mine.map((v) => v.message).join('\n')}`);
      for (const v of mine) {
        assert.equal(v.level, c.level ?? policyNamed(c.policy).enforcementLevel);
        assert.match(v.message, /Fix: \S/);
        assert.ok(v.urn, 'a violation must point at a resource');
      }
    });
  }
});
