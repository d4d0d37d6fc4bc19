import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { LabelAlias, Pool, RunnerClass, RunnerSettings } from '../runtime/config/document.ts';
import { buildPrePullDaemonSet } from '../runtime/controllers/image-warming/build-prepull.ts';
import { INFRA, LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import { CONFIG_DOCUMENT_KEY, renderConfigDocument } from './config-document.ts';
import { POD_SECURITY, priorityClasses, runnerNetworkPolicies, runnerQuotas } from './runner-guardrails.ts';

export const CONFIG_MAP_NAME = 'runs-fleet-config';

export interface RunnerPlatformArgs {
  /** System namespace (orchestrator, Valkey, the config document). */
  readonly systemNamespace: string;
  /** Namespace of runner Jobs and warm-pool placeholders. */
  readonly runnerNamespace: string;
  readonly runner: RunnerSettings;
  readonly classes: readonly RunnerClass[];
  readonly pools: readonly Pool[];
  readonly aliases: readonly LabelAlias[];
  /** Runner pods may not reach these (the VPC). */
  readonly vpcCidrs: pulumi.Input<string[]>;
  /** Runner pods may not reach cluster Services. */
  readonly serviceCidr: string;
}

/**
 * The namespaces and the guard rails around runner pods (Pod Security labels, priority
 * classes, quotas, network policies, a token-less service account) and the rendered
 * config document. The config document ConfigMap keeps a fixed name and is updated in
 * place, so a pool resize reaches the running orchestrator without a restart.
 */
export class RunnerPlatform extends pulumi.ComponentResource {
  readonly systemNamespace: pulumi.Output<string>;
  readonly runnerNamespace: pulumi.Output<string>;
  readonly configMapName: pulumi.Output<string>;
  readonly configSha256: string;

  constructor(name: string, args: RunnerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:RunnerPlatform', name, {}, opts);
    if (args.systemNamespace === args.runnerNamespace) throw new Error('runs-fleet:namespaces.system and .runners must differ');
    const rendered = renderConfigDocument(args);
    const labels = { [LABEL.managedBy]: MANAGED_BY };

    const systemNs = new k8s.core.v1.Namespace(`${name}-system`, {
      metadata: { name: args.systemNamespace, labels: { ...labels, ...POD_SECURITY.system } },
    }, { parent: this });
    const runnerNs = new k8s.core.v1.Namespace(`${name}-runners`, {
      metadata: { name: args.runnerNamespace, labels: { ...labels, ...POD_SECURITY.runners } },
    }, { parent: this });
    const inRunners = { parent: this, dependsOn: [runnerNs] };
    const runnerNsName = runnerNs.metadata.name;

    const pcs = priorityClasses(args.runner);
    new k8s.scheduling.v1.PriorityClass(`${name}-runner-priority`, { ...pcs.runner, metadata: { ...pcs.runner.metadata, labels } }, { parent: this });
    new k8s.scheduling.v1.PriorityClass(`${name}-placeholder-priority`, { ...pcs.placeholder, metadata: { ...pcs.placeholder.metadata, labels } }, { parent: this });

    const quotas = runnerQuotas(args.runner, args.classes, args.pools);
    for (const [kind, spec] of Object.entries(quotas)) {
      new k8s.core.v1.ResourceQuota(`${name}-quota-${kind}`, {
        metadata: { name: `runs-fleet-${kind}`, namespace: runnerNsName, labels }, spec,
      }, inRunners);
    }

    const policies = pulumi.output(args.vpcCidrs).apply((vpcCidrs) => runnerNetworkPolicies({ vpcCidrs, serviceCidr: args.serviceCidr }));
    new k8s.networking.v1.NetworkPolicy(`${name}-deny-ingress`, {
      metadata: { name: 'runs-fleet-deny-ingress', namespace: runnerNsName, labels }, spec: policies.denyIngress,
    }, inRunners);
    new k8s.networking.v1.NetworkPolicy(`${name}-runner-egress`, {
      metadata: { name: 'runs-fleet-runner-egress', namespace: runnerNsName, labels }, spec: policies.egress,
    }, inRunners);

    // Every runner node pulls the runner image as it comes up, so the image-warming reconcile
    // opens a node launched for runners only once the image is there (runtime/controllers/image-warming).
    if (args.runner.prePullImages) {
      const ds = buildPrePullDaemonSet(args.runner, args.runnerNamespace);
      new k8s.apps.v1.DaemonSet(`${name}-image-prepull`, { ...ds, metadata: { ...ds.metadata, namespace: runnerNsName } } as k8s.apps.v1.DaemonSetArgs, inRunners);
    }

    new k8s.core.v1.ServiceAccount(`${name}-runner-sa`, {
      metadata: { name: args.runner.serviceAccountName, namespace: runnerNsName, labels },
      automountServiceAccountToken: false,
    }, inRunners);

    const configMap = new k8s.core.v1.ConfigMap(`${name}-config`, {
      metadata: {
        name: CONFIG_MAP_NAME,
        namespace: systemNs.metadata.name,
        labels,
        annotations: { [INFRA.configSha256]: rendered.sha256 },
      },
      data: { [CONFIG_DOCUMENT_KEY]: rendered.json },
    }, { parent: this, dependsOn: [systemNs] });

    this.systemNamespace = systemNs.metadata.name;
    this.runnerNamespace = runnerNsName;
    this.configMapName = configMap.metadata.name;
    this.configSha256 = rendered.sha256;
    this.registerOutputs({
      systemNamespace: this.systemNamespace, runnerNamespace: this.runnerNamespace, configMapName: this.configMapName, configSha256: this.configSha256,
    });
  }
}
