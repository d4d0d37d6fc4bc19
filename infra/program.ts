import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { bundleRuntime } from './bundle.ts';
import { Cluster } from './cluster.ts';
import type { StackConfig } from './config.ts';
import { Karpenter } from './karpenter.ts';
import { Network } from './network.ts';
import { NodeIdentity } from './node-identity.ts';
import { Orchestrator, ORCHESTRATOR_LABELS } from './orchestrator.ts';
import { RunnerPlatform } from './platform.ts';
import { ElastiCacheValkey } from './elasticache.ts';
import { Observability } from './observability.ts';
import { Valkey } from './valkey.ts';

export const DEFAULT_RUNTIME_ENTRY = fileURLToPath(new URL('../runtime/main.ts', import.meta.url));

export interface ProgramOptions {
  /** The orchestrator's entry point to bundle; defaults to runtime/main.ts. */
  runtimeEntry?: string;
}

/**
 * The whole deployment, wired component to component: network → runner-node identity →
 * EKS → Karpenter and the runner platform → Valkey → orchestrator. Returns the stack
 * outputs. A function (not top-level code) so tests can evaluate it under mocks, again
 * and again, with different stack configs.
 */
export function program(cfg: StackConfig, options: ProgramOptions = {}) {
  // First, so a runtime that does not bundle fails before anything is planned.
  const bundle = bundleRuntime(options.runtimeEntry ?? DEFAULT_RUNTIME_ENTRY);
  const tags = { 'runs-fleet.io/cluster': cfg.clusterName, ...cfg.tags };

  const network = new Network('network', { network: cfg.network, clusterName: cfg.clusterName, tags });
  const nodeIdentity = new NodeIdentity('runner-nodes', { region: cfg.region, tags });
  const cluster = new Cluster('cluster', {
    clusterName: cfg.clusterName,
    cluster: cfg.cluster,
    region: cfg.region,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
    karpenterNodeRoleArn: nodeIdentity.roleArn,
    podSecurityGroups: cfg.valkey.mode === 'elastiCache',
    tags,
  });
  const onCluster = { providers: [cluster.provider], dependsOn: [cluster] };

  const karpenter = new Karpenter('karpenter', {
    clusterName: cluster.clusterName,
    clusterEndpoint: cluster.endpoint,
    region: cfg.region,
    oidcProviderArn: cluster.oidcProviderArn,
    oidcIssuer: cluster.oidcIssuer,
    nodeRoleArn: nodeIdentity.roleArn,
    instanceProfileName: nodeIdentity.instanceProfileName,
    privateSubnetIds: network.privateSubnetIds,
    securityGroupId: cluster.clusterSecurityGroupId,
    classes: cfg.classes,
    pools: cfg.pools,
    settings: cfg.karpenter,
    prePullImages: cfg.runner.prePullImages,
    tags,
  }, onCluster);

  const platform = new RunnerPlatform('platform', {
    systemNamespace: cfg.namespaces.system,
    runnerNamespace: cfg.namespaces.runners,
    runner: cfg.runner,
    classes: cfg.classes,
    pools: cfg.pools,
    aliases: cfg.aliases,
    vpcCidrs: network.vpcCidrs,
    serviceCidr: cfg.cluster.serviceCidr,
  }, onCluster);

  const valkey = cfg.valkey.mode === 'elastiCache'
    ? new ElastiCacheValkey('valkey', {
      clusterName: cfg.clusterName,
      settings: cfg.valkey.elastiCache,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      namespace: platform.systemNamespace,
      tags,
    }, onCluster)
    : new Valkey('valkey', {
      namespace: platform.systemNamespace,
      settings: cfg.valkey,
      storageClassName: cluster.storageClassName,
      clientLabels: { ...ORCHESTRATOR_LABELS },
    }, onCluster);

  const orchestrator = new Orchestrator('orchestrator', {
    systemNamespace: platform.systemNamespace,
    runnerNamespace: platform.runnerNamespace,
    settings: cfg.orchestrator,
    bundle,
    configMapName: platform.configMapName,
    valkeyUrl: valkey.url,
    valkeySecretName: valkey.secretName,
    valkeyWaitReplicas: valkey instanceof ElastiCacheValkey ? valkey.waitReplicas : 0,
    ...(valkey instanceof ElastiCacheValkey ? { podSecurityGroupIds: [cluster.clusterSecurityGroupId, valkey.clientSecurityGroupId] } : {}),
    scrapeAnnotations: cfg.observability.scrapeAnnotations,
    github: {
      appId: cfg.github.appId,
      apiUrl: cfg.github.apiUrl,
      privateKey: pulumi.secret(cfg.github.privateKey),
      webhookSecret: pulumi.secret(cfg.github.webhookSecret),
      ...(cfg.github.webhookSecretPrevious ? { webhookSecretPrevious: pulumi.secret(cfg.github.webhookSecretPrevious) } : {}),
      ...(cfg.github.apps?.length ? { extraApps: pulumi.secret(cfg.github.apps) } : {}),
    },
    webhook: cfg.webhook,
    tags,
  }, onCluster);

  new Observability('observability', {
    settings: cfg.observability,
    namespace: platform.systemNamespace,
    metricsServiceName: orchestrator.metricsServiceName,
  }, { providers: [cluster.provider], dependsOn: [orchestrator] });

  const dns = cfg.webhook.route53ZoneId
    ? pulumi.output(`managed: CNAME ${cfg.webhook.hostname} in Route 53 zone ${cfg.webhook.route53ZoneId}`)
    : pulumi.interpolate`create a CNAME record ${cfg.webhook.hostname} -> ${orchestrator.loadBalancerHostname}`;

  return {
    /** The GitHub App's webhook URL. */
    webhookUrl: orchestrator.webhookUrl,
    /** The NLB's DNS name. */
    loadBalancerHostname: orchestrator.loadBalancerHostname,
    /** What DNS record the webhook hostname needs. */
    webhookDns: dns,
    /** Settings to enter on the GitHub App's page. */
    githubAppSettings: pulumi.output({
      webhookUrl: orchestrator.webhookUrl,
      contentType: 'application/json',
      webhookSecret: 'the value of runs-fleet:github.webhookSecret (pulumi config get --path runs-fleet:github.webhookSecret)',
      subscribeToEvents: ['Workflow job'],
      permissions: cfg.runner.scope === 'org'
        ? { organization: { 'Self-hosted runners': 'Read and write' }, repository: { Actions: 'Read-only', Checks: 'Read and write', Metadata: 'Read-only' } }
        : { repository: { Administration: 'Read and write', Actions: 'Read-only', Checks: 'Read and write', Metadata: 'Read-only' } },
    }),
    clusterName: cluster.clusterName,
    /** Secret: `pulumi stack output kubeconfig --show-secrets > kubeconfig.json`. */
    kubeconfig: cluster.kubeconfig,
    valkeyEndpoint: valkey.url,
    systemNamespace: platform.systemNamespace,
    runnerNamespace: platform.runnerNamespace,
    nodePools: karpenter.nodePools,
    karpenterInterruptionQueue: karpenter.interruptionQueueName,
    configDocumentSha256: platform.configSha256,
    bundleSha256: bundle.sha256,
  };
}

export type ProgramOutputs = ReturnType<typeof program>;
