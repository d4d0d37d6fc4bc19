import type { StackConfig } from './config.ts';
import { promql } from './dashboard.ts';

/**
 * Prometheus alert rules (a PrometheusRule's `spec.groups`). Pure, so thresholds and
 * expressions are unit-tested. Every metric named here is one the orchestrator exports
 * (tests/infra/observability.test.ts checks them against the runtime's registry), except
 * `runs_fleet_runner_version_age_seconds`, exported by the runner-version controller.
 */
export const RUNNER_VERSION_AGE_METRIC = 'runs_fleet_runner_version_age_seconds';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string };
}

export function alertRules(o: StackConfig['observability']): AlertRule[] {
  const p95 = promql({
    kind: 'quantile', metric: 'runs_fleet_job_stage_seconds', q: 0.95, by: [], match: { stage: 'webhook_to_running' }, legend: '',
  }, '15m');
  return [
    {
      alert: 'RunsFleetWebhook5xx',
      // 503 means Valkey could not store a job: GitHub shows failed deliveries that need redelivery.
      expr: 'sum(rate(runs_fleet_webhook_requests_total{status=~"5.."}[5m])) / sum(rate(runs_fleet_webhook_requests_total[5m])) > 0.05',
      for: '10m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'runs-fleet answers more than 5% of webhook deliveries with 5xx',
        description: 'Jobs are not being stored (Valkey unreachable or not replicating). Check Valkey and the orchestrator logs; redeliver failed deliveries from the GitHub App page.',
      },
    },
    {
      alert: 'RunsFleetDeadLetters',
      expr: 'sum(increase(runs_fleet_jobs_dead_lettered_total[15m])) > 0',
      for: '0m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'runs-fleet moved jobs to the dead-letter stream',
        description: 'Jobs failed to provision repeatedly and will not get a runner. `npm run jobs -- dead-letters` lists them with their reason.',
      },
    },
    {
      alert: 'RunsFleetPickupSlow',
      expr: `${p95} > ${o.pickupP95Seconds}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `p95 from webhook to a running runner is above ${o.pickupP95Seconds}s`,
        description: 'Jobs wait long for a runner: node provisioning (capacity, NodePool limits) or a cold warm pool. See the "Pickup latency p95 by stage" panel.',
      },
    },
    {
      alert: 'RunsFleetRateLimitWaits',
      expr: 'sum(rate(runs_fleet_github_rate_limit_waits_total[15m])) > 0',
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'runs-fleet keeps waiting for GitHub rate limits',
        description: 'Provisioning is paced by GitHub\'s primary or secondary limits for 15 minutes. Check the "GitHub budget remaining" panel; spread load over more installations or lower concurrency.',
      },
    },
    {
      alert: 'RunsFleetNoLeader',
      // `or vector(0)`: fires also when no replica reports at all.
      expr: '(sum(runs_fleet_leader_is_leader) or vector(0)) < 1',
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No runs-fleet replica holds the leader Lease',
        description: 'Warm pools, recovery and sweeps are not running. Check the orchestrator pods and their access to the Lease in the system namespace.',
      },
    },
    {
      alert: 'RunsFleetRunnerVersionOld',
      expr: `max(${RUNNER_VERSION_AGE_METRIC}) > ${o.runnerVersionMaxAgeDays * 86_400}`,
      for: '1h',
      labels: { severity: 'warning' },
      annotations: {
        summary: `The runner image is older than ${o.runnerVersionMaxAgeDays} days`,
        // GitHub: a self-hosted runner that is not updated within 30 days of a release stops receiving jobs.
        description: 'GitHub stops sending jobs to runner versions more than 30 days behind the latest release. Update runs-fleet:runner.image.',
      },
    },
  ];
}
