import type { ResourceValidationPolicy } from '@pulumi/policy';
import { describe, onType } from './lib/define.ts';
import { asArray, type Json } from './lib/types.ts';

/**
 * The webhook's load balancer is internet-facing (`sourceRanges` defaults to 0.0.0.0/0).
 * It must forward the webhook port alone (metrics and status expose queue depths,
 * rate-limit state and repository-derived labels) and target system nodes only: with
 * every node as a target, each short-lived runner node is registered, deregistered and
 * has its security group edited.
 */

const FIX_SOURCE = 'infra/orchestrator.ts';
const WEBHOOK_TARGETS = new Set<unknown>(['http', 8080, '8080']);
const A = 'service.beta.kubernetes.io/';

const isLoadBalancer = (props: Json) => props.spec?.type === 'LoadBalancer';

export const loadBalancerWebhookOnly: ResourceValidationPolicy = {
  name: 'load-balancer-webhook-only',
  description: 'A LoadBalancer Service forwards only the webhook port (container port "http", 8080); metrics and status stay on a ClusterIP Service.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType('kubernetes:core/v1:Service', (props, args, report) => {
    if (!isLoadBalancer(props)) return args.notApplicable('not a LoadBalancer Service');
    const label = describe('Service', props, args.name);
    for (const port of asArray(props.spec?.ports)) {
      const target = port?.targetPort ?? port?.port;
      if (!WEBHOOK_TARGETS.has(target))
        report(`${label}: the load balancer forwards port ${String(port?.port)} to "${String(target)}", which is not the webhook port, so it is reachable from the internet. ` +
          `Fix: forward only targetPort "http" and serve anything else on a ClusterIP Service (${FIX_SOURCE}).`);
    }
  }),
};

export const loadBalancerSystemTargets: ResourceValidationPolicy = {
  name: 'load-balancer-system-targets',
  description: 'A LoadBalancer Service targets system nodes only (aws-load-balancer-target-node-labels), or pod IPs through the AWS Load Balancer Controller (aws-load-balancer-nlb-target-type: ip).',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  validateResource: onType('kubernetes:core/v1:Service', (props, args, report) => {
    if (!isLoadBalancer(props)) return args.notApplicable('not a LoadBalancer Service');
    const a: Record<string, unknown> = props.metadata?.annotations ?? {};
    const ipTargets = a[`${A}aws-load-balancer-type`] === 'external' && a[`${A}aws-load-balancer-nlb-target-type`] === 'ip';
    const labels = String(a[`${A}aws-load-balancer-target-node-labels`] ?? '').trim();
    if (ipTargets || labels !== '') return;
    report(`${describe('Service', props, args.name)}: the load balancer registers every node, runner nodes included, as a target. ` +
      `Fix: annotate it with ${A}aws-load-balancer-target-node-labels naming the system node label (${FIX_SOURCE}).`);
  }),
};

export const loadBalancerPolicies = [loadBalancerWebhookOnly, loadBalancerSystemTargets];
