import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import { alertRules } from './alert-rules.ts';
import type { StackConfig } from './config.ts';
import { grafanaDashboard } from './dashboard.ts';
import { METRICS_PORT, METRICS_SERVICE_LABELS } from './orchestrator.ts';
import { stableStringify } from './stable-json.ts';

export const DASHBOARD_KEY = 'runs-fleet.json';

export interface ObservabilityArgs {
  readonly settings: StackConfig['observability'];
  /** The system namespace (the orchestrator's). */
  readonly namespace: pulumi.Input<string>;
  readonly metricsServiceName: pulumi.Input<string>;
}

/**
 * What an operator would otherwise write by hand, each optional: the Grafana dashboard
 * (a ConfigMap Grafana's sidecar loads by label), Prometheus alert rules (PrometheusRule)
 * and a ServiceMonitor for the metrics Service. The two CRD kinds need the Prometheus
 * Operator (e.g. kube-prometheus-stack); annotation-based scraping needs nothing.
 */
export class Observability extends pulumi.ComponentResource {
  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Observability', name, {}, opts);
    const o = args.settings;
    const labels = { [LABEL.name]: 'runs-fleet-observability', [LABEL.managedBy]: MANAGED_BY };

    if (o.dashboard) {
      new k8s.core.v1.ConfigMap(`${name}-dashboard`, {
        metadata: { name: 'runs-fleet-dashboard', namespace: o.dashboardNamespace ?? args.namespace, labels: { ...labels, ...o.dashboardLabel } },
        data: { [DASHBOARD_KEY]: stableStringify(grafanaDashboard(), 2) },
      }, { parent: this });
    }
    if (o.alerts) {
      new k8s.apiextensions.CustomResource(`${name}-alerts`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'runs-fleet', namespace: args.namespace, labels: { ...labels, ...o.selectorLabels } },
        spec: { groups: [{ name: 'runs-fleet', rules: alertRules(o) }] },
      }, { parent: this });
    }
    if (o.serviceMonitor) {
      new k8s.apiextensions.CustomResource(`${name}-service-monitor`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'runs-fleet', namespace: args.namespace, labels: { ...labels, ...o.selectorLabels } },
        spec: {
          selector: { matchLabels: { ...METRICS_SERVICE_LABELS } },
          endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
        },
      }, { parent: this });
    }
    this.registerOutputs({ metricsPort: METRICS_PORT });
  }
}
