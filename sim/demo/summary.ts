import type { Stage } from '../../runtime/queue/job-records.ts';
import { duration } from './format.ts';
import type { AttemptOutcome, DemoResult } from './run.ts';

/** Nearest-rank percentile of a sample (q in 0..1); undefined for an empty one. */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The stage intervals the summary reports, in the order a job goes through them. */
export const SUMMARY_INTERVALS: readonly { label: string; from: Stage; to: Stage; only?: 'warm' | 'cold' }[] = [
  { label: 'webhook → stored in Valkey', from: 'receivedAt', to: 'enqueuedAt' },
  { label: 'stored → picked up by a consumer', from: 'enqueuedAt', to: 'dequeuedAt' },
  { label: 'picked up → Job created (JIT config, Secret, Job)', from: 'dequeuedAt', to: 'jobCreatedAt' },
  { label: 'webhook → Job created', from: 'receivedAt', to: 'jobCreatedAt' },
  { label: 'Job created → pod scheduled', from: 'jobCreatedAt', to: 'scheduledAt' },
  { label: 'Job created → new node ready (cold)', from: 'jobCreatedAt', to: 'nodeReadyAt', only: 'cold' },
  { label: 'scheduled → runner container running', from: 'scheduledAt', to: 'runningAt' },
  { label: 'webhook → running, warm start', from: 'receivedAt', to: 'runningAt', only: 'warm' },
  { label: 'webhook → running, cold start', from: 'receivedAt', to: 'runningAt', only: 'cold' },
  { label: 'running → GitHub assigns the job', from: 'runningAt', to: 'inProgressAt' },
];

function span(a: AttemptOutcome, from: Stage, to: Stage): number | undefined {
  const x = a.record.stages[from];
  const y = a.record.stages[to];
  return x !== undefined && y !== undefined && y >= x ? y - x : undefined;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

/** The demo's closing report: jobs → runners, warm vs cold, stage latencies, the retry and why. */
export function renderSummary(r: DemoResult): string[] {
  const out: string[] = [];
  const runs = new Set(r.scenario.jobs.map((j) => j.runId)).size;
  out.push('', `Summary: ${r.scenario.jobs.length} jobs in ${runs} workflow runs, ${r.attempts.length} job attempts provisioned by the orchestrator, ${duration(r.endedAt - r.startedAt)} in all`);
  if (r.timedOut) out.push(`  stopped waiting after the time limit; unfinished: ${r.unfinished.join('; ')}`);

  out.push('', 'Jobs → runners');
  out.push(
    ...table(
      ['job', 'try', 'class', 'runner (GitHub)', 'node', 'start', 'webhook→Job', 'webhook→running', 'result'],
      r.attempts.map((a) => [
        a.key, String(a.runAttempt), a.record.className ?? '—', a.record.pickedBy ?? (a.record.runnerName ? `(${a.record.runnerName})` : '—'),
        a.node ? `${a.node.instanceType ?? a.node.name} ${a.node.capacityType ?? ''}`.trim() : '—', a.record.start ?? '—',
        duration(span(a, 'receivedAt', 'jobCreatedAt')), duration(span(a, 'receivedAt', 'runningAt')), result(a),
      ]),
    ),
  );
  out.push('  (runner in parentheses: registered for the job but GitHub never assigned it one)');

  const started = r.attempts.filter((a) => a.record.start);
  const warm = started.filter((a) => a.record.start === 'warm');
  const cold = started.filter((a) => a.record.start === 'cold');
  const med = (xs: AttemptOutcome[]) => duration(percentile(xs.map((a) => span(a, 'receivedAt', 'runningAt')).filter((x): x is number => x !== undefined), 0.5));
  out.push('', 'Warm vs cold starts');
  if (started.length) {
    out.push(`  warm ${warm.length} (on a node that already existed: a preempted placeholder or free room), median webhook → running ${med(warm)}`);
    out.push(`  cold ${cold.length} (waited for a node Karpenter launched for it), median webhook → running ${med(cold)}`);
    out.push(`  placeholders ready before the burst: ${r.placeholdersReady}`);
  } else out.push('  not recorded: no job record carries a start kind (the lifecycle watcher stamps it)');

  out.push('', `Per-stage latency (sim delays × ${r.scenario.timeScale}; orchestrator steps are real time)`);
  const rows = SUMMARY_INTERVALS.map((iv) => {
    const xs = r.attempts
      .filter((a) => !iv.only || a.record.start === iv.only)
      .map((a) => span(a, iv.from, iv.to))
      .filter((x): x is number => x !== undefined);
    return [iv.label, String(xs.length), duration(percentile(xs, 0.5)), duration(percentile(xs, 0.9)), duration(xs.length ? Math.max(...xs) : undefined)];
  });
  out.push(...table(['stage', 'n', 'p50', 'p90', 'max'], rows));
  out.push('  (pod stages come from Kubernetes timestamps, which have whole seconds unless the watcher saw the change live)');

  out.push('', 'Retries');
  const retried = r.attempts.filter((a) => a.record.status === 'infra_rerun' || a.record.status === 'requeued');
  if (r.interruption) {
    const i = r.interruption;
    out.push(`  ${i.key}: its node ${i.node.name} (${i.node.instanceType ?? '?'}, ${i.node.capacityType ?? '?'}) got a spot interruption while the job ran.`);
  }
  for (const a of retried) {
    const next = r.attempts.find((b) => b.key === a.key && b.runAttempt > a.runAttempt);
    const bound = a.record.status === 'infra_rerun' ? `maxInfraRetries ${r.limits.maxInfraRetries}` : `maxReprovisions ${r.limits.maxReprovisions}`;
    out.push(
      `  ${a.key} attempt ${a.runAttempt}: runner lost to ${a.record.failure ?? 'infrastructure'}; GitHub concluded it ${a.conclusion ?? '?'}; ` +
        `the orchestrator ${a.record.status === 'infra_rerun' ? 're-ran the job through GitHub' : 'provisioned it again'} ` +
        `(infrastructure retry ${a.record.infraRetries ?? '1'} of ${bound})` +
        `${next ? ` → attempt ${next.runAttempt}: ${result(next)}` : ' → the retry has not run yet'}.`,
    );
  }
  const why = r.notable.filter((l) => /re-run|provisioned again|lost to infrastructure|waiting for GitHub/i.test(l.msg));
  for (const l of why) out.push(`    orchestrator log: "${l.msg}"${l.why ? ` — why: ${String(l.why)}` : ''}${l.kind ? ` (kind ${String(l.kind)})` : ''}`);
  if (!retried.length) out.push(r.interruption ? '  no retry recorded by the orchestrator (see the log lines above)' : '  none: no runner was lost');
  const m = r.metrics;
  if (Object.keys(m.infraRetries).length || Object.keys(m.recoveryOutcomes).length)
    out.push(`  metrics: runs_fleet_infra_retries_total ${fmt(m.infraRetries)}; runs_fleet_recovery_outcomes_total ${fmt(m.recoveryOutcomes)}`);

  const cancelled = r.attempts.filter((a) => a.conclusion === 'cancelled' || a.record.status === 'cancelled_cleaned');
  out.push('', 'Cancelled');
  if (!cancelled.length) out.push('  none');
  for (const a of cancelled) {
    const left = [a.leftBehind.registeredRunner && 'a registered runner', a.leftBehind.runnerJob && 'a runner Job', a.leftBehind.secret && 'a Secret'].filter(Boolean);
    out.push(`  ${a.key}: cancelled on GitHub before a runner took it; record status ${a.record.status ?? '?'}; ` +
      (left.length ? `LEFT BEHIND: ${left.join(', ')}` : 'no runner, Job or Secret left (checked in GitHub and the cluster)'));
  }

  out.push('', 'GitHub side');
  out.push(`  ${r.github.jitConfigs} JIT runner configs issued, ${r.github.rateLimited} rate-limited calls, ${r.github.deliveries} webhook deliveries (${r.github.failedDeliveries} failed)`);
  const warnings = r.notable.filter((l) => l.level >= 50);
  if (warnings.length) out.push('', 'Orchestrator errors', ...warnings.map((l) => `  ${l.msg}`));
  return out;
}

function result(a: AttemptOutcome): string {
  if (a.deadLetterReason) return `no runner: ${a.deadLetterReason}`;
  if (a.record.status === 'cancelled_cleaned') return 'cancelled, runner removed';
  if (a.record.status === 'infra_rerun') return `${a.conclusion ?? 'failed'} (lost: ${a.record.failure ?? '?'}) → re-run`;
  return a.conclusion ?? a.record.status ?? '?';
}

const fmt = (m: Record<string, number>) => (Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(', ') : '0');
