import { z } from 'zod';
import { Arch, ConfigDocument, LabelAlias, Pool, RunnerClass, RunnerSettings } from '../runtime/config/document.ts';
import { formatIssues } from '../runtime/config/issues.ts';
import { ConfigError } from '../runtime/util/errors.ts';
import { cidrsOverlap, parseCidr } from './cidr.ts';

/**
 * The stack config (`Pulumi.<stack>.yaml`, keys `runs-fleet:*`) as typed values. Runner
 * classes, pools, aliases and runner settings use the runtime's own schemas
 * (runtime/config/document.ts), so what the program accepts is what the runtime accepts.
 * Pure: no Pulumi here, so every rule is unit-tested without an engine.
 */

export const PROJECT = 'runs-fleet';
const PREFIX = `${PROJECT}:`;

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and "-"').max(63);
const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a fully qualified DNS name such as runs-fleet.example.com');
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, 'must be an IPv4 CIDR such as 10.0.0.0/16');
const pinnedImage = z
  .string()
  .refine((s) => !s.endsWith(':latest') && /:[^/]+$|@sha256:/.test(s), 'must be pinned to a tag or digest other than :latest');
const duration = z.string().regex(/^([0-9]+(s|m|h))+$/, 'must be a duration such as 30s, 2m or 1h30m');
const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123abcd');
const iamPrincipalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, 'must be an IAM role or user ARN such as arn:aws:iam::123456789012:role/admin');

/** Kubernetes minor versions Karpenter 1.14 supports (its compatibility table ends at 1.36). */
const KUBERNETES_VERSIONS = ['1.29', '1.30', '1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] as const;

const CreateNetwork = z
  .object({
    mode: z.literal('create'),
    /** The new VPC's CIDR; private subnets get /(n+3) blocks, public ones /(n+6). */
    cidr: cidr.default('10.0.0.0/16').refine((s) => {
      const p = parseCidr(s)?.prefix ?? 0;
      return p >= 16 && p <= 20;
    }, 'must have a prefix between /16 and /20 (runner pods take VPC addresses)'),
    availabilityZoneCount: z.number().int().min(2).max(4).default(3),
    /** `single` saves cost; `perAz` survives the loss of one zone's NAT gateway. */
    natGateways: z.enum(['single', 'perAz']).default('single'),
  })
  .strict();

const ExistingNetwork = z
  .object({
    mode: z.literal('existing'),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id such as vpc-0123abcd'),
    /** Nodes and runner pods go here; at least two zones. */
    privateSubnetIds: z.array(subnetId).min(2, 'must list at least two private subnets (in different zones)'),
    /** For the internet-facing webhook load balancer (tagged kubernetes.io/role/elb=1). */
    publicSubnetIds: z.array(subnetId).default([]),
    /** Every CIDR of the VPC: runner pods may not reach them. */
    vpcCidrs: z.array(cidr).min(1, 'must list the VPC CIDR(s), e.g. [10.0.0.0/16]'),
  })
  .strict();

const Network = z.discriminatedUnion('mode', [CreateNetwork, ExistingNetwork]);
export type NetworkConfig = z.infer<typeof Network>;

const SystemNodes = z
  .object({
    arch: Arch.default('arm64'),
    instanceTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7g.large')).min(1).optional(),
    min: z.number().int().min(1).default(2),
    desired: z.number().int().min(1).default(2),
    max: z.number().int().min(1).max(20).default(4),
    diskGiB: z.number().int().min(20).max(1000).default(50),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.desired < n.min) ctx.addIssue({ code: 'custom', path: ['desired'], message: `must be ≥ min (${n.desired} < ${n.min})` });
    if (n.max < n.desired) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be ≥ desired (${n.max} < ${n.desired})` });
  })
  .transform((n) => ({ ...n, instanceTypes: n.instanceTypes ?? [n.arch === 'arm64' ? 'm7g.large' : 'm7i.large'] }));

const Cluster = z
  .object({
    version: z.enum(KUBERNETES_VERSIONS, { error: `must be a Kubernetes version Karpenter 1.14 supports: ${KUBERNETES_VERSIONS.join(', ')}` }).default('1.34'),
    /** Service (ClusterIP) range; must not overlap the VPC. */
    serviceCidr: cidr.default('172.20.0.0/16'),
    endpointPublicAccess: z.boolean().default(true),
    publicAccessCidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
    /** IAM principals that get cluster-admin (AmazonEKSClusterAdminPolicy) access entries. */
    adminPrincipalArns: z.array(iamPrincipalArn).default([]),
    logTypes: z.array(z.enum(['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'])).default(['api', 'audit', 'authenticator']),
    deletionProtection: z.boolean().default(false),
    systemNodes: SystemNodes.prefault({}),
  })
  .strict();

const Karpenter = z
  .object({
    chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a chart version such as 1.14.1').default('1.14.1'),
    /** AL2023 only; pin a release (al2023@v20250101) to control node image rollouts. */
    amiAlias: z.string().regex(/^al2023@(latest|v\d{8})$/, 'must be al2023@latest or al2023@vYYYYMMDD').default('al2023@latest'),
    /** How long an empty runner node stays for the next job. */
    consolidateAfter: duration.default('2m'),
    /** Nodes are replaced after this long (runners on them may finish first, see terminationGracePeriod). */
    expireAfter: duration.default('720h'),
    replicas: z.number().int().min(1).max(5).default(2),
  })
  .strict();

const Namespaces = z
  .object({ system: dnsLabel.default('runs-fleet-system'), runners: dnsLabel.default('runs-fleet-runners') })
  .strict()
  .refine((n) => n.system !== n.runners, { path: ['runners'], message: 'must differ from the system namespace' });

const APP_ID_MESSAGE = 'must be the numeric App ID or the client ID (Iv…) of your GitHub App';

const AppIdField = z
  .union([z.number().int().positive(), z.string().regex(/^(\d+|Iv[0-9A-Za-z.]+)$/, APP_ID_MESSAGE)], { error: APP_ID_MESSAGE })
  .transform(String);

/** A further GitHub App (`github.apps[]`): more JIT budget; secret leaves as above. */
const ExtraApp = z
  .object({
    appId: AppIdField,
    privateKey: z.string().regex(/-----BEGIN (RSA )?PRIVATE KEY-----/, 'must be the PEM private key of this GitHub App (set it with --secret)'),
    webhookSecret: z.string().min(16, 'must be at least 16 characters (set it with --secret)'),
    webhookSecretPrevious: z.string().min(16, 'must be at least 16 characters (set it with --secret)').optional(),
    /** This App's installation ids, when known (an installation belongs to one App). */
    installations: z.array(z.number().int().positive()).optional(),
  })
  .strict();

// Secret leaves: messages never include the value.
const Github = z
  .object({
    appId: z
      .union([z.number().int().positive(), z.string().regex(/^(\d+|Iv[0-9A-Za-z.]+)$/, APP_ID_MESSAGE)], { error: APP_ID_MESSAGE })
      .transform(String),
    apiUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL such as https://api.github.com' }).default('https://api.github.com'),
    privateKey: z.string().regex(/-----BEGIN (RSA )?PRIVATE KEY-----/, 'must be the PEM private key of your GitHub App (set it with --secret)'),
    webhookSecret: z.string().min(16, 'must be at least 16 characters (set it with --secret)'),
    /** The secret being rotated out; accepted until removed. */
    webhookSecretPrevious: z.string().min(16, 'must be at least 16 characters (set it with --secret)').optional(),
    /**
     * Further Apps beside the one above (which stays the first): JIT and token calls
     * spread across them, and webhooks from any of them are accepted.
     */
    apps: z.array(ExtraApp).optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const ids = [g.appId, ...(g.apps ?? []).map((a) => a.appId)];
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['apps', i - 1, 'appId'], message: `App ${id} is listed twice` });
    });
  });

const Webhook = z
  .object({
    /** The DNS name GitHub calls; the ACM certificate must cover it. */
    hostname: dnsName,
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)'),
    /** When set, a CNAME from hostname to the load balancer is created in this Route 53 zone. */
    route53ZoneId: z.string().regex(/^Z[A-Z0-9]{4,32}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABC').optional(),
    /** Client CIDRs allowed to reach the load balancer (e.g. GitHub's hook ranges from /meta). */
    sourceRanges: z.array(cidr).min(1).default(['0.0.0.0/0']),
  })
  .strict();

/** Amazon ElastiCache for Valkey (`valkey.mode: elastiCache`): a replication group with failover. */
const ElastiCache = z
  .object({
    /** ElastiCache node type; Graviton (t4g/m7g/r7g) nodes are the cheapest per GiB. */
    nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an ElastiCache node type such as cache.m7g.large').default('cache.t4g.small'),
    /** Engine version: ElastiCache for Valkey offers 7.2, 8.0 and 8.1 (major.minor, as the API requires from 7 on). */
    engineVersion: z.enum(['7.2', '8.0', '8.1']).default('8.1'),
    /** Read replicas besides the primary, each in another zone; at least 1 for Multi-AZ failover. */
    replicas: z.number().int().min(1, 'must be at least 1: Multi-AZ automatic failover needs a replica').max(5).default(1),
    /** Daily snapshots kept (0 turns them off). */
    snapshotRetentionDays: z.number().int().min(0).max(35).default(7),
  })
  .strict();

const Valkey = z
  .object({
    /** `inCluster`: one StatefulSet pod on an EBS volume (dev). `elastiCache`: a Multi-AZ replication group (production). */
    mode: z.enum(['inCluster', 'elastiCache']).default('inCluster'),
    image: pinnedImage.default('valkey/valkey:8.1.3'),
    storageGiB: z.number().int().min(1).max(1000).default(10),
    cpuMilli: z.number().int().min(50).max(8000).default(250),
    memoryMiB: z.number().int().min(128).max(65536).default(1024),
    elastiCache: ElastiCache.prefault({}),
  })
  .strict();

/** Dashboards, alerts and scrape configuration; each optional. */
const Observability = z
  .object({
    /** A Grafana dashboard in a ConfigMap labelled for Grafana's dashboard sidecar. */
    dashboard: z.boolean().default(true),
    /** Namespace Grafana's sidecar watches; defaults to the system namespace. */
    dashboardNamespace: dnsLabel.optional(),
    /** Label the sidecar selects on (kube-prometheus-stack: grafana_dashboard=1). */
    dashboardLabel: z.record(z.string(), z.string()).default({ grafana_dashboard: '1' }),
    /** prometheus.io/* annotations on the metrics Service and pods (annotation-based scrape configs). */
    scrapeAnnotations: z.boolean().default(true),
    /** A ServiceMonitor (needs the Prometheus Operator's CRDs). */
    serviceMonitor: z.boolean().default(false),
    /** PrometheusRule alerts (needs the Prometheus Operator's CRDs). */
    alerts: z.boolean().default(false),
    /** Labels the Prometheus Operator selects rules and monitors by (kube-prometheus-stack: release=<name>). */
    selectorLabels: z.record(z.string(), z.string()).default({}),
    /** Alert when the p95 from webhook to runner pickup stays above this. */
    pickupP95Seconds: z.number().min(5).max(3600).default(120),
    /** Alert when the runner image is older than this many days (GitHub refuses runners older than about 30 days). */
    runnerVersionMaxAgeDays: z.number().int().min(1).max(365).default(25),
  })
  .strict();

const Orchestrator = z
  .object({
    replicas: z.number().int().min(2, 'must be at least 2 (one replica per zone keeps webhooks flowing during a node loss)').max(20).default(2),
    image: pinnedImage.default('node:24.11.1-bookworm-slim'),
    cpuMilli: z.number().int().min(50).max(8000).default(250),
    memoryMiB: z.number().int().min(128).max(16384).default(512),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    concurrency: z.number().int().min(1).max(256).default(16),
  })
  .strict();

const StackClass = RunnerClass.omit({ podTemplate: true }).strict();

const StackSchema = z.object({
  clusterName: z.string().regex(/^[a-z][-a-z0-9]{0,30}[a-z0-9]$/, 'must be 2-32 lowercase letters, digits and "-" (it prefixes AWS names)').optional(),
  tags: z.record(z.string(), z.string()).default({}),
  network: Network.default({ mode: 'create', cidr: '10.0.0.0/16', availabilityZoneCount: 3, natGateways: 'single' }),
  cluster: Cluster.default(Cluster.parse({})),
  karpenter: Karpenter.default(Karpenter.parse({})),
  namespaces: Namespaces.default({ system: 'runs-fleet-system', runners: 'runs-fleet-runners' }),
  runner: RunnerSettings.strict().default(RunnerSettings.parse({})),
  classes: z.array(StackClass).min(1, 'must define at least one runner class'),
  pools: z.array(Pool.strict()).default([]),
  aliases: z.array(LabelAlias.strict()).default([]),
  github: Github,
  webhook: Webhook,
  valkey: Valkey.default(Valkey.parse({})),
  orchestrator: Orchestrator.default(Orchestrator.parse({})),
  observability: Observability.prefault({}),
});

type Parsed = z.output<typeof StackSchema>;

/** The validated stack config every component reads from. */
export interface StackConfig extends Omit<Parsed, 'clusterName'> {
  clusterName: string;
  /** From `aws:region`. */
  region: string;
}

export const STACK_KEYS = Object.keys(StackSchema.shape) as ReadonlyArray<keyof Parsed>;
/** Keys whose value is a plain string in Pulumi config (everything else is structured). */
export const STRING_KEYS: ReadonlySet<string> = new Set(['clusterName']);

export interface StackContext {
  /** The stack name; the cluster is named `runs-fleet-<stack>` unless `clusterName` is set. */
  stack: string;
  /** `aws:region`. */
  region: string | undefined;
}

/**
 * Turns the raw stack config (project keys without the `runs-fleet:` prefix) into typed
 * values, or throws ConfigError listing every problem by config path, e.g.
 * `runs-fleet:pools[1].max must be ≥ min (4 < 6)`.
 */
export function parseStackConfig(raw: Record<string, unknown>, ctx: StackContext): StackConfig {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!(STACK_KEYS as readonly string[]).includes(key)) problems.push(`${PREFIX}${key} is not a known setting (known: ${STACK_KEYS.join(', ')})`);
  }
  if (!ctx.region) problems.push('aws:region is not set: run `pulumi config set aws:region <region>`, e.g. us-east-1');

  const parsed = StackSchema.safeParse(raw);
  if (!parsed.success) problems.push(...formatIssues(parsed.error, PREFIX, raw));
  // The runtime's document rules (duplicate names, pools naming unknown classes) apply as they are.
  const docInput = { runner: raw.runner, classes: raw.classes, pools: raw.pools, aliases: raw.aliases };
  const doc = ConfigDocument.safeParse(docInput);
  if (!doc.success) problems.push(...formatIssues(doc.error, PREFIX, docInput));
  if (parsed.success) problems.push(...crossChecks(parsed.data));

  if (problems.length) throw new ConfigError([...new Set(problems)]);
  const data = (parsed as { data: Parsed }).data;
  return { ...data, clusterName: data.clusterName ?? `${PROJECT}-${ctx.stack}`.toLowerCase(), region: ctx.region! };
}

/** Rules that span settings; each names the path to fix. */
function crossChecks(cfg: Parsed): string[] {
  const problems: string[] = [];
  cfg.classes.forEach((cls, i) => {
    const nodeCpu = cls.cpu * cls.runnersPerNode;
    if (cls.nodePoolCpuLimit < nodeCpu)
      problems.push(cls.runnersPerNode === 1
        ? `${PREFIX}classes[${i}].nodePoolCpuLimit must be ≥ the class's cpu (${cls.nodePoolCpuLimit} < ${cls.cpu}): the NodePool must fit one runner`
        : `${PREFIX}classes[${i}].nodePoolCpuLimit must be ≥ cpu × runnersPerNode (${cls.nodePoolCpuLimit} < ${nodeCpu}): the NodePool must fit one node`);
  });
  const vpcCidrs = cfg.network.mode === 'create' ? [cfg.network.cidr] : cfg.network.vpcCidrs;
  const overlapping = vpcCidrs.find((c) => cidrsOverlap(c, cfg.cluster.serviceCidr));
  if (overlapping)
    problems.push(`${PREFIX}cluster.serviceCidr must not overlap the VPC (${cfg.cluster.serviceCidr} overlaps ${overlapping}): pick e.g. 172.20.0.0/16 or 10.100.0.0/16`);
  const systemArch = cfg.cluster.systemNodes.arch;
  cfg.cluster.systemNodes.instanceTypes.forEach((t, i) => {
    const graviton = /^[a-z]+\d+[a-z]*g[a-z]*\./.test(t);
    if (graviton !== (systemArch === 'arm64'))
      problems.push(`${PREFIX}cluster.systemNodes.instanceTypes[${i}] (${t}) does not match arch ${systemArch}`);
  });
  return problems;
}
