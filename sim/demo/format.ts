import type { SimJob } from '../github/double.ts';
import type { TrackedJob } from './flow.ts';

/** Milliseconds as a short human duration: `38 ms`, `4.2 s`, `1m05s`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** One line for a job reaching a new phase, from what the orchestrator recorded. */
export function formatTransition(job: TrackedJob, gh: SimJob | undefined, now = Date.now()): string {
  const r = job.record;
  const s = r.stages;
  const since = (at: number | undefined) => (at !== undefined && s.receivedAt !== undefined ? duration(at - s.receivedAt) : undefined);
  let detail: string;
  switch (job.phase) {
    case 'queued':
      detail = [gh && `${gh.owner}/${gh.repo}`, gh && `runs-on: ${gh.labels.join(', ')}`].filter(Boolean).join('  ');
      break;
    case 'job created':
      detail = `${r.jobName ?? ''} · ${r.className ?? ''}${r.pool ? ` (pool ${r.pool})` : ''} · ${since(s.jobCreatedAt)} after the webhook`;
      break;
    case 'scheduled':
      detail = `${r.start ? `${r.start} start · ` : ''}${since(s.scheduledAt)} after the webhook`;
      break;
    case 'running':
      detail = `${r.start ? `${r.start} start · ` : ''}pod running ${since(s.runningAt)} after the webhook`;
      break;
    case 'in progress':
      detail = `runner ${r.pickedBy ?? r.runnerName ?? '?'}${r.pickedBy && r.runnerName && r.pickedBy !== r.runnerName ? ` (ours was ${r.runnerName})` : ''}`;
      break;
    case 'completed':
      detail = `${r.conclusion ?? gh?.conclusion ?? ''}${s.inProgressAt && s.finishedAt ? ` after ${duration(s.finishedAt - s.inProgressAt)} of steps` : ''}`;
      break;
    case 'cancelled':
      detail = r.status === 'cancelled_cleaned' ? 'before it started: runner Job and registered runner removed' : 'cancelled';
      break;
    case 'dead-lettered':
      detail = `no runner: ${job.deadLetterReason}`;
      break;
    case 'infra retry':
      detail = `${r.failure ?? 'lost'} → ${r.status === 'infra_rerun' ? `re-run through GitHub (infrastructure retry ${r.infraRetries ?? 1})` : 'provisioned again'}`;
      break;
  }
  return `${clock(now)}  job ${job.jobId}#${job.runAttempt}  ${job.phase.padEnd(13)}  ${detail}`.trimEnd();
}
