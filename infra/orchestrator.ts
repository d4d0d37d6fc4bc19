import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ORCHESTRATOR_NODE_ENV, ORCHESTRATOR_NODE_FLAGS } from '../runtime/node-flags.ts';
import { COMPONENT, DOMAIN, INFRA, LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import type { StackConfig } from './config.ts';
import { BUNDLE_FILE, BUNDLE_KEY, type RuntimeBundle } from './bundle.ts';
import { CONFIG_DOCUMENT_KEY } from './config-document.ts';
import { CLUSTER_RULES, RUNNER_NAMESPACE_RULES, SYSTEM_NAMESPACE_RULES } from './rbac.ts';
import { SYSTEM_NODE_LABELS, systemPlacement } from './system-nodes.ts';
import { VALKEY_SECRET_KEYS } from './valkey.ts';

export const ORCHESTRATOR_NAME = 'runs-fleet-orchestrator';
export const ORCHESTRATOR_LABELS = {
  [LABEL.name]: ORCHESTRATOR_NAME, [LABEL.component]: COMPONENT.orchestrator, [LABEL.managedBy]: MANAGED_BY,
} as const;
export const HTTP_PORT = 8080;
/** Metrics, probes and status (runtime/http/private-server.ts): a ClusterIP Service only, never the NLB. */
export const METRICS_PORT = 9090;
export const METRICS_SERVICE = `${ORCHESTRATOR_NAME}-metrics`;
/** Only the metrics Service carries these: what a ServiceMonitor selects. */
export const METRICS_SERVICE_LABELS = { ...ORCHESTRATOR_LABELS, [`${DOMAIN}/metrics`]: 'true' } as const;
/**
 * In-tree AWS load balancer annotation (cloud-provider-aws, since Kubernetes 1.19):
 * register only nodes carrying these labels as NLB targets. Without it every node is a
 * target, so each short-lived runner node is registered, deregistered and has its
 * security group edited.
 */
export const TARGET_NODE_LABELS_ANNOTATION = 'service.beta.kubernetes.io/aws-load-balancer-target-node-labels';
export const targetNodeLabels = Object.entries(SYSTEM_NODE_LABELS).map(([k, v]) => `${k}=${v}`).join(',');
export const PATHS = {
  app: '/app',
  bundle: '/bundle',
  config: '/etc/runs-fleet/config',
  github: '/etc/runs-fleet/github',
} as const;
const PRIVATE_KEY_FILE = 'private-key.pem';
const APPS_FILE = 'apps.json';

/** One further GitHub App, as `github.apps[]` in the stack config. */
export interface ExtraAppArgs {
  readonly appId: string;
  readonly privateKey: string;
  readonly webhookSecret: string;
  readonly webhookSecretPrevious?: string;
  readonly installations?: readonly number[];
}
const NODE_UID = 1000; // the node image's `node` user
const WEBHOOK_SECRET_KEYS = { current: 'current', previous: 'previous' } as const;

/** Unpacks the gzipped bundle into the writable emptyDir (the root filesystem is read-only). */
const UNPACK = `const fs=require('node:fs'),z=require('node:zlib');` +
  `fs.writeFileSync('${PATHS.app}/${BUNDLE_FILE}',z.gunzipSync(fs.readFileSync('${PATHS.bundle}/${BUNDLE_KEY}')))`;

export interface OrchestratorArgs {
  readonly systemNamespace: pulumi.Input<string>;
  readonly runnerNamespace: pulumi.Input<string>;
  /** Replicas, image and resources (`runs-fleet:orchestrator`). */
  readonly settings: StackConfig['orchestrator'];
  /** The bundled runtime (bundleRuntime). */
  readonly bundle: RuntimeBundle;
  /** The config document ConfigMap (RunnerPlatform), mounted as a directory so updates arrive without a restart. */
  readonly configMapName: pulumi.Input<string>;
  readonly valkeyUrl: pulumi.Input<string>;
  /** The Secret holding Valkey's `password`. */
  readonly valkeySecretName: pulumi.Input<string>;
  /** Valkey replicas an accepted job must reach before the 2xx (0: no replicas). */
  readonly valkeyWaitReplicas: number;
  /**
   * Security groups for the orchestrator's pods (a SecurityGroupPolicy): the cluster's
   * plus the one ElastiCache admits. Unset: pods use the node's security groups.
   */
  readonly podSecurityGroupIds?: pulumi.Input<string>[];
  /** prometheus.io/* annotations on the metrics Service and the pods. */
  readonly scrapeAnnotations: boolean;
  readonly github: {
    readonly appId: string;
    readonly apiUrl: string;
    /** Secret. */
    readonly privateKey: pulumi.Input<string>;
    /** Secret. */
    readonly webhookSecret: pulumi.Input<string>;
    /** Secret; accepted too while a rotation is under way. */
    readonly webhookSecretPrevious?: pulumi.Input<string>;
    /**
     * Secret: further Apps (`github.apps`). When set, every App (the one above first) goes
     * into one apps.json in the key Secret, read through RUNS_FLEET_GITHUB_APPS_FILE.
     */
    readonly extraApps?: pulumi.Input<readonly ExtraAppArgs[]>;
  };
  /** Hostname, certificate and DNS zone of the webhook endpoint (`runs-fleet:webhook`). */
  readonly webhook: StackConfig['webhook'];
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The orchestrator: the runtime bundle shipped in a ConfigMap (named by its hash, so a
 * new bundle is a new ConfigMap and a rolling update) on a pinned Node 24 image, two or
 * more replicas spread over nodes and zones, least-privilege namespaced RBAC, and the
 * webhook behind an NLB that terminates TLS with the ACM certificate (no load balancer
 * controller needed: the cluster's built-in service controller creates it). The NLB
 * forwards the webhook port alone, to system nodes alone; metrics sit on a ClusterIP
 * Service, admitted only from inside the cluster.
 */
export class Orchestrator extends pulumi.ComponentResource {
  readonly webhookUrl: pulumi.Output<string>;
  /** Point the webhook hostname here (CNAME) unless a Route 53 zone was given. */
  readonly loadBalancerHostname: pulumi.Output<string>;
  readonly deploymentName: pulumi.Output<string>;
  /** The ClusterIP Service in front of the metrics port. */
  readonly metricsServiceName: pulumi.Output<string>;

  constructor(name: string, args: OrchestratorArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Orchestrator', name, {}, opts);
    const s = args.settings;
    if (s.replicas < 2) throw new Error(`runs-fleet:orchestrator.replicas must be at least 2 (got ${s.replicas})`);
    const labels = { ...ORCHESTRATOR_LABELS };
    const ns = args.systemNamespace;

    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
      // The orchestrator talks to the API server with its own token.
      metadata: { name: ORCHESTRATOR_NAME, namespace: ns, labels }, automountServiceAccountToken: true,
    }, { parent: this });
    this.bindRole(`${name}-runners`, args.runnerNamespace, RUNNER_NAMESPACE_RULES, ns, labels);
    this.bindRole(`${name}-system`, ns, SYSTEM_NAMESPACE_RULES, ns, labels);
    const nodeReader = new k8s.rbac.v1.ClusterRole(`${name}-node-reader`, {
      metadata: { name: `${ORCHESTRATOR_NAME}-node-reader`, labels }, rules: CLUSTER_RULES.map((r) => ({ ...r })),
    }, { parent: this });
    new k8s.rbac.v1.ClusterRoleBinding(`${name}-node-reader-binding`, {
      metadata: { name: `${ORCHESTRATOR_NAME}-node-reader`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: nodeReader.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: ORCHESTRATOR_NAME, namespace: ns }],
    }, { parent: this });

    // Auto-named Secrets: new values make new Secrets, which roll the Deployment.
    const webhookSecret = new k8s.core.v1.Secret(`${name}-webhook`, {
      metadata: { namespace: ns, labels },
      stringData: {
        [WEBHOOK_SECRET_KEYS.current]: args.github.webhookSecret,
        ...(args.github.webhookSecretPrevious ? { [WEBHOOK_SECRET_KEYS.previous]: args.github.webhookSecretPrevious } : {}),
      },
    }, { parent: this });
    const extraApps = args.github.extraApps;
    // The runtime's apps-file shape (runtime/config/env.ts readAppsFile); secret, like the key.
    const appsJson = extraApps
      ? pulumi.secret(pulumi.all([args.github.privateKey, args.github.webhookSecret, args.github.webhookSecretPrevious, extraApps]).apply(([privateKey, webhookSecret, previous, extra]) =>
        JSON.stringify([
          { appId: args.github.appId, privateKey, webhookSecret, ...(previous ? { previousWebhookSecret: previous } : {}) },
          ...extra.map((a) => ({
            appId: a.appId, privateKey: a.privateKey, webhookSecret: a.webhookSecret,
            ...(a.webhookSecretPrevious ? { previousWebhookSecret: a.webhookSecretPrevious } : {}),
            ...(a.installations ? { installations: a.installations } : {}),
          })),
        ])))
      : undefined;
    const keySecret = new k8s.core.v1.Secret(`${name}-github-app`, {
      metadata: { namespace: ns, labels }, stringData: { [PRIVATE_KEY_FILE]: args.github.privateKey, ...(appsJson ? { [APPS_FILE]: appsJson } : {}) },
    }, { parent: this });
    // With several Apps the list file replaces the single-App variables (the runtime refuses both).
    const appEnv = appsJson
      ? [{ name: 'RUNS_FLEET_GITHUB_APPS_FILE', value: `${PATHS.github}/${APPS_FILE}` }]
      : [
        { name: 'RUNS_FLEET_WEBHOOK_SECRET', valueFrom: { secretKeyRef: { name: webhookSecret.metadata.name, key: WEBHOOK_SECRET_KEYS.current } } },
        {
          name: 'RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS',
          valueFrom: { secretKeyRef: { name: webhookSecret.metadata.name, key: WEBHOOK_SECRET_KEYS.previous, optional: true } },
        },
        { name: 'RUNS_FLEET_GITHUB_APP_ID', value: args.github.appId },
        { name: 'RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE', value: `${PATHS.github}/${PRIVATE_KEY_FILE}` },
      ];
    const bundle = new k8s.core.v1.ConfigMap(`${name}-bundle`, {
      metadata: {
        name: `${ORCHESTRATOR_NAME}-${args.bundle.sha256.slice(0, 12)}`,
        namespace: ns,
        labels,
        annotations: { [INFRA.bundleSha256]: args.bundle.sha256 },
      },
      binaryData: { [BUNDLE_KEY]: args.bundle.gzip.toString('base64') },
    }, { parent: this });

    const env = [
      { name: 'RUNS_FLEET_PORT', value: String(HTTP_PORT) },
      { name: 'RUNS_FLEET_PRIVATE_PORT', value: String(METRICS_PORT) },
      { name: 'RUNS_FLEET_VALKEY_WAIT_REPLICAS', value: String(args.valkeyWaitReplicas) },
      ...appEnv,
      { name: 'RUNS_FLEET_VALKEY_URL', value: args.valkeyUrl },
      { name: 'RUNS_FLEET_VALKEY_PASSWORD', valueFrom: { secretKeyRef: { name: args.valkeySecretName, key: VALKEY_SECRET_KEYS.password } } },
      { name: 'RUNS_FLEET_GITHUB_API_URL', value: args.github.apiUrl },
      { name: 'RUNS_FLEET_RUNNER_NAMESPACE', value: args.runnerNamespace },
      { name: 'RUNS_FLEET_SYSTEM_NAMESPACE', value: ns },
      { name: 'RUNS_FLEET_CONFIG_FILE', value: `${PATHS.config}/${CONFIG_DOCUMENT_KEY}` },
      { name: 'RUNS_FLEET_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'RUNS_FLEET_LOG_LEVEL', value: s.logLevel },
      { name: 'RUNS_FLEET_CONCURRENCY', value: String(s.concurrency) },
      ...Object.entries(ORCHESTRATOR_NODE_ENV).map(([name, value]) => ({ name, value })),
      { name: 'NODE_ENV', value: 'production' },
    ];
    const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/path': '/metrics' };
    const containerSecurity = { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

    const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
      metadata: { name: ORCHESTRATOR_NAME, namespace: ns, labels },
      spec: {
        replicas: s.replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels, annotations: { [INFRA.bundleSha256]: args.bundle.sha256, ...(args.scrapeAnnotations ? scrape : {}) } },
          spec: {
            ...systemPlacement,
            serviceAccountName: sa.metadata.name,
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 60,
            securityContext: {
              runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
            ],
            initContainers: [{
              name: 'unpack',
              image: s.image,
              command: ['node', '-e', UNPACK],
              securityContext: containerSecurity,
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              volumeMounts: [{ name: 'bundle', mountPath: PATHS.bundle, readOnly: true }, { name: 'app', mountPath: PATHS.app }],
            }],
            containers: [{
              name: 'orchestrator',
              image: s.image,
              // Node flags that keep the orchestrator's RSS low (runtime/node-flags.ts, measured by bench/memory.bench.ts).
              command: ['node', ...ORCHESTRATOR_NODE_FLAGS, `${PATHS.app}/${BUNDLE_FILE}`],
              ports: [{ name: 'http', containerPort: HTTP_PORT }, { name: 'metrics', containerPort: METRICS_PORT }],
              env,
              resources: {
                requests: { cpu: `${s.cpuMilli}m`, memory: `${s.memoryMiB}Mi` },
                limits: { cpu: `${Math.max(1000, s.cpuMilli * 4)}m`, memory: `${s.memoryMiB}Mi` },
              },
              startupProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
              securityContext: containerSecurity,
              volumeMounts: [
                { name: 'app', mountPath: PATHS.app, readOnly: true },
                // The directory, not a subPath: kubelet only refreshes whole-volume mounts.
                { name: 'config', mountPath: PATHS.config, readOnly: true },
                { name: 'github-app', mountPath: PATHS.github, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'bundle', configMap: { name: bundle.metadata.name } },
              { name: 'app', emptyDir: { sizeLimit: '64Mi' } },
              { name: 'config', configMap: { name: args.configMapName } },
              { name: 'github-app', secret: { secretName: keySecret.metadata.name, defaultMode: 0o440 } },
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    }, { parent: this });

    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
      metadata: { name: ORCHESTRATOR_NAME, namespace: ns, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    }, { parent: this });

    const service = new k8s.core.v1.Service(`${name}-webhook`, {
      metadata: {
        name: `${ORCHESTRATOR_NAME}-webhook`,
        namespace: ns,
        labels,
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
          'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': args.webhook.certificateArn,
          'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': '443',
          'service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          'service.beta.kubernetes.io/aws-load-balancer-backend-protocol': 'tcp',
          [TARGET_NODE_LABELS_ANNOTATION]: targetNodeLabels,
        },
      },
      spec: {
        type: 'LoadBalancer',
        selector: labels,
        // The webhook port alone: metrics stay on the metrics Service below.
        ports: [{ name: 'https', port: 443, targetPort: 'http', protocol: 'TCP' }],
        loadBalancerSourceRanges: args.webhook.sourceRanges,
      },
    }, { parent: this });

    const metricsService = new k8s.core.v1.Service(`${name}-metrics`, {
      metadata: { name: METRICS_SERVICE, namespace: ns, labels: { ...METRICS_SERVICE_LABELS }, annotations: args.scrapeAnnotations ? scrape : {} },
      spec: { type: 'ClusterIP', selector: labels, ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }] },
    }, { parent: this });

    // Strict network-policy mode starts pods default-deny: this admits what the orchestrator
    // needs. The webhook from anywhere (the NLB's source ranges already filter); metrics
    // from pods of the cluster only; egress to the API server, GitHub, Valkey and DNS.
    new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, {
      metadata: { name: ORCHESTRATOR_NAME, namespace: ns, labels },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: HTTP_PORT }] },
          { from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: METRICS_PORT }] },
        ],
        egress: [{}],
      },
    }, { parent: this });

    if (args.podSecurityGroupIds) {
      new k8s.apiextensions.CustomResource(`${name}-security-groups`, {
        apiVersion: 'vpcresources.k8s.aws/v1beta1',
        kind: 'SecurityGroupPolicy',
        metadata: { name: ORCHESTRATOR_NAME, namespace: ns, labels },
        spec: { podSelector: { matchLabels: labels }, securityGroups: { groupIds: args.podSecurityGroupIds } },
      }, { parent: this });
    }

    this.loadBalancerHostname = service.status.apply((st) => st?.loadBalancer?.ingress?.[0]?.hostname ?? '');
    if (args.webhook.route53ZoneId) {
      new aws.route53.Record(`${name}-dns`, {
        zoneId: args.webhook.route53ZoneId, name: args.webhook.hostname, type: 'CNAME', ttl: 60, records: [this.loadBalancerHostname],
      }, { parent: this });
    }
    this.webhookUrl = pulumi.output(`https://${args.webhook.hostname}/webhook`);
    this.deploymentName = deployment.metadata.name;
    this.metricsServiceName = metricsService.metadata.name;
    this.registerOutputs({ webhookUrl: this.webhookUrl, loadBalancerHostname: this.loadBalancerHostname, deploymentName: this.deploymentName });
  }

  private bindRole(name: string, namespace: pulumi.Input<string>, rules: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[],
    saNamespace: pulumi.Input<string>, labels: Record<string, string>): void {
    const role = new k8s.rbac.v1.Role(`${name}-role`, {
      metadata: { name: ORCHESTRATOR_NAME, namespace, labels }, rules: rules.map((r) => ({ ...r })),
    }, { parent: this });
    new k8s.rbac.v1.RoleBinding(`${name}-binding`, {
      metadata: { name: ORCHESTRATOR_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: ORCHESTRATOR_NAME, namespace: saNamespace }],
    }, { parent: this });
  }
}
